// Threads, scoped to a workspace, and the rolling summary of what a long thread no longer sends.

import type { Kysely, Selectable } from 'kysely';
import type { ToolResources } from '../assistants-domain.js';
import type { ThreadsTable } from '../assistants-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { fromJson, toJson } from '../json-value.js';
import type { DatabaseSchema } from '../schema.js';
import { newSortableId } from '../sortable-id.js';

export interface Thread {
  readonly id: string;
  readonly workspaceId: string;
  readonly createdAt: number;
  readonly toolResources: ToolResources;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ThreadSummary {
  readonly threadId: string;
  readonly text: string;
  /** The summary covers every message with seq ≤ this. */
  readonly throughSeq: number;
  readonly messageCount: number;
  readonly model: string;
  readonly updatedAt: number;
}

export interface ThreadsRepository {
  create(params: {
    workspaceId: string;
    toolResources?: ToolResources;
    metadata?: Readonly<Record<string, string>>;
  }): Promise<Thread>;
  find(workspaceId: string, id: string): Promise<Thread | null>;
  update(
    workspaceId: string,
    id: string,
    params: { toolResources?: ToolResources; metadata?: Readonly<Record<string, string>> },
  ): Promise<Thread | null>;
  /** Deletes the thread with its messages, runs and steps. */
  delete(workspaceId: string, id: string): Promise<boolean>;
  findSummary(threadId: string): Promise<ThreadSummary | null>;
  saveSummary(summary: Omit<ThreadSummary, 'updatedAt'>): Promise<void>;
}

export function createThreadsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): ThreadsRepository {
  async function findRow(workspaceId: string, id: string) {
    return db
      .selectFrom('threads')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  return {
    async create({ workspaceId, toolResources = {}, metadata = {} }) {
      const { id, seq } = newSortableId('thread');
      const row: ThreadsTable = {
        id,
        workspace_id: workspaceId,
        created_at: now(),
        seq,
        tool_resources: toJson(toolResources),
        metadata: toJson(metadata),
      };
      await db.insertInto('threads').values(row).execute();
      return toThread(row);
    },

    async find(workspaceId, id) {
      const row = await findRow(workspaceId, id);
      return row ? toThread(row) : null;
    },

    async update(workspaceId, id, { toolResources, metadata }) {
      const changes: { tool_resources?: string; metadata?: string } = {};
      if (toolResources !== undefined) changes.tool_resources = toJson(toolResources);
      if (metadata !== undefined) changes.metadata = toJson(metadata);
      if (Object.keys(changes).length > 0) {
        await db
          .updateTable('threads')
          .set(changes)
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', id)
          .execute();
      }
      const row = await findRow(workspaceId, id);
      return row ? toThread(row) : null;
    },

    async delete(workspaceId, id) {
      const result = await db
        .deleteFrom('threads')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async findSummary(threadId) {
      const row = await db
        .selectFrom('thread_summaries')
        .selectAll()
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      return row
        ? {
            threadId: row.thread_id,
            text: row.text,
            throughSeq: row.through_seq,
            messageCount: row.message_count,
            model: row.model,
            updatedAt: row.updated_at,
          }
        : null;
    },

    async saveSummary({ threadId, text, throughSeq, messageCount, model }) {
      const values = {
        thread_id: threadId,
        text,
        through_seq: throughSeq,
        message_count: messageCount,
        model,
        updated_at: now(),
      };
      await db
        .insertInto('thread_summaries')
        .values(values)
        .onConflict((conflict) =>
          conflict.column('thread_id').doUpdateSet({
            text,
            through_seq: throughSeq,
            message_count: messageCount,
            model,
            updated_at: values.updated_at,
          }),
        )
        .execute();
    },
  };
}

function toThread(row: Selectable<ThreadsTable>): Thread {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    toolResources: fromJson<ToolResources>(row.tool_resources, {}),
    metadata: fromJson<Record<string, string>>(row.metadata, {}),
  };
}
