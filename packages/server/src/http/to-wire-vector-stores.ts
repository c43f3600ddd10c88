// Domain → wire for vector stores, their files, file batches and search results.
import type {
  FileCountsObject,
  VectorStoreFileBatchObject,
  VectorStoreFileObject,
  VectorStoreObject,
  VectorStoreSearchResultsPage,
} from '@atelier/protocol';
import type { VectorStoreFileBatch } from '../storage/repositories/vector-store-file-batches-repository.js';
import type { VectorStoreFile } from '../storage/repositories/vector-store-files-repository.js';
import type { FileCounts, VectorStore } from '../storage/repositories/vector-stores-repository.js';
import type { SearchOutcome } from '../tools/retrieval/search-vector-stores.js';

function toWireCounts(counts: FileCounts): FileCountsObject {
  return {
    in_progress: counts.inProgress,
    completed: counts.completed,
    failed: counts.failed,
    cancelled: counts.cancelled,
    total: counts.total,
  };
}

export function toWireVectorStore(store: VectorStore): VectorStoreObject {
  return {
    id: store.id,
    object: 'vector_store',
    created_at: store.createdAt,
    name: store.name,
    usage_bytes: store.usageBytes,
    file_counts: toWireCounts(store.fileCounts),
    status: store.status,
    ...(store.expiresAfterDays === null
      ? {}
      : { expires_after: { anchor: 'last_active_at' as const, days: store.expiresAfterDays } }),
    expires_at: store.expiresAt,
    last_active_at: store.lastActiveAt,
    metadata: { ...store.metadata },
  };
}

export function toWireVectorStoreFile(file: VectorStoreFile): VectorStoreFileObject {
  return {
    id: file.fileId,
    object: 'vector_store.file',
    usage_bytes: file.usageBytes,
    created_at: file.createdAt,
    vector_store_id: file.vectorStoreId,
    status: file.status,
    last_error: file.lastError ? { code: file.lastError.code, message: file.lastError.message } : null,
    chunking_strategy: {
      type: 'static',
      static: {
        max_chunk_size_tokens: file.chunking.maxChunkSizeTokens,
        chunk_overlap_tokens: file.chunking.chunkOverlapTokens,
      },
    },
    attributes: { ...file.attributes },
  };
}

export function toWireFileBatch(batch: VectorStoreFileBatch): VectorStoreFileBatchObject {
  return {
    id: batch.id,
    object: 'vector_store.files_batch',
    created_at: batch.createdAt,
    vector_store_id: batch.vectorStoreId,
    status: batch.status,
    file_counts: toWireCounts(batch.fileCounts),
  };
}

export function toWireSearchPage(outcome: SearchOutcome): VectorStoreSearchResultsPage {
  return {
    object: 'vector_store.search_results.page',
    search_query: [...outcome.queries],
    data: outcome.results.map((result) => ({
      file_id: result.fileId,
      filename: result.filename,
      score: result.score,
      attributes: { ...result.attributes },
      content: [{ type: 'text', text: result.text }],
    })),
    has_more: false,
    next_page: null,
  };
}
