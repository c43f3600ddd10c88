// Web chats: each person's message trees. A chat belongs to one account and every query is
// scoped by it: another person's chat reads as missing. The tree is kept as one JSON array (each
// message names its parent), so a regenerated answer or an edited question starts a branch and
// the old one stays; the engine's copy of each branch lives in Assistants threads, which the
// messages name (see docs/decisions/2026-11-25-web-chat-on-runs.md).

import { isGptId, randomBase62 } from '@atelier/protocol';
import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';
import { InvalidRequestError } from '../../errors.js';
import type { ChatsTable } from '../accounts-sessions-schema.js';
import type { Attachment, HeldCall, MessageContent } from '../assistants-domain.js';
import { type Clock, systemClock } from '../clock.js';
import { inTransaction } from '../in-transaction.js';
import type { DatabaseSchema } from '../schema.js';
import { nextSequence } from '../sortable-id.js';

export type ChatRole = 'user' | 'assistant';

/**
 * complete; how an answer ended early; in_progress while its run is going; or pending: its run
 * stopped at a GPT's action call that waits for the person's answer (consent or sign-in).
 */
export type ChatMessageStatus = 'complete' | 'stopped' | 'failed' | 'in_progress' | 'pending';

export interface ChatMessage {
  readonly id: string;
  readonly parentId: string | null;
  readonly role: ChatRole;
  /** The text (for search, titles, and what older chats hold alone). */
  readonly content: string;
  /** The model that wrote an answer. */
  readonly model: string | null;
  readonly status: ChatMessageStatus;
  readonly createdAt: number;
  /** The message as the engine has it: text with its annotations, images. Absent: `content`. */
  readonly parts?: readonly MessageContent[] | undefined;
  /** A question's files, for the built-in tools. */
  readonly attachments?: readonly Attachment[] | undefined;
  /** The thread the message was written to, and the run that wrote an answer. */
  readonly threadId?: string | null | undefined;
  readonly runId?: string | null | undefined;
  /** Why an answer failed. */
  readonly error?: string | null | undefined;
  /** An answer waiting for the person (`status: 'pending'`): the calls its run held back. */
  readonly pendingActions?: readonly HeldCall[] | undefined;
}

export interface ChatSummary {
  readonly id: string;
  readonly title: string;
  readonly temporary: boolean;
  readonly model: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The GPT the chat talks to (its runs use it as their assistant); null: a plain chat. */
  readonly gptId: string | null;
}

export interface Chat extends ChatSummary {
  readonly accountId: string;
  readonly messages: readonly ChatMessage[];
  readonly currentNodeId: string | null;
  /** Where its threads live, and the assistant its runs use (null before the first run). */
  readonly workspaceId: string | null;
  readonly assistantId: string | null;
}

export interface ChatCreateParams {
  readonly accountId: string;
  readonly title: string;
  readonly temporary?: boolean;
  readonly model?: string | null;
  readonly messages?: readonly ChatMessage[];
  readonly currentNodeId?: string | null;
  /** A chat with a GPT: its id (`g-…`), the assistant of every run. */
  readonly assistantId?: string | null;
}

