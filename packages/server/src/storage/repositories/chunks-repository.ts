// The chunks of each file in each vector store, with their place in the file's extracted text.
// Writing chunks is enough to index them for full-text search (an FTS5 trigger on SQLite, a
// generated tsvector on Postgres); vectors are written by the search index.

import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../schema.js';

export interface ChunkInput {
  readonly index: number;
  /** Character offsets [start, end) in the file's extracted text. */
  readonly startOffset: number;
  readonly endOffset: number;
  readonly tokenCount: number;
  readonly text: string;
}

export interface StoredChunk extends ChunkInput {
  readonly id: number;
  readonly vectorStoreId: string;
  readonly fileId: string;
  readonly filename: string;
}

export interface ChunksRepository {
  /** Replaces the file's chunks in the store; returns the new chunks' ids, in order. */
  replace(vectorStoreId: string, fileId: string, chunks: readonly ChunkInput[]): Promise<readonly number[]>;
  /** Chunks by id (ids that no longer exist are left out), with their file's name. */
  findMany(ids: readonly number[]): Promise<ReadonlyMap<number, StoredChunk>>;
  countForFile(vectorStoreId: string, fileId: string): Promise<number>;
}

// Rows per INSERT: 7 bound values each stays far below SQLite's limit on bound variables.
const BATCH = 200;

export function createChunksRepository(db: Kysely<DatabaseSchema>): ChunksRepository {
  return {
    async replace(vectorStoreId, fileId, chunks) {
      await db
        .deleteFrom('chunks')
        .where('vector_store_id', '=', vectorStoreId)
        .where('file_id', '=', fileId)
        .execute();
      const ids: number[] = [];
      for (let start = 0; start < chunks.length; start += BATCH) {
        const rows = await db
          .insertInto('chunks')
          .values(
            chunks.slice(start, start + BATCH).map((chunk) => ({
              vector_store_id: vectorStoreId,
              file_id: fileId,
              chunk_index: chunk.index,
              start_offset: chunk.startOffset,
              end_offset: chunk.endOffset,
              token_count: chunk.tokenCount,
              text: chunk.text,
            })),
          )
          .returning('id')
          .execute();
        // Both dialects return inserted rows in VALUES order for a single multi-row INSERT.
        for (const row of rows) ids.push(Number(row.id));
      }
      return ids;
    },

    async findMany(ids) {
      const found = new Map<number, StoredChunk>();
      for (let start = 0; start < ids.length; start += 500) {
        const rows = await db
          .selectFrom('chunks')
          .innerJoin('files', 'files.id', 'chunks.file_id')
          .select([
            'chunks.id',
            'chunks.vector_store_id',
            'chunks.file_id',
            'chunks.chunk_index',
            'chunks.start_offset',
            'chunks.end_offset',
            'chunks.token_count',
            'chunks.text',
            'files.filename',
          ])
          .where('chunks.id', 'in', ids.slice(start, start + 500))
          .execute();
        for (const row of rows) {
          found.set(Number(row.id), {
            id: Number(row.id),
            vectorStoreId: row.vector_store_id,
            fileId: row.file_id,
            filename: row.filename,
            index: row.chunk_index,
            startOffset: row.start_offset,
            endOffset: row.end_offset,
            tokenCount: row.token_count,
            text: row.text,
          });
        }
      }
      return found;
    },

    async countForFile(vectorStoreId, fileId) {
      const row = await db
        .selectFrom('chunks')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('vector_store_id', '=', vectorStoreId)
        .where('file_id', '=', fileId)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },
  };
}
