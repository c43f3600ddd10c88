// Web chats and their messages, until chats become Assistants threads. A chat belongs to one
// account and every query is scoped by it: another person's chat reads as missing. Messages are
// a tree kept as one JSON array (each names its parent), so a regenerated answer or an edited
// question starts a branch and the old one stays.

import { randomBase62 } from '@atelier/protocol';
import { type Kysely, type Selectable, sql } from 'kysely';
import { InvalidRequestError } from '../../errors.js';
import type { ChatsTable } from '../accounts-sessions-schema.js';
import { type Clock, systemClock } from '../clock.js';
import type { DatabaseSchema } from '../schema.js';
import { nextSequence } from '../sortable-id.js';

export type ChatRole = 'user' | 'assistant';

export interface ChatMessage {
  readonly id: string;
  readonly parentId: string | null;
  readonly role: ChatRole;
  readonly content: string;
  /** The model that wrote an answer. */
  readonly model: string | null;
  /** complete, or how an answer ended early. */
  readonly status: 'complete' | 'stopped' | 'failed';
  readonly createdAt: number;
}

export interface ChatSummary {
  readonly id: string;
  readonly title: string;
  readonly temporary: boolean;
  readonly model: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Chat extends ChatSummary {
  readonly accountId: string;
  readonly messages: readonly ChatMessage[];
  readonly currentNodeId: string | null;
}

export interface ChatCreateParams {
  readonly accountId: string;
  readonly title: string;
  readonly temporary?: boolean;
  readonly model?: string | null;
  readonly messages?: readonly ChatMessage[];
  readonly currentNodeId?: string | null;
}

export interface ChatUpdate {
  readonly title?: string;
  readonly model?: string | null;
  readonly messages?: readonly ChatMessage[];
  readonly currentNodeId?: string | null;
}

export interface ChatListParams {
  readonly accountId: string;
  readonly limit: number;
  /** The id of the last chat of the previous page. */
  readonly after?: string | undefined;
  /** Case-insensitive substring of the title or of any message. */
  readonly search?: string | undefined;
}

export interface ChatsRepository {
  create(params: ChatCreateParams): Promise<Chat>;
  find(accountId: string, id: string): Promise<Chat | null>;
  /** Chats that are not temporary, most recently changed first. */
  list(params: ChatListParams): Promise<{ readonly data: readonly ChatSummary[]; readonly hasMore: boolean }>;
  /** null when the account has no such chat. */
  update(accountId: string, id: string, changes: ChatUpdate): Promise<Chat | null>;
  delete(accountId: string, id: string): Promise<boolean>;
  /** Deletes every temporary chat last changed before `at`. */
  deleteTemporaryBefore(at: number): Promise<number>;
}

const CHAT_ID_PREFIX = 'chat_';

export function createChatsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): ChatsRepository {
  async function find(accountId: string, id: string): Promise<Chat | null> {
    const row = await db
      .selectFrom('chats')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toChat(row) : null;
  }

  return {
    async create({ accountId, title, temporary = false, model = null, messages = [], currentNodeId = null }) {
      const at = now();
      const row = {
        id: CHAT_ID_PREFIX + randomBase62(24),
        account_id: accountId,
        title,
        temporary: temporary ? 1 : 0,
        model,
        messages: JSON.stringify(messages),
        current_node_id: currentNodeId,
        content_text: contentText(messages),
        created_at: at,
        updated_at: at,
        updated_seq: nextSequence(),
      };
      await db.insertInto('chats').values(row).execute();
      return toChat(row);
    },

    find,

    async list({ accountId, limit, after = undefined, search = undefined }) {
      let query = db
        .selectFrom('chats')
        .select(['id', 'title', 'temporary', 'model', 'created_at', 'updated_at'])
        .where('account_id', '=', accountId)
        .where('temporary', '=', 0);
      if (after !== undefined) {
        const cursor = await db
          .selectFrom('chats')
          .select(['updated_seq'])
          .where('id', '=', after)
          .where('account_id', '=', accountId)
          .executeTakeFirst();
        if (!cursor) {
          throw new InvalidRequestError(`Invalid 'after': no chat '${after}' in this list.`, {
            param: 'after',
          });
        }
        // Two processes may rarely share a sequence number: the id breaks the tie.
        query = query.where((eb) =>
          eb.or([
            eb('updated_seq', '<', cursor.updated_seq),
            eb.and([eb('updated_seq', '=', cursor.updated_seq), eb('id', '<', after)]),
          ]),
        );
      }
      if (search !== undefined && search.trim() !== '') {
        const pattern = `%${escapeLike(search.trim().toLowerCase())}%`;
        query = query.where(
          sql<boolean>`(lower(title) like ${pattern} escape '\\' or lower(content_text) like ${pattern} escape '\\')`,
        );
      }
      const rows = await query
        .orderBy('updated_seq', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      return { data: rows.slice(0, limit).map(toSummary), hasMore: rows.length > limit };
    },

    async update(accountId, id, changes) {
      const values: {
        updated_at: number;
        updated_seq: number;
        title?: string;
        model?: string | null;
        current_node_id?: string | null;
        messages?: string;
        content_text?: string;
      } = { updated_at: now(), updated_seq: nextSequence() };
      if (changes.title !== undefined) values.title = changes.title;
      if (changes.model !== undefined) values.model = changes.model;
      if (changes.currentNodeId !== undefined) values.current_node_id = changes.currentNodeId;
      if (changes.messages !== undefined) {
        values.messages = JSON.stringify(changes.messages);
        values.content_text = contentText(changes.messages);
      }
      const result = await db
        .updateTable('chats')
        .set(values)
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return null;
      return find(accountId, id);
    },

    async delete(accountId, id) {
      const result = await db
        .deleteFrom('chats')
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async deleteTemporaryBefore(at) {
      const result = await db
        .deleteFrom('chats')
        .where('temporary', '=', 1)
        .where('updated_at', '<', at)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function contentText(messages: readonly ChatMessage[]): string {
  return messages.map((message) => message.content).join('\n');
}

/** `%`, `_` and `\` match themselves (the query says `escape '\'`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function toSummary(
  row: Pick<Selectable<ChatsTable>, 'id' | 'title' | 'temporary' | 'model' | 'created_at' | 'updated_at'>,
): ChatSummary {
  return {
    id: row.id,
    title: row.title,
    temporary: Number(row.temporary) === 1,
    model: row.model,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toChat(row: Selectable<ChatsTable>): Chat {
  return {
    ...toSummary(row),
    accountId: row.account_id,
    messages: parseMessages(row.messages),
    currentNodeId: row.current_node_id,
  };
}

/** Defensive: a row written by a newer version must not crash an older one. */
function parseMessages(text: string): readonly ChatMessage[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as ChatMessage[]) : [];
  } catch {
    return [];
  }
}