export interface ChatUpdate {
  readonly title?: string;
  readonly model?: string | null;
  readonly messages?: readonly ChatMessage[];
  readonly currentNodeId?: string | null;
  readonly workspaceId?: string | null;
  readonly assistantId?: string | null;
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
  /**
   * Reads the chat, lets `change` decide what to write from it, and writes it, with nobody else
   * writing the chat in between (the row is locked). `change` returning null writes nothing.
   * null when the account has no such chat.
   */
  modify(accountId: string, id: string, change: (chat: Chat) => ChatUpdate | null): Promise<Chat | null>;
  delete(accountId: string, id: string): Promise<boolean>;
  /** Deletes every temporary chat created before `at`. */
  deleteTemporaryBefore(at: number): Promise<number>;
  /** Temporary chats created before `at`, oldest first (the sweep deletes their threads too). */
  listTemporaryBefore(at: number, limit: number): Promise<Chat[]>;
  /** The assistant plain web chats of a workspace use, if one was made. */
  findDefaultAssistant(workspaceId: string): Promise<string | null>;
  /** Remembers it, unless another was remembered first; returns the one kept. */
  saveDefaultAssistant(workspaceId: string, assistantId: string): Promise<string>;
  /** Replaces the remembered one (it was deleted through the API). */
  replaceDefaultAssistant(workspaceId: string, assistantId: string): Promise<void>;
  /**
   * Chats that may be used for training, by id after `after` (changed at or after `since`, Unix
   * seconds): never a temporary one, nor one of an account whose "chat history & training" is
   * off, nor a conversation with a GPT whose builder does not allow training (or whose choice was
   * not recorded). Their threads are checked apart: `threadsBarredFromTraining`.
   */
  listForTraining(params: {
    readonly after?: string | undefined;
    readonly since?: number | undefined;
    readonly limit: number;
  }): Promise<Chat[]>;
  /** Every chat of the account, temporary ones too, whole, by id after `after` (its data export). */
  listAllOf(params: {
    readonly accountId: string;
    readonly after?: string | undefined;
    readonly limit: number;
  }): Promise<Chat[]>;
  /** Those of `threadIds` that are conversations with a GPT whose builder does not allow training. */
  threadsBarredFromTraining(threadIds: readonly string[]): Promise<ReadonlySet<string>>;
}

const CHAT_ID_PREFIX = 'chat_';

