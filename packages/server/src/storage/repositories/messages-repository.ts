// Thread messages: what users post and what runs write, in thread order (seq). Besides the API's
// CRUD and lists, the run engine reads threads newest-first in pages to fit the context window.

import type { Kysely, Selectable } from 'kysely';
import type {
  Attachment,
  MessageContent,
  MessageIncompleteReason,
  MessageStatus,
} from '../assistants-domain.js';
import type { MessagesTable } from '../assistants-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { fromJson, toJson } from '../json-value.js';
import { type Page, planPage, readPage } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, newSortableId } from '../sortable-id.js';
import type { ListParams } from './assistants-repository.js';

export interface Message {
  readonly id: string;
  readonly threadId: string;
  readonly workspaceId: string;
  readonly createdAt: number;
  readonly seq: number;
  readonly role: 'user' | 'assistant';
  readonly content: readonly MessageContent[];
  readonly status: MessageStatus;
  readonly incompleteReason: MessageIncompleteReason | null;
  readonly completedAt: number | null;
  readonly incompleteAt: number | null;
  readonly assistantId: string | null;
  readonly runId: string | null;
  readonly attachments: readonly Attachment[];
  readonly metadata: Readonly<Record<string, string>>;
}

export interface MessageCreateParams {
  readonly workspaceId: string;
  readonly threadId: string;
  readonly role: 'user' | 'assistant';
  readonly content: readonly MessageContent[];
  readonly attachments?: readonly Attachment[];
  readonly metadata?: Readonly<Record<string, string>>;
  /** Default `completed` (a posted message is whole); runs create theirs `in_progress`. */
  readonly status?: MessageStatus;
  readonly assistantId?: string | null;
  readonly runId?: string | null;
}

export interface MessageProgress {
  readonly content?: readonly MessageContent[];
  readonly status?: MessageStatus;
  readonly incompleteReason?: MessageIncompleteReason | null;
}

