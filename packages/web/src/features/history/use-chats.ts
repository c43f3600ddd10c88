// The history list (pages of 40, newest first, optionally filtered by a search) and the changes
// made from the sidebar, with the cache updated at once so the list never lags behind.
import { type InfiniteData, useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { type ChatSummary, deleteChat, listChats, renameChat } from '../chat/chat-api';

type Page = Awaited<ReturnType<typeof listChats>>;

export function useChatHistory(search: string) {
  return useInfiniteQuery({
    queryKey: ['chats', search],
    queryFn: ({ pageParam }) => listChats({ search, after: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.hasMore && last.lastId ? last.lastId : undefined),
    staleTime: 30_000,
  });
}

function patchCached(
  queryClient: ReturnType<typeof useQueryClient>,
  change: (chat: ChatSummary) => ChatSummary | null,
): void {
  queryClient.setQueriesData<InfiniteData<Page>>({ queryKey: ['chats'] }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            chats: page.chats.flatMap((chat) => {
              const next = change(chat);
              return next ? [next] : [];
            }),
          })),
        }
      : data,
  );
}

export function useRenameChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ chatId, title }: { chatId: string; title: string }) => renameChat(chatId, title),
    onSuccess: (renamed) =>
      patchCached(queryClient, (chat) => (chat.id === renamed.id ? { ...chat, title: renamed.title } : chat)),
  });
}

export function useDeleteChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (chatId: string) => deleteChat(chatId),
    onSuccess: (_result, chatId) => patchCached(queryClient, (chat) => (chat.id === chatId ? null : chat)),
  });
}