export function createChatsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): ChatsRepository {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  async function find(
    accountId: string,
    id: string,
    from: Kysely<DatabaseSchema> = db,
  ): Promise<Chat | null> {
    const row = await from
      .selectFrom('chats')
      .selectAll()
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? toChat(row) : null;
  }

  async function write(
    from: Kysely<DatabaseSchema>,
    accountId: string,
    id: string,
    changes: ChatUpdate,
  ): Promise<Chat | null> {
    const values: {
      updated_at: number;
      updated_seq: number;
      title?: string;
      model?: string | null;
      current_node_id?: string | null;
      messages?: string;
      content_text?: string;
      workspace_id?: string | null;
      assistant_id?: string | null;
    } = { updated_at: now(), updated_seq: nextSequence() };
    if (changes.title !== undefined) values.title = changes.title;
    if (changes.model !== undefined) values.model = changes.model;
    if (changes.currentNodeId !== undefined) values.current_node_id = changes.currentNodeId;
    if (changes.workspaceId !== undefined) values.workspace_id = changes.workspaceId;
    if (changes.assistantId !== undefined) values.assistant_id = changes.assistantId;
    if (changes.messages !== undefined) {
      values.messages = JSON.stringify(changes.messages);
      values.content_text = contentText(changes.messages);
    }
    const result = await from
      .updateTable('chats')
      .set(values)
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return null;
    return find(accountId, id, from);
  }

  return {
    async create({
      accountId,
      title,
      temporary = false,
      model = null,
      messages = [],
      currentNodeId = null,
      assistantId = null,
    }) {
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
        workspace_id: null,
        assistant_id: assistantId,
      };
      await db.insertInto('chats').values(row).execute();
      return toChat(row);
    },

    find,

    async list({ accountId, limit, after = undefined, search = undefined }) {
      let query = db
        .selectFrom('chats')
        .select(['id', 'title', 'temporary', 'model', 'created_at', 'updated_at', 'assistant_id'])
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

    update(accountId, id, changes) {
      return write(db, accountId, id, changes);
    },

    modify(accountId, id, change) {
      return inTransaction(db, async (trx) => {
        let query = trx
          .selectFrom('chats')
          .selectAll()
          .where('id', '=', id)
          .where('account_id', '=', accountId);
        // SQLite runs one writing transaction at a time; Postgres needs the row lock.
        if (postgres) query = query.forUpdate();
        const row = await query.executeTakeFirst();
        if (!row) return null;
        const chat = toChat(row);
        const changes = change(chat);
        return changes ? write(trx, accountId, id, changes) : chat;
      });
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
        .where('created_at', '<', at)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async listTemporaryBefore(at, limit) {
      const rows = await db
        .selectFrom('chats')
        .selectAll()
        .where('temporary', '=', 1)
        .where('created_at', '<', at)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map(toChat);
    },

    async findDefaultAssistant(workspaceId) {
      const row = await db
        .selectFrom('web_chat_assistants')
        .select('assistant_id')
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirst();
      return row?.assistant_id ?? null;
    },

    async saveDefaultAssistant(workspaceId, assistantId) {
      await db
        .insertInto('web_chat_assistants')
        .values({ workspace_id: workspaceId, assistant_id: assistantId, created_at: now() })
        .onConflict((conflict) => conflict.column('workspace_id').doNothing())
        .execute();
      return (await this.findDefaultAssistant(workspaceId)) ?? assistantId;
    },

    async replaceDefaultAssistant(workspaceId, assistantId) {
      await db
        .insertInto('web_chat_assistants')
        .values({ workspace_id: workspaceId, assistant_id: assistantId, created_at: now() })
        .onConflict((conflict) => conflict.column('workspace_id').doUpdateSet({ assistant_id: assistantId }))
        .execute();
    },

    async listForTraining({ after = undefined, since = undefined, limit }) {
      let query = db
        .selectFrom('chats')
        .leftJoin('account_preferences', 'account_preferences.account_id', 'chats.account_id')
        .selectAll('chats')
        .where('chats.temporary', '=', 0)
        // No preferences row: the defaults, history on.
        .where((eb) =>
          eb.or([
            eb('account_preferences.chat_history_enabled', 'is', null),
            eb('account_preferences.chat_history_enabled', '=', 1),
          ]),
        )
        .where((eb) => {
          const gptConversation = (allowTraining: 0 | 1) =>
            eb.exists(
              eb
                .selectFrom('gpt_conversations')
                .select('gpt_conversations.chat_id')
                .whereRef('gpt_conversations.chat_id', '=', 'chats.id')
                .where('gpt_conversations.allow_training', '=', allowTraining),
            );
          return eb.and([
            eb.not(gptConversation(0)),
            // A chat with a GPT (`g-…` assistant) only with its builder's recorded yes.
            eb.or([
              eb('chats.assistant_id', 'is', null),
              eb('chats.assistant_id', 'not like', 'g-%'),
              gptConversation(1),
            ]),
          ]);
        });
      if (after !== undefined) query = query.where('chats.id', '>', after);
      if (since !== undefined) query = query.where('chats.updated_at', '>=', since);
      const rows = await query.orderBy('chats.id').limit(limit).execute();
      return rows.map(toChat);
    },

    async listAllOf({ accountId, after = undefined, limit }) {
      let query = db.selectFrom('chats').selectAll().where('account_id', '=', accountId);
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query.orderBy('id').limit(limit).execute();
      return rows.map(toChat);
    },

    async threadsBarredFromTraining(threadIds) {
      if (threadIds.length === 0) return new Set();
      const barred = new Set<string>();
      // In slices: a statement has a limited number of parameters.
      for (let start = 0; start < threadIds.length; start += 500) {
        const rows = await db
          .selectFrom('gpt_conversations')
          .select('thread_id')
          .where('thread_id', 'in', threadIds.slice(start, start + 500))
          .where('allow_training', '=', 0)
          .execute();
        for (const row of rows) if (row.thread_id) barred.add(row.thread_id);
      }
      return barred;
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
  row: Pick<
    Selectable<ChatsTable>,
    'id' | 'title' | 'temporary' | 'model' | 'created_at' | 'updated_at' | 'assistant_id'
  >,
): ChatSummary {
  return {
    id: row.id,
    title: row.title,
    temporary: Number(row.temporary) === 1,
    model: row.model,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    gptId: row.assistant_id && isGptId(row.assistant_id) ? row.assistant_id : null,
  };
}

function toChat(row: Selectable<ChatsTable>): Chat {
  return {
    ...toSummary(row),
    accountId: row.account_id,
    messages: parseMessages(row.messages),
    currentNodeId: row.current_node_id,
    workspaceId: row.workspace_id,
    assistantId: row.assistant_id,
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
