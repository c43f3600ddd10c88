// The app's few routes on the History API, without a router library: `/` (new chat),
// `/c/<chat id>`, `/settings/<tab>`, `/sign-in`, `/sign-up`.
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
  | { readonly name: 'sign-in' }
  | { readonly name: 'sign-up' };

export function parseRoute(pathname: string): Route {
  const chat = /^\/c\/([A-Za-z0-9_-]+)\/?$/.exec(pathname);
  if (chat?.[1]) return { name: 'chat', chatId: chat[1] };
  const settings = /^\/settings(?:\/([a-z-]+))?\/?$/.exec(pathname);
  if (settings) return { name: 'settings', tab: settings[1] ?? 'general' };
  if (pathname === '/sign-in') return { name: 'sign-in' };
  if (pathname === '/sign-up') return { name: 'sign-up' };
  return { name: 'new-chat' };
}
