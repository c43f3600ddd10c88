// Keeps this page in step with the person's other tabs and devices: one `GET /api/events` stream
// (EventSource, which reconnects by itself) tells of chats created, changed or deleted elsewhere
// and of changed preferences. The history list refetches, the open chat reloads (the chat
// controller listens through `onChatEvent`), preferences apply at once. Events this tab caused
// itself (its `X-Atelier-Tab`) are skipped. After a reconnect everything is fetched again, since
// events sent meanwhile were missed.
import { type InfiniteData, type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { TAB_ID } from '../../api/http';
import type { Preferences, SessionState } from '../../api/types';
import { SESSION_KEY } from '../auth/use-session';
import type { ChatSummary } from '../chat/chat-api';

export type ChatEvent =
  | { readonly type: 'updated'; readonly chatId: string; readonly changes: readonly string[] }
  | { readonly type: 'deleted'; readonly chatId: string }
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

export function useLiveSync(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const source = new EventSource('/api/events');
    let connectedBefore = false;
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
    source.addEventListener('preferences.updated', (message) => {
      const preferences = read(message)?.preferences;
      if (!preferences) return;
      queryClient.setQueryData<SessionState>(SESSION_KEY, (session) =>
        session?.authenticated ? { ...session, preferences } : session,
      );
    });
    return () => source.close();
  }, [queryClient]);
}
