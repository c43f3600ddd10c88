// Searching vector stores: the engine behind `POST /v1/vector_stores/{id}/search` and the
// file_search tool of runs (platform/file-search-tool.ts, which calls `search` with the run's
// workspace and stores). Keyword search always; vector search too when an embedding model is
// configured; the ranked lists are fused by reciprocal rank. Each result is one chunk: its file,
// a score in [0, 1], and the exact text of the chunk with its place in the file's text.

import { InvalidRequestError, NotFoundError } from '../../errors.js';
import type { EmbeddingModel } from '../../inference/spec.js';
import type { StoredChunk } from '../../storage/repositories/chunks-repository.js';
import type { Attributes } from '../../storage/repositories/vector-store-files-repository.js';
import type { Repositories } from '../../storage/repositories.js';
import type { SearchIndex } from '../../storage/search-index.js';
import { type AttributeFilter, matchesFilter } from './attribute-filter.js';
import { embedTexts } from './embed-texts.js';
import { queryTerms } from './query-terms.js';
import { fuseRankings, maxFusedScore } from './reciprocal-rank-fusion.js';

export interface SearchVectorStoresParams {
  /** The caller's workspace: stores of other workspaces are not found. */
  readonly workspaceId: string;
  readonly vectorStoreIds: readonly string[];
  /** One query, or several whose results are fused. */
  readonly query: string | readonly string[];
  /** 1 to 50 (default 10). */
  readonly maxResults?: number;
  readonly filter?: AttributeFilter | undefined;
  /** Only chunks of these files (undefined: every file of the stores). */
  readonly fileIds?: readonly string[] | undefined;
  /** Results scoring below it are dropped (0 to 1). */
  readonly scoreThreshold?: number;
  readonly signal?: AbortSignal | undefined;
}

export interface SearchResult {
  readonly chunkId: number;
  readonly vectorStoreId: string;
  readonly fileId: string;
  readonly filename: string;
  /** In [0, 1]: 1 is first place in every ranked list that was fused. */
  readonly score: number;
  readonly attributes: Attributes;
  /** The chunk's text, exactly as it is in the file's extracted text. */
  readonly text: string;
  readonly chunkIndex: number;
  /** Character offsets [start, end) in the file's extracted text. */
  readonly startOffset: number;
  readonly endOffset: number;
  /** Which searches found the chunk. */
  readonly matchedBy: readonly ('keyword' | 'vector')[];
}

export interface SearchOutcome {
  readonly queries: readonly string[];
  readonly results: readonly SearchResult[];
}

export interface Retrieval {
  search(params: SearchVectorStoresParams): Promise<SearchOutcome>;
  /** Whether vector search is on (an embedding model is configured). */
  readonly hybrid: boolean;
}

export interface CreateRetrievalOptions {
  readonly repositories: Repositories;
  readonly searchIndex: SearchIndex;
  /** Null: keyword search only. */
  readonly embeddingModel: EmbeddingModel | null;
  /** Candidates taken from each ranked list before fusing (at least maxResults). */
  readonly candidates?: number;
}

