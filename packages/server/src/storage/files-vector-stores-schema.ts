// The tables of files, vector stores and retrieval (migration 002) as Kysely sees them;
// `DatabaseSchema` extends this.

import type { Generated } from 'kysely';
import type { UnixSeconds } from './schema.js';

export interface FilesTable {
  readonly id: string;
  readonly workspace_id: string;
  readonly filename: string;
  readonly purpose: string;
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the content: the blob's address. */
  readonly sha256: string;
  readonly content_type: string | null;
  readonly created_at: UnixSeconds;
  readonly expires_at: UnixSeconds | null;
  /** List order (see sequence.ts). */
  readonly seq: number;
}

export interface FileTextsTable {
  readonly file_id: string;
  readonly text: string;
  /** The extractor that produced it (pdf, docx, html, text…). */
  readonly format: string;
  readonly created_at: UnixSeconds;
}

export interface VectorStoresTable {
  readonly id: string;
  readonly workspace_id: string;
  readonly name: string;
  /** JSON object. */
  readonly metadata: string;
  readonly created_at: UnixSeconds;
  readonly last_active_at: UnixSeconds;
  readonly expires_after_days: number | null;
  readonly seq: number;
  /** Set on the stores the server keeps for itself (not listed); null on the users' own. */
  readonly internal_key: string | null;
}

export type VectorStoreFileStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';

export interface VectorStoreFilesTable {
  readonly vector_store_id: string;
  readonly file_id: string;
  readonly workspace_id: string;
  readonly status: VectorStoreFileStatus;
  readonly last_error_code: string | null;
  readonly last_error_message: string | null;
  readonly usage_bytes: number;
  readonly chunk_max_tokens: number;
  readonly chunk_overlap_tokens: number;
  /** JSON object. */
  readonly attributes: string;
  readonly created_at: UnixSeconds;
  readonly seq: number;
  readonly attempts: number;
  readonly lease_token: string | null;
  readonly lease_expires_at: UnixSeconds | null;
  /** A retry waits until then. */
  readonly not_before: UnixSeconds | null;
}

export interface VectorStoreFileBatchesTable {
  readonly id: string;
  readonly vector_store_id: string;
  readonly workspace_id: string;
  readonly created_at: UnixSeconds;
  readonly cancelled_at: UnixSeconds | null;
  readonly seq: number;
}

export interface VectorStoreFileBatchFilesTable {
  readonly batch_id: string;
  readonly file_id: string;
  readonly seq: number;
}

export interface ChunksTable {
  /** Generated on insert. */
  readonly id: Generated<number>;
  readonly vector_store_id: string;
  readonly file_id: string;
  readonly chunk_index: number;
  readonly start_offset: number;
  readonly end_offset: number;
  readonly token_count: number;
  readonly text: string;
}

export interface EmbeddingSpacesTable {
  readonly name: string;
  readonly model: string;
  readonly dimensions: number;
  readonly created_at: UnixSeconds;
}

export interface FilesVectorStoresSchema {
  readonly files: FilesTable;
  readonly file_texts: FileTextsTable;
  readonly vector_stores: VectorStoresTable;
  readonly vector_store_files: VectorStoreFilesTable;
  readonly vector_store_file_batches: VectorStoreFileBatchesTable;
  readonly vector_store_file_batch_files: VectorStoreFileBatchFilesTable;
  readonly chunks: ChunksTable;
  readonly embedding_spaces: EmbeddingSpacesTable;
}
