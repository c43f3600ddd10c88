// Chat history of the web app: each person's chats, their titles and message trees. A chat
// someone else owns reads as missing. Temporary chats ("history off") are never listed and are
// deleted 30 days after they last changed.
//
// This is the first increment's store; when web chats become Assistants threads (one engine, as
// DESIGN.md says) this service is what gets replaced, not the web app's screens.

import { InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { Chat, ChatMessage, ChatSummary, ChatUpdate } from '../storage/repositories/chats-repository.js';
import type { Repositories } from '../storage/repositories.js';

export interface ChatsService {
  list(params: {
    accountId: string;
    limit: number;
    after?: string | undefined;
    search?: string | undefined;
  }): Promise<{ readonly data: readonly ChatSummary[]; readonly hasMore: boolean }>;
  get(accountId: string, chatId: string): Promise<Chat>;
  create(params: {
    accountId: string;
    title?: string | undefined;
    temporary?: boolean | undefined;
    model?: string | null | undefined;
    messages?: readonly ChatMessage[] | undefined;
    currentNodeId?: string | null | undefined;
  }): Promise<Chat>;
  update(accountId: string, chatId: string, changes: ChatUpdate): Promise<Chat>;
  delete(accountId: string, chatId: string): Promise<void>;
  /** Deletes temporary chats older than the retention; returns how many. */
  deleteExpiredTemporary(): Promise<number>;
}

export const TEMPORARY_CHAT_RETENTION_SECONDS = 30 * 24 * 60 * 60;
export const CHAT_TITLE_MAX_LENGTH = 200;
export const CHAT_MAX_MESSAGES = 10_000;
/** All messages of one chat together, in characters. */
export const CHAT_MAX_CONTENT_LENGTH = 8_000_000;
const DEFAULT_TITLE = 'New chat';

export function createChatsService({
  repositories,
  now = () => Math.floor(Date.now() / 1000),
}: {
  repositories: Repositories;
  now?: () => number;
}): ChatsService {
  const notFound = (chatId: string) =>
    new NotFoundError(`No chat with id '${chatId}'.`, { param: 'chat_id' });

  return {
    list({ accountId, limit, after = undefined, search = undefined }) {
      return repositories.chats.list({ accountId, limit, after, search });
    },

    async get(accountId, chatId) {
      const chat = await repositories.chats.find(accountId, chatId);
      if (!chat) throw notFound(chatId);
      return chat;
    },

    create({ accountId, title, temporary = false, model = null, messages = [], currentNodeId = null }) {
      checkTree(messages, currentNodeId);
      return repositories.chats.create({
        accountId,
        title: normalizeTitle(title),
        temporary,
        model,
        messages,
        currentNodeId: currentNodeId ?? messages.at(-1)?.id ?? null,
      });
    },

    async update(accountId, chatId, changes) {
      const existing = await repositories.chats.find(accountId, chatId);
      if (!existing) throw notFound(chatId);
      const messages = changes.messages ?? existing.messages;
      const currentNodeId =
        changes.currentNodeId !== undefined
          ? changes.currentNodeId
          : changes.messages !== undefined
            ? (messages.at(-1)?.id ?? null)
            : existing.currentNodeId;
      checkTree(messages, currentNodeId);
      const updated = await repositories.chats.update(accountId, chatId, {
        ...changes,
        ...(changes.title !== undefined ? { title: normalizeTitle(changes.title) } : {}),
        currentNodeId,
      });
      if (!updated) throw notFound(chatId);
      return updated;
    },

    async delete(accountId, chatId) {
      if (!(await repositories.chats.delete(accountId, chatId))) throw notFound(chatId);
    },

    deleteExpiredTemporary() {
      return repositories.chats.deleteTemporaryBefore(now() - TEMPORARY_CHAT_RETENTION_SECONDS);
    },
  };
}

function normalizeTitle(title: string | undefined): string {
  const trimmed = (title ?? '').replace(/\s+/g, ' ').trim();
  if (trimmed.length > CHAT_TITLE_MAX_LENGTH) {
    throw new InvalidRequestError(`A chat title has at most ${CHAT_TITLE_MAX_LENGTH} characters.`, {
      param: 'title',
    });
  }
  return trimmed || DEFAULT_TITLE;
}

/**
 * The messages must form a tree listed parents first (so there can be no cycle), with unique ids,
 * and the current node must be one of them.
 */
function checkTree(messages: readonly ChatMessage[], currentNodeId: string | null | undefined): void {
  if (messages.length > CHAT_MAX_MESSAGES) {
    throw new PayloadTooLargeError(`A chat has at most ${CHAT_MAX_MESSAGES} messages.`);
  }
  let length = 0;
  const seen = new Set<string>();
  for (const [index, message] of messages.entries()) {
    if (seen.has(message.id)) {
      throw new InvalidRequestError(`Duplicate message id '${message.id}'.`, {
        param: `messages[${index}].id`,
      });
    }
    if (message.parentId !== null && !seen.has(message.parentId)) {
      throw new InvalidRequestError(
        `The parent '${message.parentId}' must be listed before message '${message.id}'.`,
        { param: `messages[${index}].parent_id` },
      );
    }
    seen.add(message.id);
    length += message.content.length;
  }
  if (length > CHAT_MAX_CONTENT_LENGTH) {
    throw new PayloadTooLargeError(`A chat holds at most ${CHAT_MAX_CONTENT_LENGTH} characters of messages.`);
  }
  if (currentNodeId != null && !seen.has(currentNodeId)) {
    throw new InvalidRequestError(`No message '${currentNodeId}' in this chat.`, {
      param: 'current_node_id',
    });
  }
}
