// Keeps this page in step with the person's other tabs and devices: one `GET /api/events` stream
// (EventSource, which reconnects by itself) tells of chats created, changed or deleted elsewhere,
// of the words of answers being written elsewhere, and of changed preferences. The history list
// refetches, the open chat reloads or grows its answer (the chat controller listens through
// `onChatEvent`), preferences apply at once. Events this tab caused itself (its `X-Atelier-Tab`)
// are skipped. After a reconnect everything is fetched again, since events sent meanwhile were
// missed. When the session ends (signed out elsewhere, expired), the page shows the sign-in page.
import { type InfiniteData, type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { SIGNED_OUT_EVENT, TAB_ID } from '../../api/http';
import type { Preferences, SessionState } from '../../api/types';
import { SESSION_KEY } from '../auth/use-session';
import type { ChatSummary } from '../chat/chat-api';

export type ChatEvent =
  | { readonly type: 'updated'; readonly chatId: string; readonly changes: readonly string[] }
  | { readonly type: 'deleted'; readonly chatId: string }
  /** More of an answer being written elsewhere: `text` goes at `offset` of its text. */
  | {
      readonly type: 'answer-delta';
      readonly chatId: string;
      readonly messageId: string;
      readonly offset: number;
      readonly text: string;
    }
  /** The stream came back after a gap: whatever is on screen may be stale. */
  | { readonly type: 'resync' };

const listeners = new Set<(event: ChatEvent) => void>();

/** Calls `listener` with each change another tab or device made; returns the unsubscribe. */
export function onChatEvent(listener: (event: ChatEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(event: ChatEvent): void {
  for (const listener of [...listeners]) listener(event);
}

interface Envelope {
  readonly origin?: string | null;
  readonly chat?: { readonly id: string };
  readonly id?: string;
  readonly changes?: readonly string[];
  readonly preferences?: Preferences;
  readonly chat_id?: string;
  readonly message_id?: string;
  readonly offset?: number;
  readonly delta?: string;
}

function read(message: MessageEvent): Envelope | null {
  try {
    const data = JSON.parse(String(message.data)) as Envelope;
    return data.origin === TAB_ID ? null : data;
  } catch {
    return null;
  }
}

type HistoryPage = { readonly chats: readonly ChatSummary[] };

function refetchHistory(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: ['chats'] });
}

/** After the stream was refused or its session ended, when to try again (if still signed in). */
const REOPEN_DELAY_MS = 5000;

export function useLiveSync(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    let source: EventSource | undefined;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    let connectedBefore = false;
    /**
     * The session may be over: the page asks who is signed in (the sign-in page if nobody), and
     * the stream opens again a little later (with the browser's session now, if it has one).
     */
    const sessionInDoubt = () => {
      source?.close();
      window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
      clearTimeout(reopen);
      reopen = setTimeout(open, REOPEN_DELAY_MS);
    };
    const open = () => {
      source = new EventSource('/api/events');
      listen(source);
      // A stream that dropped is reopened by the browser itself; one refused (401) is not.
      source.addEventListener('error', (event) => {
        if ((event.target as EventSource).readyState === EventSource.CLOSED) sessionInDoubt();
      });
      // Signed out (here or elsewhere), expired, or ended by a sign-in elsewhere in this browser.
      source.addEventListener('session.ended', sessionInDoubt);
    };
    const listen = (source: EventSource) => {
      source.addEventListener('ready', () => {
        if (connectedBefore) {
          refetchHistory(queryClient);
          emit({ type: 'resync' });
        }
        connectedBefore = true;
      });
      source.addEventListener('chat.created', (message) => {
        if (read(message)) refetchHistory(queryClient);
      });
      source.addEventListener('chat.updated', (message) => {
        const data = read(message);
        if (!data?.chat) return;
        refetchHistory(queryClient);
        emit({ type: 'updated', chatId: data.chat.id, changes: data.changes ?? [] });
      });
      source.addEventListener('chat.deleted', (message) => {
        const data = read(message);
        if (!data?.id) return;
        const chatId = data.id;
        // Gone from the list at once; the refetch confirms.
        queryClient.setQueriesData<InfiniteData<HistoryPage>>({ queryKey: ['chats'] }, (cached) =>
          cached
            ? {
                ...cached,
                pages: cached.pages.map((page) => ({
                  ...page,
                  chats: page.chats.filter((chat) => chat.id !== chatId),
                })),
              }
            : cached,
        );
        refetchHistory(queryClient);
        emit({ type: 'deleted', chatId });
      });
      source.addEventListener('chat.answer.delta', (message) => {
        const data = read(message);
        if (!data?.chat_id || !data.message_id || typeof data.offset !== 'number' || !data.delta) return;
        emit({
          type: 'answer-delta',
          chatId: data.chat_id,
          messageId: data.message_id,
          offset: data.offset,
          text: data.delta,
        });
      });
      source.addEventListener('preferences.updated', (message) => {
        const preferences = read(message)?.preferences;
        if (!preferences) return;
        queryClient.setQueryData<SessionState>(SESSION_KEY, (session) =>
          session?.authenticated ? { ...session, preferences } : session,
        );
      });
    };
    open();
    return () => {
      clearTimeout(reopen);
      source?.close();
    };
  }, [queryClient]);
}
