// Files attached to vector stores, with their ingestion state. Ingestion is durable: a file waits
// as `in_progress` until a worker claims it with a lease; a claim whose lease ran out (the
// process died) is claimed again, so queued work survives a restart. Every write a worker makes
// is conditional on still holding its claim, so a file removed or cancelled meanwhile is left alone.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, systemClock } from '../clock.js';
import type { VectorStoreFileStatus, VectorStoreFilesTable } from '../files-vector-stores-schema.js';
import { inTransaction } from '../in-transaction.js';
import { fromJsonColumn, toJsonColumn } from '../json-column.js';
import { finishPage, type Page, planPage, type SortOrder } from '../paging.js';
import type { DatabaseSchema } from '../schema.js';
import { cursorSequence, nextSequence } from '../sortable-id.js';

export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface Chunking {
  readonly maxChunkSizeTokens: number;
  readonly chunkOverlapTokens: number;
}

export type IngestionErrorCode = 'server_error' | 'unsupported_file' | 'invalid_file';

export interface VectorStoreFile {
  readonly vectorStoreId: string;
  readonly fileId: string;
  readonly workspaceId: string;
  readonly status: VectorStoreFileStatus;
  readonly lastError: { readonly code: IngestionErrorCode; readonly message: string } | null;
  readonly usageBytes: number;
  readonly chunking: Chunking;
  readonly attributes: Attributes;
  readonly createdAt: number;
}

export interface VectorStoreFileAddParams {
  readonly workspaceId: string;
  readonly vectorStoreId: string;
  readonly files: readonly {
    readonly fileId: string;
    readonly chunking: Chunking;
    readonly attributes?: Attributes | undefined;
  }[];
}

export interface VectorStoreFileListParams {
  readonly workspaceId: string;
  readonly vectorStoreId: string;
  readonly status?: VectorStoreFileStatus | undefined;
  /** Only the files of this batch. */
  readonly batchId?: string | undefined;
  readonly limit: number;
  readonly order: SortOrder;
  readonly after?: string | undefined;
  readonly before?: string | undefined;
}

/** A file a worker holds: what it needs to ingest it, and the token its writes must carry. */
export interface IngestionClaim {
  readonly vectorStoreId: string;
  readonly fileId: string;
  readonly workspaceId: string;
  readonly token: string;
  /** 1 for the first try. */
  readonly attempt: number;
  readonly chunking: Chunking;
  readonly filename: string;
  readonly sha256: string;
  readonly contentType: string | null;
}

export interface VectorStoreFilesRepository {
  /**
   * Attaches files (which the caller checked are the workspace's). A file already attached and
   * completed or in progress with the same chunking is left as it is (its attributes updated when
   * given); otherwise it is queued (again).
   */
  add(params: VectorStoreFileAddParams): Promise<readonly VectorStoreFile[]>;
  find(workspaceId: string, vectorStoreId: string, fileId: string): Promise<VectorStoreFile | null>;
  list(params: VectorStoreFileListParams): Promise<Page<VectorStoreFile>>;
  /** All entries of the stores (for attribute filters), without paging. */
  listAll(vectorStoreIds: readonly string[]): Promise<readonly VectorStoreFile[]>;
  /** Attributes of these files in these stores, keyed `${vectorStoreId}\n${fileId}`. */
  attributesOf(
    vectorStoreIds: readonly string[],
    fileIds: readonly string[],
  ): Promise<ReadonlyMap<string, Attributes>>;
  updateAttributes(
    workspaceId: string,
    vectorStoreId: string,
    fileId: string,
    attributes: Attributes,
  ): Promise<VectorStoreFile | null>;
  /** Detaches the file and removes its chunks; the file itself stays. */
  delete(workspaceId: string, vectorStoreId: string, fileId: string): Promise<boolean>;
  /** Cancels the batch's files still in progress; returns how many. */
  cancelInProgress(vectorStoreId: string, fileIds: readonly string[]): Promise<number>;

