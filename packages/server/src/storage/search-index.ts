// The search index spec: keyword (BM25-style) search over chunks, always; nearest-neighbour
// search over chunk embeddings once an embedding space (a model and its dimensions) is in use.
// Two implementations: SQLite (FTS5 + sqlite-vec) and PostgreSQL (tsvector + pgvector).
// Chunks themselves are written by the chunks repository; keyword indexing follows from that.

import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseDialect } from './database.js';
import type { DatabaseSchema } from './schema.js';

export interface KeywordSearchParams {
  readonly vectorStoreIds: readonly string[];
  /** Normalised query terms (letters and digits only, stop words removed), OR-ed together. */
  readonly terms: readonly string[];
  readonly limit: number;
  /** Only chunks of these files (an attribute filter already applied). */
  readonly fileIds?: readonly string[] | undefined;
}

export interface VectorSearchParams {
  readonly vectorStoreIds: readonly string[];
  readonly embedding: Float32Array;
  readonly limit: number;
}

export interface KeywordHit {
  readonly chunkId: number;
  /** Higher is better; comparable within one result list only. */
  readonly score: number;
}

export interface VectorHit {
  readonly chunkId: number;
  /** Cosine distance, 0 (same direction) to 2 (opposite). */
  readonly distance: number;
}

export interface EmbeddingSpace {
  /** The vector table's name. */
  readonly name: string;
  readonly model: string;
  readonly dimensions: number;
}

export interface VectorEntry {
  readonly chunkId: number;
  readonly vectorStoreId: string;
  readonly embedding: Float32Array;
}

export interface SearchIndex {
  readonly dialect: DatabaseDialect;
  /** The embedding space in use, or null: keyword search only. */
  readonly space: EmbeddingSpace | null;
  keywordSearch(params: KeywordSearchParams): Promise<readonly KeywordHit[]>;
  /**
   * Makes `model`'s vectors the ones searched: creates its table when missing and drops the
   * tables of other models (their vectors cannot be compared with this one's).
   */
  useEmbeddingSpace(params: { readonly model: string; readonly dimensions: number }): Promise<EmbeddingSpace>;
  /** Writes vectors through `db` (a transaction of the caller's); chunks deleted meanwhile are skipped. */
  writeVectors(db: Kysely<DatabaseSchema>, entries: readonly VectorEntry[]): Promise<void>;
  /** Nearest chunks by the index (approximate where the index is). */
  vectorSearch(params: VectorSearchParams): Promise<readonly VectorHit[]>;
  /** Nearest chunks by brute force: the reference the index's recall is measured against. */
  exactVectorSearch(params: VectorSearchParams): Promise<readonly VectorHit[]>;
  /** Background upkeep of the vector index (training, moving vectors); safe to call any time. */
  maintain(): Promise<void>;
  /** Chunks with an id above `afterId` that have no vector yet (to backfill after a model change). */
  chunksWithoutVectors(params: {
    readonly afterId: number;
    readonly limit: number;
  }): Promise<readonly { readonly id: number; readonly vectorStoreId: string; readonly text: string }[]>;
}

/**
 * `chunk_vectors_<12 hex>`: a safe identifier, one per model, dimension count and table layout
 * (a new layout starts a new table; each dialect names its own).
 */
export function embeddingSpaceName(model: string, dimensions: number, layout: string): string {
  return `chunk_vectors_${createHash('sha256').update(`${model}\n${dimensions}\n${layout}`).digest('hex').slice(0, 12)}`;
}

/** Little-endian float32 bytes, as sqlite-vec reads them. */
export function vectorBytes(embedding: Float32Array): Buffer {
  return Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
}

/** Table names go into SQL text (they cannot be bound): only ones we made, checked. */
export function assertSafeIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return name;
}
