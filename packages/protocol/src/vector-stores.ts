// `/v1/vector_stores` (Assistants v2 and later): stores, their files, file batches, search and
// parsed file content, field for field with the official spec (openapi-latest).
import { z } from 'zod';
import { CursorPageParams } from './cursor-page.js';
import { Metadata } from './metadata.js';

/** Static chunking: windows of at most `max_chunk_size_tokens`, neighbours sharing `chunk_overlap_tokens`. */
export const StaticChunking = z
  .object({
    max_chunk_size_tokens: z.number().int().min(100).max(4096),
    chunk_overlap_tokens: z.number().int().min(0),
  })
  .refine((value) => value.chunk_overlap_tokens <= value.max_chunk_size_tokens / 2, {
    message: 'chunk_overlap_tokens must not exceed half of max_chunk_size_tokens',
    path: ['chunk_overlap_tokens'],
  });

export const ChunkingStrategyParam = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto') }),
  z.object({ type: z.literal('static'), static: StaticChunking }),
]);
export type ChunkingStrategyParam = z.infer<typeof ChunkingStrategyParam>;

export interface StaticChunkingStrategy {
  type: 'static';
  static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number };
}

/** Up to 16 attributes: keys of up to 64 characters; strings of up to 512, numbers, booleans. */
export const Attributes = z
  .record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean()]))
  .refine((value) => Object.keys(value).length <= 16, {
    message: 'too many properties: expected an object with at most 16 properties',
  });
export type Attributes = Record<string, string | number | boolean>;

export const VectorStoreExpiresAfter = z.object({
  anchor: z.literal('last_active_at'),
  days: z.number().int().min(1).max(365),
});
export type VectorStoreExpiresAfter = z.infer<typeof VectorStoreExpiresAfter>;

export const VectorStoreCreateParams = z.object({
  file_ids: z.array(z.string().min(1)).max(500).optional(),
  name: z.string().max(512).optional(),
  expires_after: VectorStoreExpiresAfter.optional(),
  chunking_strategy: ChunkingStrategyParam.optional(),
  metadata: Metadata.nullish(),
});
export type VectorStoreCreateParams = z.infer<typeof VectorStoreCreateParams>;

export const VectorStoreUpdateParams = z.object({
  name: z.string().max(512).nullish(),
  expires_after: VectorStoreExpiresAfter.nullish(),
  metadata: Metadata.nullish(),
});
export type VectorStoreUpdateParams = z.infer<typeof VectorStoreUpdateParams>;

export const VectorStoreListParams = CursorPageParams;

export interface FileCountsObject {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface VectorStoreObject {
  id: string;
  object: 'vector_store';
  created_at: number;
  name: string;
  usage_bytes: number;
  file_counts: FileCountsObject;
  status: 'expired' | 'in_progress' | 'completed';
  expires_after?: VectorStoreExpiresAfter;
  expires_at: number | null;
  last_active_at: number | null;
  metadata: Record<string, string>;
}

export interface VectorStoreDeleted {
  id: string;
  object: 'vector_store.deleted';
  deleted: true;
}

export const VectorStoreFileStatus = z.enum(['in_progress', 'completed', 'failed', 'cancelled']);

export const VectorStoreFileCreateParams = z.object({
  file_id: z.string().min(1),
  chunking_strategy: ChunkingStrategyParam.optional(),
  attributes: Attributes.nullish(),
});
export type VectorStoreFileCreateParams = z.infer<typeof VectorStoreFileCreateParams>;

export const VectorStoreFileUpdateParams = z.object({ attributes: Attributes.nullable() });

export const VectorStoreFileListParams = CursorPageParams.extend({
  filter: VectorStoreFileStatus.optional(),
});
export type VectorStoreFileListParams = z.infer<typeof VectorStoreFileListParams>;

export interface VectorStoreFileObject {
  id: string;
  object: 'vector_store.file';
  usage_bytes: number;
  created_at: number;
  vector_store_id: string;
  status: 'in_progress' | 'completed' | 'cancelled' | 'failed';
  last_error: { code: 'server_error' | 'unsupported_file' | 'invalid_file'; message: string } | null;
  chunking_strategy: StaticChunkingStrategy;
  attributes: Attributes;
}

export interface VectorStoreFileDeleted {
  id: string;
  object: 'vector_store.file.deleted';
  deleted: true;
}

export interface VectorStoreFileContentPage {
  object: 'vector_store.file_content.page';
  data: { type: 'text'; text: string }[];
  has_more: boolean;
  next_page: string | null;
}

export const FileBatchCreateParams = z
  .object({
    file_ids: z.array(z.string().min(1)).min(1).max(2000).optional(),
    files: z.array(VectorStoreFileCreateParams).min(1).max(2000).optional(),
    chunking_strategy: ChunkingStrategyParam.optional(),
    attributes: Attributes.nullish(),
  })
  .refine((value) => (value.file_ids === undefined) !== (value.files === undefined), {
    message: "give either 'file_ids' or 'files' (not both)",
    path: ['file_ids'],
  });
export type FileBatchCreateParams = z.infer<typeof FileBatchCreateParams>;

export interface VectorStoreFileBatchObject {
  id: string;
  object: 'vector_store.files_batch';
  created_at: number;
  vector_store_id: string;
  status: 'in_progress' | 'completed' | 'cancelled' | 'failed';
  file_counts: FileCountsObject;
}

const ComparisonFilter = z.object({
  type: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']),
  key: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]),
});

export type SearchFilter = z.infer<typeof ComparisonFilter> | { type: 'and' | 'or'; filters: SearchFilter[] };

export const SearchFilter: z.ZodType<SearchFilter> = z.lazy(() =>
  z.union([
    ComparisonFilter,
    z.object({ type: z.enum(['and', 'or']), filters: z.array(SearchFilter).min(1) }),
  ]),
);

export const VectorStoreSearchParams = z.object({
  query: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(10)]),
  /** Accepted for compatibility; Atelier searches the query as given. */
  rewrite_query: z.boolean().optional(),
  max_num_results: z.number().int().min(1).max(50).default(10),
  filters: SearchFilter.optional(),
  ranking_options: z
    .object({
      ranker: z.enum(['none', 'auto', 'default-2024-11-15']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
});
export type VectorStoreSearchParams = z.infer<typeof VectorStoreSearchParams>;

export interface VectorStoreSearchResult {
  file_id: string;
  filename: string;
  score: number;
  attributes: Attributes;
  content: { type: 'text'; text: string }[];
}

export interface VectorStoreSearchResultsPage {
  object: 'vector_store.search_results.page';
  search_query: string[];
  data: VectorStoreSearchResult[];
  has_more: boolean;
  next_page: string | null;
}