  /** Claims up to `limit` files waiting for ingestion, for `leaseSeconds`. */
  claim(params: {
    readonly limit: number;
    readonly leaseSeconds: number;
  }): Promise<readonly IngestionClaim[]>;
  /** Extends a claim; false when it was lost (cancelled, deleted, or taken over). */
  renew(claim: IngestionClaim, leaseSeconds: number): Promise<boolean>;
  /** Marks the file completed; false when the claim was lost. Run it in the transaction that writes the chunks. */
  complete(claim: IngestionClaim, usageBytes: number): Promise<boolean>;
  fail(claim: IngestionClaim, error: { code: IngestionErrorCode; message: string }): Promise<boolean>;
  /** Gives the file back to the queue, to be tried again no earlier than `notBefore`. */
  retryLater(claim: IngestionClaim, notBefore: number): Promise<boolean>;
  /** Frees every claim at once: for a single process starting up (SQLite), whose earlier self is gone. */
  releaseAllClaims(): Promise<number>;
  /** Whether some file waits for ingestion (now or later). */
  hasPending(): Promise<boolean>;
}

export function createVectorStoreFilesRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): VectorStoreFilesRepository {
  const held = (claim: IngestionClaim) =>
    db
      .updateTable('vector_store_files')
      .where('vector_store_id', '=', claim.vectorStoreId)
      .where('file_id', '=', claim.fileId)
      .where('lease_token', '=', claim.token)
      .where('status', '=', 'in_progress');

  async function findRow(workspaceId: string, vectorStoreId: string, fileId: string) {
    return db
      .selectFrom('vector_store_files')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('vector_store_id', '=', vectorStoreId)
      .where('file_id', '=', fileId)
      .executeTakeFirst();
  }

  return {
    async add({ workspaceId, vectorStoreId, files }) {
      return inTransaction(db, async (trx) => {
        const out: VectorStoreFile[] = [];
        for (const { fileId, chunking, attributes } of files) {
          const existing = await trx
            .selectFrom('vector_store_files')
            .selectAll()
            .where('vector_store_id', '=', vectorStoreId)
            .where('file_id', '=', fileId)
            .executeTakeFirst();
          const sameChunking =
            existing?.chunk_max_tokens === chunking.maxChunkSizeTokens &&
            existing.chunk_overlap_tokens === chunking.chunkOverlapTokens;
          if (
            existing &&
            sameChunking &&
            (existing.status === 'completed' || existing.status === 'in_progress')
          ) {
            if (attributes === undefined) {
              out.push(toVectorStoreFile(existing));
              continue;
            }
            const updated = { ...existing, attributes: toJsonColumn(attributes) };
            await trx
              .updateTable('vector_store_files')
              .set({ attributes: updated.attributes })
              .where('vector_store_id', '=', vectorStoreId)
              .where('file_id', '=', fileId)
              .execute();
            out.push(toVectorStoreFile(updated));
            continue;
          }
          const row: VectorStoreFilesTable = {
            vector_store_id: vectorStoreId,
            file_id: fileId,
            workspace_id: workspaceId,
            status: 'in_progress',
            last_error_code: null,
            last_error_message: null,
            usage_bytes: 0,
            chunk_max_tokens: chunking.maxChunkSizeTokens,
            chunk_overlap_tokens: chunking.chunkOverlapTokens,
            attributes: toJsonColumn(attributes ?? fromJsonColumn(existing?.attributes ?? '{}')),
            created_at: existing?.created_at ?? now(),
            seq: existing?.seq ?? nextSequence(),
            attempts: 0,
            lease_token: null,
            lease_expires_at: null,
            not_before: null,
          };
          if (existing) {
            await trx
              .deleteFrom('chunks')
              .where('vector_store_id', '=', vectorStoreId)
              .where('file_id', '=', fileId)
              .execute();
            await trx
              .updateTable('vector_store_files')
              .set(row)
              .where('vector_store_id', '=', vectorStoreId)
              .where('file_id', '=', fileId)
              .execute();
          } else {
            await trx.insertInto('vector_store_files').values(row).execute();
          }
          out.push(toVectorStoreFile(row));
        }
        return out;
      });
    },

    async find(workspaceId, vectorStoreId, fileId) {
      const row = await findRow(workspaceId, vectorStoreId, fileId);
      return row ? toVectorStoreFile(row) : null;
    },

    async list({ workspaceId, vectorStoreId, status, batchId, limit, order, after, before }) {
      const cursor = async (fileId: string | undefined, param: 'after' | 'before') => {
        if (fileId === undefined) return undefined;
        const row = await db
          .selectFrom('vector_store_files')
          .select('seq')
          .where('vector_store_id', '=', vectorStoreId)
          .where('file_id', '=', fileId)
          .executeTakeFirst();
        // Detached since the last page: its own id still says roughly where it was (a 400 when it is no file id).
        return row?.seq ?? cursorSequence('file', fileId, param);
      };
      const plan = planPage({
        limit,
        order,
        afterSeq: await cursor(after, 'after'),
        beforeSeq: await cursor(before, 'before'),
      });
      let query = db
        .selectFrom('vector_store_files')
        .selectAll('vector_store_files')
        .where('vector_store_files.workspace_id', '=', workspaceId)
        .where('vector_store_files.vector_store_id', '=', vectorStoreId);
      if (status !== undefined) query = query.where('vector_store_files.status', '=', status);
      if (batchId !== undefined) {
        query = query
          .innerJoin(
            'vector_store_file_batch_files',
            'vector_store_file_batch_files.file_id',
            'vector_store_files.file_id',
          )
          .where('vector_store_file_batch_files.batch_id', '=', batchId);
      }
      if (plan.greaterThan !== undefined)
        query = query.where('vector_store_files.seq', '>', plan.greaterThan);
      if (plan.lessThan !== undefined) query = query.where('vector_store_files.seq', '<', plan.lessThan);
      const rows = await query
        .orderBy('vector_store_files.seq', plan.direction)
        .orderBy('vector_store_files.file_id', plan.direction)
        .limit(plan.take)
        .execute();
      return finishPage(rows.map(toVectorStoreFile), plan);
    },

    async listAll(vectorStoreIds) {
      if (vectorStoreIds.length === 0) return [];
      const rows = await db
        .selectFrom('vector_store_files')
        .selectAll()
        .where('vector_store_id', 'in', [...vectorStoreIds])
        .execute();
      return rows.map(toVectorStoreFile);
    },

    async attributesOf(vectorStoreIds, fileIds) {
      const out = new Map<string, Attributes>();
      if (vectorStoreIds.length === 0 || fileIds.length === 0) return out;
      const rows = await db
        .selectFrom('vector_store_files')
        .select(['vector_store_id', 'file_id', 'attributes'])
        .where('vector_store_id', 'in', [...vectorStoreIds])
        .where('file_id', 'in', [...new Set(fileIds)])
        .execute();
      for (const row of rows) {
        out.set(`${row.vector_store_id}\n${row.file_id}`, fromJsonColumn<AttributeValue>(row.attributes));
      }
      return out;
    },

    async updateAttributes(workspaceId, vectorStoreId, fileId, attributes) {
      await db
        .updateTable('vector_store_files')
        .set({ attributes: toJsonColumn(attributes) })
        .where('workspace_id', '=', workspaceId)
        .where('vector_store_id', '=', vectorStoreId)
        .where('file_id', '=', fileId)
        .execute();
      const row = await findRow(workspaceId, vectorStoreId, fileId);
      return row ? toVectorStoreFile(row) : null;
    },

    async delete(workspaceId, vectorStoreId, fileId) {
      return inTransaction(db, async (trx) => {
        const result = await trx
          .deleteFrom('vector_store_files')
          .where('workspace_id', '=', workspaceId)
          .where('vector_store_id', '=', vectorStoreId)
          .where('file_id', '=', fileId)
          .executeTakeFirst();
        if (result.numDeletedRows === 0n) return false;
        await trx
          .deleteFrom('chunks')
          .where('vector_store_id', '=', vectorStoreId)
          .where('file_id', '=', fileId)
          .execute();
        return true;
      });
    },

    async cancelInProgress(vectorStoreId, fileIds) {
      if (fileIds.length === 0) return 0;
      const result = await db
        .updateTable('vector_store_files')
        .set({ status: 'cancelled', lease_token: null, lease_expires_at: null, not_before: null })
        .where('vector_store_id', '=', vectorStoreId)
        .where('file_id', 'in', [...fileIds])
        .where('status', '=', 'in_progress')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async claim({ limit, leaseSeconds }) {
      const at = now();
      const candidates = await db
        .selectFrom('vector_store_files')
        .innerJoin('files', 'files.id', 'vector_store_files.file_id')
        .select([
          'vector_store_files.vector_store_id',
          'vector_store_files.file_id',
          'vector_store_files.workspace_id',
          'vector_store_files.attempts',
          'vector_store_files.chunk_max_tokens',
          'vector_store_files.chunk_overlap_tokens',
          'files.filename',
          'files.sha256',
          'files.content_type',
        ])
        .where('vector_store_files.status', '=', 'in_progress')
        .where((eb) =>
          eb.or([
            eb('vector_store_files.not_before', 'is', null),
            eb('vector_store_files.not_before', '<=', at),
          ]),
        )
        .where((eb) =>
          eb.or([
            eb('vector_store_files.lease_expires_at', 'is', null),
            eb('vector_store_files.lease_expires_at', '<', at),
          ]),
        )
        .orderBy('vector_store_files.seq')
        .limit(limit)
        .execute();
      const claims: IngestionClaim[] = [];
      for (const candidate of candidates) {
        const token = randomUUID();
        // Conditional on the lease still being free: of two workers racing, one wins.
        const result = await db
          .updateTable('vector_store_files')
          .set({ lease_token: token, lease_expires_at: at + leaseSeconds, attempts: candidate.attempts + 1 })
          .where('vector_store_id', '=', candidate.vector_store_id)
          .where('file_id', '=', candidate.file_id)
          .where('status', '=', 'in_progress')
          .where('attempts', '=', candidate.attempts)
          .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', at)]))
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) continue;
        claims.push({
          vectorStoreId: candidate.vector_store_id,
          fileId: candidate.file_id,
          workspaceId: candidate.workspace_id,
          token,
          attempt: candidate.attempts + 1,
          chunking: {
            maxChunkSizeTokens: candidate.chunk_max_tokens,
            chunkOverlapTokens: candidate.chunk_overlap_tokens,
          },
          filename: candidate.filename,
          sha256: candidate.sha256,
          contentType: candidate.content_type,
        });
      }
      return claims;
    },

    async renew(claim, leaseSeconds) {
      const result = await held(claim)
        .set({ lease_expires_at: now() + leaseSeconds })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async complete(claim, usageBytes) {
      const result = await held(claim)
        .set({
          status: 'completed',
          usage_bytes: usageBytes,
          last_error_code: null,
          last_error_message: null,
          lease_token: null,
          lease_expires_at: null,
          not_before: null,
        })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async fail(claim, { code, message }) {
      const result = await held(claim)
        .set({
          status: 'failed',
          last_error_code: code,
          last_error_message: message,
          lease_token: null,
          lease_expires_at: null,
          not_before: null,
        })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async retryLater(claim, notBefore) {
      const result = await held(claim)
        .set({ lease_token: null, lease_expires_at: null, not_before: notBefore })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async releaseAllClaims() {
      const result = await db
        .updateTable('vector_store_files')
        .set({ lease_token: null, lease_expires_at: null })
        .where('status', '=', 'in_progress')
        .where('lease_token', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async hasPending() {
      const row = await db
        .selectFrom('vector_store_files')
        .select('file_id')
        .where('status', '=', 'in_progress')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

function toVectorStoreFile(row: Selectable<VectorStoreFilesTable>): VectorStoreFile {
  return {
    vectorStoreId: row.vector_store_id,
    fileId: row.file_id,
    workspaceId: row.workspace_id,
    status: row.status,
    lastError:
      row.last_error_code === null
        ? null
        : { code: row.last_error_code as IngestionErrorCode, message: row.last_error_message ?? '' },
    usageBytes: Number(row.usage_bytes),
    chunking: { maxChunkSizeTokens: row.chunk_max_tokens, chunkOverlapTokens: row.chunk_overlap_tokens },
    attributes: fromJsonColumn<AttributeValue>(row.attributes),
    createdAt: row.created_at,
  };
}