export function createRetrieval({
  repositories,
  searchIndex,
  embeddingModel,
  candidates = 50,
}: CreateRetrievalOptions): Retrieval {
  // Decided per search: the embedding space is set up at start, possibly after this is made.
  const isHybrid = () => embeddingModel !== null && searchIndex.space !== null;
  return {
    get hybrid() {
      return isHybrid();
    },
    async search({
      workspaceId,
      vectorStoreIds,
      query,
      maxResults = 10,
      filter = undefined,
      fileIds = undefined,
      scoreThreshold = 0,
      signal = undefined,
    }) {
      const queries = (typeof query === 'string' ? [query] : [...query]).filter((text) => text.trim() !== '');
      if (queries.length === 0) {
        throw new InvalidRequestError("'query' must not be empty.", { param: 'query' });
      }
      const storeIds = [...new Set(vectorStoreIds)];
      const stores = await repositories.vectorStores.findExpiry(workspaceId, storeIds);
      for (const id of storeIds) {
        const store = stores.get(id);
        if (!store)
          throw new NotFoundError(`No vector store found with id '${id}'.`, { param: 'vector_store_id' });
        if (store.expired) {
          throw new InvalidRequestError(`Vector store '${id}' has expired and cannot be searched.`, {
            param: 'vector_store_id',
            code: 'vector_store_expired',
          });
        }
      }
      await Promise.all(storeIds.map((id) => repositories.vectorStores.touch(id)));

      // With a filter (or a list of files), the files it lets through, decided up front so keyword
      // search can skip the rest.
      const filtered =
        filter === undefined
          ? undefined
          : [
              ...new Set(
                (await repositories.vectorStoreFiles.listAll(storeIds))
                  .filter((entry) => matchesFilter(entry.attributes, filter))
                  .map((entry) => entry.fileId),
              ),
            ];
      const listed = fileIds === undefined ? undefined : new Set(fileIds);
      const allowedFiles =
        listed === undefined
          ? filtered
          : filtered === undefined
            ? [...listed]
            : filtered.filter((id) => listed.has(id));
      if (allowedFiles?.length === 0) return { queries, results: [] };

      const depth = Math.max(candidates, maxResults);
      const lists: { readonly kind: 'keyword' | 'vector'; readonly ids: readonly number[] }[] = [];
      for (const text of queries) {
        const terms = queryTerms(text);
        const hits = await searchIndex.keywordSearch({
          vectorStoreIds: storeIds,
          terms,
          limit: depth,
          fileIds: allowedFiles,
        });
        lists.push({ kind: 'keyword', ids: hits.map((hit) => hit.chunkId) });
      }
      if (isHybrid() && embeddingModel) {
        const embeddings = await embedTexts(embeddingModel, queries, { signal });
        for (const embedding of embeddings) {
          // Over-fetch when a filter will discard some of them.
          const hits = await searchIndex.vectorSearch({
            vectorStoreIds: storeIds,
            embedding,
            limit: allowedFiles === undefined ? depth : depth * 4,
          });
          lists.push({ kind: 'vector', ids: hits.map((hit) => hit.chunkId) });
        }
      }

      const fused = fuseRankings(lists.map((list) => list.ids));
      const allowed = allowedFiles === undefined ? undefined : new Set(allowedFiles);
      const best = maxFusedScore(lists.length);
      const picked: { chunk: StoredChunk; item: (typeof fused)[number] }[] = [];
      // Chunks are read in slices, best first: usually the first slice is all a search needs.
      const slice = maxResults + 5;
      for (let start = 0; start < fused.length && picked.length < maxResults; start += slice) {
        const items = fused.slice(start, start + slice);
        if (items[0] && Math.min(1, items[0].score / best) < scoreThreshold) break;
        const chunks = await repositories.chunks.findMany(items.map((item) => item.key));
        for (const item of items) {
          if (picked.length >= maxResults) break;
          const chunk = chunks.get(item.key);
          // Gone since it was ranked (a file removed meanwhile), or filtered out.
          if (!chunk || (allowed && !allowed.has(chunk.fileId))) continue;
          if (Math.min(1, item.score / best) < scoreThreshold) continue;
          picked.push({ chunk, item });
        }
      }
      const attributes = await repositories.vectorStoreFiles.attributesOf(
        storeIds,
        picked.map(({ chunk }) => chunk.fileId),
      );
      const results: SearchResult[] = picked.map(({ chunk, item }) => ({
        chunkId: chunk.id,
        vectorStoreId: chunk.vectorStoreId,
        fileId: chunk.fileId,
        filename: chunk.filename,
        score: Math.min(1, item.score / best),
        attributes: attributes.get(`${chunk.vectorStoreId}\n${chunk.fileId}`) ?? {},
        text: chunk.text,
        chunkIndex: chunk.index,
        startOffset: chunk.startOffset,
        endOffset: chunk.endOffset,
        matchedBy: [
          ...new Set(item.ranks.flatMap((rank, index) => (rank === null ? [] : [lists[index]!.kind]))),
        ],
      }));
      return { queries, results };
    },
  };
}
