// File batches: a set of files attached to a vector store in one request. A batch's status and
// counts are read from its files' current state; only a cancellation is stored on the batch.

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import { inTransaction } from '../in-transaction.js';
import type { DatabaseSchema } from '../schema.js';
import { newSortableId, nextSequence } from '../sortable-id.js';
import type { FileCounts } from './vector-stores-repository.js';

export type BatchStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';

export interface VectorStoreFileBatch {
  readonly id: string;
  readonly vectorStoreId: string;
  readonly workspaceId: string;
  readonly createdAt: number;
  readonly status: BatchStatus;
  readonly fileCounts: FileCounts;
}

export interface VectorStoreFileBatchesRepository {
  /** Records the batch and its members (the files are attached separately, in the same transaction). */
  create(params: {
    readonly workspaceId: string;
    readonly vectorStoreId: string;
    readonly fileIds: readonly string[];
  }): Promise<VectorStoreFileBatch>;
  find(workspaceId: string, vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatch | null>;
  fileIds(batchId: string): Promise<readonly string[]>;
  markCancelled(batchId: string): Promise<void>;
}

export function createVectorStoreFileBatchesRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): VectorStoreFileBatchesRepository {
  async function counts(batchId: string, vectorStoreId: string): Promise<FileCounts> {
    const rows = await db
      .selectFrom('vector_store_file_batch_files')
      .innerJoin('vector_store_files', (join) =>
        join
          .onRef('vector_store_files.file_id', '=', 'vector_store_file_batch_files.file_id')
          .on('vector_store_files.vector_store_id', '=', vectorStoreId),
      )
      .select(['vector_store_files.status', sql<number>`count(*)`.as('count')])
      .where('vector_store_file_batch_files.batch_id', '=', batchId)
      .groupBy('vector_store_files.status')
      .execute();
    const by = { in_progress: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const row of rows) by[row.status] += Number(row.count);
    return {
      inProgress: by.in_progress,
      completed: by.completed,
      failed: by.failed,
      cancelled: by.cancelled,
      total: by.in_progress + by.completed + by.failed + by.cancelled,
    };
  }

  async function find(
    workspaceId: string,
    vectorStoreId: string,
    batchId: string,
  ): Promise<VectorStoreFileBatch | null> {
    const row = await db
      .selectFrom('vector_store_file_batches')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('vector_store_id', '=', vectorStoreId)
      .where('id', '=', batchId)
      .executeTakeFirst();
    if (!row) return null;
    const fileCounts = await counts(row.id, vectorStoreId);
    const status: BatchStatus =
      row.cancelled_at !== null ? 'cancelled' : fileCounts.inProgress > 0 ? 'in_progress' : 'completed';
    return {
      id: row.id,
      vectorStoreId: row.vector_store_id,
      workspaceId: row.workspace_id,
      createdAt: row.created_at,
      status,
      fileCounts,
    };
  }

  return {
    async create({ workspaceId, vectorStoreId, fileIds }) {
      const { id, seq } = newSortableId('vectorStoreFileBatch');
      const createdAt = now();
      await inTransaction(db, async (trx) => {
        await trx
          .insertInto('vector_store_file_batches')
          .values({
            id,
            vector_store_id: vectorStoreId,
            workspace_id: workspaceId,
            created_at: createdAt,
            cancelled_at: null,
            seq,
          })
          .execute();
        const unique = [...new Set(fileIds)];
        for (let start = 0; start < unique.length; start += 500) {
          await trx
            .insertInto('vector_store_file_batch_files')
            .values(
              unique
                .slice(start, start + 500)
                .map((fileId) => ({ batch_id: id, file_id: fileId, seq: nextSequence() })),
            )
            .execute();
        }
      });
      return (await find(workspaceId, vectorStoreId, id))!;
    },

    find,

    async fileIds(batchId) {
      const rows = await db
        .selectFrom('vector_store_file_batch_files')
        .select('file_id')
        .where('batch_id', '=', batchId)
        .execute();
      return rows.map((row) => row.file_id);
    },

    async markCancelled(batchId) {
      await db
        .updateTable('vector_store_file_batches')
        .set({ cancelled_at: now() })
        .where('id', '=', batchId)
        .where('cancelled_at', 'is', null)
        .execute();
    },
  };
}
