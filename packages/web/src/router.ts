// The app's few routes on the History API, without a router library: `/` (new chat),
// `/c/<chat id>`, `/settings/<tab>`, `/playground[/<assistant id>|/new]`, `/gpts`, `/gpts/new`,
// `/gpts/<id>/edit`, `/g/<id>`, `/g/shared/<token>`, `/sign-in`, `/sign-up`.
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

export function navigate(path: string, { replace = false }: { replace?: boolean } = {}): void {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  notify();
}

export function usePathname(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => window.location.pathname,
  );
}

export type Route =
  | { readonly name: 'new-chat' }
  | { readonly name: 'chat'; readonly chatId: string }
  | { readonly name: 'settings'; readonly tab: string }
  /** The Assistants playground; `assistantId` null: the newest assistant (or a new one). */
  | { readonly name: 'playground'; readonly assistantId: string | null }
  /** Explore GPTs: the person's own, their workspace's and public ones. */
  | { readonly name: 'gpts' }
  /** The GPT builder; `gptId` null: a new GPT (`/gpts/new`). */
  | { readonly name: 'gpt-editor'; readonly gptId: string | null }
  /** A GPT's chat, by id (`/g/<id>`) or by its share link (`/g/shared/<token>`). */
  | { readonly name: 'gpt'; readonly gptId: string | null; readonly linkToken: string | null }
  | { readonly name: 'sign-in' }
  | { readonly name: 'sign-up' };

export function parseRoute(pathname: string): Route {
  const chat = /^\/c\/([A-Za-z0-9_-]+)\/?$/.exec(pathname);
  if (chat?.[1]) return { name: 'chat', chatId: chat[1] };
  const settings = /^\/settings(?:\/([a-z-]+))?\/?$/.exec(pathname);
  if (settings) return { name: 'settings', tab: settings[1] ?? 'general' };
  const playground = /^\/playground(?:\/([A-Za-z0-9_-]+))?\/?$/.exec(pathname);
  if (playground) return { name: 'playground', assistantId: playground[1] ?? null };
  if (/^\/gpts\/?$/.test(pathname)) return { name: 'gpts' };
  if (/^\/gpts\/new\/?$/.test(pathname)) return { name: 'gpt-editor', gptId: null };
  const gptEditor = /^\/gpts\/([A-Za-z0-9_-]+)\/edit\/?$/.exec(pathname);
  if (gptEditor?.[1]) return { name: 'gpt-editor', gptId: gptEditor[1] };
  const sharedGpt = /^\/g\/shared\/([A-Za-z0-9]+)\/?$/.exec(pathname);
  if (sharedGpt?.[1]) return { name: 'gpt', gptId: null, linkToken: sharedGpt[1] };
  const gpt = /^\/g\/([A-Za-z0-9_-]+)\/?$/.exec(pathname);
  if (gpt?.[1]) return { name: 'gpt', gptId: gpt[1], linkToken: null };
  if (pathname === '/sign-in') return { name: 'sign-in' };
  if (pathname === '/sign-up') return { name: 'sign-up' };
  return { name: 'new-chat' };
}
