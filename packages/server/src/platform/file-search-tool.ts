// file_search (v2) / retrieval (v1) for runs: the tool spec's FileSearchTool over the retrieval
// engine. The run's vector stores are searched as they are. Files a run may search that are in
// no store (v1 `file_ids`, v2 message attachments) are indexed once per workspace in a store the
// server keeps for itself, and searched there restricted to the run's own files. Like OpenAI, a
// search first waits (a while) for files still being indexed.

import type { Chunking } from '../storage/repositories/vector-store-files-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { Retrieval, SearchResult } from '../tools/retrieval/search-vector-stores.js';
import type { FileSearchHit, FileSearchTool } from '../tools/spec.js';
import type { VectorStoresService } from './vector-stores-service.js';

/** Names the workspace's internal store of files given to runs outside any vector store. */
export const RUN_FILES_STORE_KEY = 'run-files';

export interface CreateFileSearchToolOptions {
  readonly repositories: Repositories;
  readonly vectorStores: VectorStoresService;
  readonly retrieval: Retrieval;
  /** Longest wait for files still being indexed; then what is ready is searched (OpenAI: 60 s). */
  readonly indexWaitMs?: number;
  /** Between two looks at the files being indexed. */
  readonly pollMs?: number;
}

export function createFileSearchTool({
  repositories,
  vectorStores,
  retrieval,
  indexWaitMs = 60_000,
  pollMs = 100,
}: CreateFileSearchToolOptions): FileSearchTool {
  /** Waits until `pending` says nothing is being indexed, or the time is up. */
  async function waitForIndexing(pending: () => Promise<boolean>, signal: AbortSignal | undefined) {
    const deadline = Date.now() + indexWaitMs;
    let delay = pollMs;
    while ((await pending()) && Date.now() < deadline) {
      signal?.throwIfAborted();
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), signal);
      delay = Math.min(delay * 2, 1_000);
    }
  }

  /** The run's stores that can be searched (a store deleted or expired since is left out). */
  async function usableStores(workspaceId: string, ids: readonly string[], signal: AbortSignal | undefined) {
    if (ids.length === 0) return [];
    const find = () => repositories.vectorStores.findMany(workspaceId, [...new Set(ids)]);
    await waitForIndexing(
      async () => (await find()).some((store) => store.fileCounts.inProgress > 0),
      signal,
    );
    return (await find()).filter((store) => store.status !== 'expired').map((store) => store.id);
  }

  /** Indexes the files in the workspace's internal store (once each); returns its id. */
  async function indexRunFiles(workspaceId: string, ids: readonly string[], signal: AbortSignal | undefined) {
    const store = await repositories.vectorStores.ensureInternal({
      workspaceId,
      key: RUN_FILES_STORE_KEY,
      name: 'Files given to runs',
    });
    // Files deleted since the run was created are skipped, not an error.
    const files = (await repositories.files.findMany(workspaceId, [...new Set(ids)])).map((file) => file.id);
    const entries = () =>
      Promise.all(files.map((id) => repositories.vectorStoreFiles.find(workspaceId, store.id, id)));
    for (const [index, entry] of (await entries()).entries()) {
      if (entry) continue;
      // Another run may attach the same file at the same moment: then its entry is what counts.
      await vectorStores
        .attachFile(workspaceId, store.id, { fileId: files[index]! })
        .catch(async (error: unknown) => {
          if (!(await repositories.vectorStoreFiles.find(workspaceId, store.id, files[index]!))) throw error;
        });
    }
    await waitForIndexing(
      async () => (await entries()).some((entry) => entry?.status === 'in_progress'),
      signal,
    );
    return { storeId: store.id, fileIds: files };
  }

  return {
    async search({
      workspaceId,
      vectorStoreIds,
      fileIds,
      query,
      userMessage = '',
      maxResults,
      scoreThreshold = 0,
      signal,
    }) {
      // One query of both: ranked lists of each, fused by rank, would let a query that matches
      // only filler words outvote the question; in one BM25 query the words that tell the
      // files apart weigh the most.
      const text = [...new Set([query.trim(), userMessage.trim()])].filter((part) => part !== '').join('\n');
      if (text === '') return [];
      const common = { workspaceId, query: text, maxResults, scoreThreshold, signal };
      const [stores, runFiles] = await Promise.all([
        usableStores(workspaceId, vectorStoreIds, signal),
        fileIds.length > 0 ? indexRunFiles(workspaceId, fileIds, signal) : undefined,
      ]);
      const outcomes = await Promise.all([
        stores.length > 0 ? retrieval.search({ ...common, vectorStoreIds: stores }) : undefined,
        runFiles && runFiles.fileIds.length > 0
          ? retrieval.search({ ...common, vectorStoreIds: [runFiles.storeId], fileIds: runFiles.fileIds })
          : undefined,
      ]);
      return mergeResults(
        outcomes.flatMap((outcome) => outcome?.results ?? []),
        maxResults,
      );
    },

    async createVectorStore({ workspaceId, fileIds, metadata, chunkingStrategy }) {
      const store = await vectorStores.create({
        workspaceId,
        fileIds,
        metadata,
        chunking: toChunking(chunkingStrategy),
      });
      return store.id;
    },
  };
}

/** Best first; a passage found in two places (a file in a store and given to the run) once. */
function mergeResults(results: readonly SearchResult[], maxResults: number): FileSearchHit[] {
  const seen = new Set<string>();
  const hits: FileSearchHit[] = [];
  for (const result of [...results].sort((a, b) => b.score - a.score)) {
    const key = `${result.fileId}\n${result.startOffset}\n${result.endOffset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    hits.push({ fileId: result.fileId, fileName: result.filename, score: result.score, text: result.text });
    if (hits.length >= maxResults) break;
  }
  return hits;
}

/** The wire `chunking_strategy` of the `vector_stores` helper (checked by the route's schema). */
function toChunking(strategy: Readonly<Record<string, unknown>> | undefined): Chunking | undefined {
  if (strategy?.['type'] !== 'static') return undefined;
  const settings = strategy['static'] as
    | { readonly max_chunk_size_tokens?: unknown; readonly chunk_overlap_tokens?: unknown }
    | undefined;
  if (
    typeof settings?.max_chunk_size_tokens !== 'number' ||
    typeof settings.chunk_overlap_tokens !== 'number'
  )
    return undefined;
  return {
    maxChunkSizeTokens: settings.max_chunk_size_tokens,
    chunkOverlapTokens: settings.chunk_overlap_tokens,
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