export interface MessagesRepository {
  create(params: MessageCreateParams): Promise<Message>;
  /** Inserts in order, in batches; returns the messages in the same order. */
  createMany(params: readonly MessageCreateParams[]): Promise<Message[]>;
  find(workspaceId: string, threadId: string, id: string): Promise<Message | null>;
  findById(id: string): Promise<Message | null>;
  list(
    params: ListParams & { readonly workspaceId: string; readonly threadId: string; readonly runId?: string },
  ): Promise<Page<Message>>;
  updateMetadata(
    workspaceId: string,
    threadId: string,
    id: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<Message | null>;
  delete(workspaceId: string, threadId: string, id: string): Promise<boolean>;
  /** The engine's writes: content as generated, and the final status with its time. */
  update(id: string, progress: MessageProgress): Promise<Message | null>;
  /** Removes a message the engine started but will not finish (a run resumed after a crash). */
  remove(id: string): Promise<void>;
  /** Newest first, strictly older than `beforeSeq` when given. */
  newest(params: { threadId: string; beforeSeq?: number; limit: number }): Promise<Message[]>;
  /** Oldest first, with `afterSeq` < seq ≤ `throughSeq`. */
  range(params: {
    threadId: string;
    afterSeq?: number;
    throughSeq: number;
    limit: number;
  }): Promise<Message[]>;
  /** Every attachment of the thread's messages (files for the built-in tools), oldest first. */
  attachments(threadId: string): Promise<Attachment[]>;
  /** How many messages have seq ≤ `throughSeq` (all when omitted). */
  count(params: { threadId: string; throughSeq?: number }): Promise<number>;
}

const INSERT_BATCH = 500;

export function createMessagesRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): MessagesRepository {
  function toRow(params: MessageCreateParams, at: number): MessagesTable {
    const { id, seq } = newSortableId('message');
    const status = params.status ?? 'completed';
    return {
      id,
      thread_id: params.threadId,
      workspace_id: params.workspaceId,
      created_at: at,
      seq,
      role: params.role,
      content: toJson(params.content),
      status,
      incomplete_reason: null,
      completed_at: status === 'completed' ? at : null,
      incomplete_at: null,
      assistant_id: params.assistantId ?? null,
      run_id: params.runId ?? null,
      attachments: toJson(params.attachments ?? []),
      metadata: toJson(params.metadata ?? {}),
    };
  }

  async function find(workspaceId: string, threadId: string, id: string): Promise<Message | null> {
    const row = await db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('thread_id', '=', threadId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toMessage(row) : null;
  }

  async function findById(id: string): Promise<Message | null> {
    const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toMessage(row) : null;
  }

  return {
    async create(params) {
      const row = toRow(params, now());
      await db.insertInto('messages').values(row).execute();
      return toMessage(row);
    },

    async createMany(params) {
      const at = now();
      const rows = params.map((one) => toRow(one, at));
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        await db
          .insertInto('messages')
          .values(rows.slice(start, start + INSERT_BATCH))
          .execute();
      }
      return rows.map(toMessage);
    },

    find,
    findById,

    async list({ workspaceId, threadId, runId, limit, order, after, before }) {
      const plan = planPage({
        limit,
        order,
        afterSeq: cursorSequence('message', after, 'after'),
        beforeSeq: cursorSequence('message', before, 'before'),
      });
      let query = db
        .selectFrom('messages')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId);
      if (runId !== undefined) query = query.where('run_id', '=', runId);
      const page = await readPage(query, plan);
      return { data: page.data.map(toMessage), hasMore: page.hasMore };
    },

    async updateMetadata(workspaceId, threadId, id, metadata) {
      await db
        .updateTable('messages')
        .set({ metadata: toJson(metadata) })
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId)
        .where('id', '=', id)
        .execute();
      return find(workspaceId, threadId, id);
    },

    async delete(workspaceId, threadId, id) {
      const result = await db
        .deleteFrom('messages')
        .where('workspace_id', '=', workspaceId)
        .where('thread_id', '=', threadId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async update(id, { content, status, incompleteReason }) {
      const at = now();
      const changes: {
        content?: string;
        status?: MessageStatus;
        incomplete_reason?: string | null;
        completed_at?: number;
        incomplete_at?: number;
      } = {};
      if (content !== undefined) changes.content = toJson(content);
      if (status !== undefined) changes.status = status;
      if (status === 'completed') changes.completed_at = at;
      if (status === 'incomplete') {
        changes.incomplete_at = at;
        changes.incomplete_reason = incompleteReason ?? null;
      }
      if (Object.keys(changes).length > 0) {
        await db.updateTable('messages').set(changes).where('id', '=', id).execute();
      }
      return findById(id);
    },

    async remove(id) {
      await db.deleteFrom('messages').where('id', '=', id).execute();
    },

    async newest({ threadId, beforeSeq, limit }) {
      let query = db.selectFrom('messages').selectAll().where('thread_id', '=', threadId);
      if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
      const rows = await query.orderBy('seq', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toMessage);
    },

    async range({ threadId, afterSeq, throughSeq, limit }) {
      let query = db
        .selectFrom('messages')
        .selectAll()
        .where('thread_id', '=', threadId)
        .where('seq', '<=', throughSeq);
      if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq);
      const rows = await query.orderBy('seq', 'asc').orderBy('id', 'asc').limit(limit).execute();
      return rows.map(toMessage);
    },

    async attachments(threadId) {
      const rows = await db
        .selectFrom('messages')
        .select('attachments')
        .where('thread_id', '=', threadId)
        .where('attachments', '<>', '[]')
        .orderBy('seq')
        .execute();
      return rows.flatMap((row) => fromJson<Attachment[]>(row.attachments, []));
    },

    async count({ threadId, throughSeq }) {
      let query = db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('thread_id', '=', threadId);
      if (throughSeq !== undefined) query = query.where('seq', '<=', throughSeq);
      const row = await query.executeTakeFirst();
      return Number(row?.count ?? 0);
    },
  };
}

function toMessage(row: Selectable<MessagesTable>): Message {
  return {
    id: row.id,
    threadId: row.thread_id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    seq: row.seq,
    role: row.role,
    content: fromJson<MessageContent[]>(row.content, []),
    status: row.status,
    incompleteReason: row.incomplete_reason as MessageIncompleteReason | null,
    completedAt: row.completed_at,
    incompleteAt: row.incomplete_at,
    assistantId: row.assistant_id,
    runId: row.run_id,
    attachments: fromJson<Attachment[]>(row.attachments, []),
    metadata: fromJson<Record<string, string>>(row.metadata, {}),
  };
}
