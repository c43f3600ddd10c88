// Vector stores as the product handles them: a store and its files belong to one workspace and
// only files of that workspace can be attached; attaching queues ingestion (and wakes the
// worker); a batch can be cancelled while its files wait; search goes through the retrieval
// engine. Chunking defaults to OpenAI's "auto": 800-token chunks overlapping by 400.

import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { Page, SortOrder } from '../storage/paging.js';
import type { StoredFile } from '../storage/repositories/files-repository.js';
import type { VectorStoreFileBatch } from '../storage/repositories/vector-store-file-batches-repository.js';
import type {
  Attributes,
  Chunking,
  VectorStoreFile,
} from '../storage/repositories/vector-store-files-repository.js';
import type { VectorStore } from '../storage/repositories/vector-stores-repository.js';
import type { Repositories } from '../storage/repositories.js';
import { DEFAULT_CHUNKING } from '../tools/retrieval/chunk-text.js';
import type {
  Retrieval,
  SearchOutcome,
  SearchVectorStoresParams,
} from '../tools/retrieval/search-vector-stores.js';

export interface PageQuery {
  readonly limit: number;
  readonly order: SortOrder;
  readonly after?: string | undefined;
  readonly before?: string | undefined;
}

export interface FileToAttach {
  readonly fileId: string;
  /** Undefined: the default (auto). */
  readonly chunking?: Chunking | undefined;
  readonly attributes?: Attributes | undefined;
}

export interface VectorStoresService {
  create(params: {
    readonly workspaceId: string;
    readonly name?: string | undefined;
    readonly metadata?: Readonly<Record<string, string>> | undefined;
    readonly expiresAfterDays?: number | null | undefined;
    readonly fileIds?: readonly string[] | undefined;
    readonly chunking?: Chunking | undefined;
  }): Promise<VectorStore>;
  get(workspaceId: string, id: string): Promise<VectorStore>;
  list(workspaceId: string, page: PageQuery): Promise<Page<VectorStore>>;
  update(
    workspaceId: string,
    id: string,
    changes: {
      readonly name?: string | undefined;
      readonly metadata?: Readonly<Record<string, string>> | undefined;
      readonly expiresAfterDays?: number | null | undefined;
    },
  ): Promise<VectorStore>;
  delete(workspaceId: string, id: string): Promise<void>;

  attachFile(workspaceId: string, vectorStoreId: string, file: FileToAttach): Promise<VectorStoreFile>;
  getFile(workspaceId: string, vectorStoreId: string, fileId: string): Promise<VectorStoreFile>;
  listFiles(
    workspaceId: string,
    vectorStoreId: string,
    query: PageQuery & { readonly status?: VectorStoreFile['status'] | undefined; readonly batchId?: string },
  ): Promise<Page<VectorStoreFile>>;
  updateFileAttributes(
    workspaceId: string,
    vectorStoreId: string,
    fileId: string,
    attributes: Attributes,
  ): Promise<VectorStoreFile>;
  detachFile(workspaceId: string, vectorStoreId: string, fileId: string): Promise<void>;
  /** The file's parsed text, as ingestion extracted it (empty until then). */
  fileContent(workspaceId: string, vectorStoreId: string, fileId: string): Promise<string>;

  createBatch(
    workspaceId: string,
    vectorStoreId: string,
    files: readonly FileToAttach[],
  ): Promise<VectorStoreFileBatch>;
  getBatch(workspaceId: string, vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatch>;
  cancelBatch(workspaceId: string, vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatch>;

  search(params: SearchVectorStoresParams): Promise<SearchOutcome>;
}

export function createVectorStoresService({
  repositories,
  retrieval,
  onQueued = () => {},
}: {
  repositories: Repositories;
  retrieval: Retrieval;
  /** Called after files were queued for ingestion (wakes the worker). */
  onQueued?: () => void;
}): VectorStoresService {
  async function requireStore(scoped: Repositories, workspaceId: string, id: string): Promise<VectorStore> {
    const store = await scoped.vectorStores.find(workspaceId, id);
    if (!store)
      throw new NotFoundError(`No vector store found with id '${id}'.`, { param: 'vector_store_id' });
    return store;
  }

  /** The workspace's files among the ids, or a 404 naming the first one that is not. */
  async function requireFiles(scoped: Repositories, workspaceId: string, ids: readonly string[]) {
    const found = await scoped.files.findMany(workspaceId, ids);
    const byId = new Map<string, StoredFile>(found.map((file) => [file.id, file]));
    for (const id of ids) {
      if (!byId.has(id)) throw new NotFoundError(`No file found with id '${id}'.`, { param: 'file_id' });
    }
    return byId;
  }

  async function attach(
    scoped: Repositories,
    workspaceId: string,
    vectorStoreId: string,
    files: readonly FileToAttach[],
  ): Promise<readonly VectorStoreFile[]> {
    await requireFiles(
      scoped,
      workspaceId,
      files.map((file) => file.fileId),
    );
    const attached = await scoped.vectorStoreFiles.add({
      workspaceId,
      vectorStoreId,
      files: files.map((file) => ({
        fileId: file.fileId,
        chunking: file.chunking ?? DEFAULT_CHUNKING,
        attributes: file.attributes,
      })),
    });
    await scoped.vectorStores.touch(vectorStoreId);
    return attached;
  }

  function queued(files: readonly { status: string }[]) {
    if (files.some((file) => file.status === 'in_progress')) onQueued();
  }

  const service: VectorStoresService = {
    async create({ workspaceId, name, metadata, expiresAfterDays, fileIds = [], chunking }) {
      const unique = [...new Set(fileIds)];
      const store = await repositories.transaction(async (scoped) => {
        const created = await scoped.vectorStores.create({
          workspaceId,
          name: name ?? '',
          metadata: metadata ?? {},
          expiresAfterDays: expiresAfterDays ?? null,
        });
        if (unique.length > 0) {
          await attach(
            scoped,
            workspaceId,
            created.id,
            unique.map((fileId) => ({ fileId, chunking })),
          );
        }
        return created;
      });
      if (unique.length > 0) onQueued();
      return service.get(workspaceId, store.id);
    },

    get: (workspaceId, id) => requireStore(repositories, workspaceId, id),

    list: (workspaceId, page) => repositories.vectorStores.list({ workspaceId, ...page }),

    async update(workspaceId, id, changes) {
      const store = await repositories.vectorStores.update(workspaceId, id, changes);
      if (!store)
        throw new NotFoundError(`No vector store found with id '${id}'.`, { param: 'vector_store_id' });
      return store;
    },

    async delete(workspaceId, id) {
      if (!(await repositories.vectorStores.delete(workspaceId, id))) {
        throw new NotFoundError(`No vector store found with id '${id}'.`, { param: 'vector_store_id' });
      }
    },

    async attachFile(workspaceId, vectorStoreId, file) {
      const [attached] = await repositories.transaction(async (scoped) => {
        await requireStore(scoped, workspaceId, vectorStoreId);
        return attach(scoped, workspaceId, vectorStoreId, [file]);
      });
      queued([attached!]);
      return attached!;
    },

    async getFile(workspaceId, vectorStoreId, fileId) {
      await requireStore(repositories, workspaceId, vectorStoreId);
      const file = await repositories.vectorStoreFiles.find(workspaceId, vectorStoreId, fileId);
      if (!file) throw vectorStoreFileNotFound(vectorStoreId, fileId);
      return file;
    },

    async listFiles(workspaceId, vectorStoreId, { status, batchId, ...page }) {
      await requireStore(repositories, workspaceId, vectorStoreId);
      return repositories.vectorStoreFiles.list({ workspaceId, vectorStoreId, status, batchId, ...page });
    },

    async updateFileAttributes(workspaceId, vectorStoreId, fileId, attributes) {
      await requireStore(repositories, workspaceId, vectorStoreId);
      const file = await repositories.vectorStoreFiles.updateAttributes(
        workspaceId,
        vectorStoreId,
        fileId,
        attributes,
      );
      if (!file) throw vectorStoreFileNotFound(vectorStoreId, fileId);
      return file;
    },

    async detachFile(workspaceId, vectorStoreId, fileId) {
      await requireStore(repositories, workspaceId, vectorStoreId);
      if (!(await repositories.vectorStoreFiles.delete(workspaceId, vectorStoreId, fileId))) {
        throw vectorStoreFileNotFound(vectorStoreId, fileId);
      }
    },

    async fileContent(workspaceId, vectorStoreId, fileId) {
      await service.getFile(workspaceId, vectorStoreId, fileId);
      return (await repositories.fileTexts.find(fileId))?.text ?? '';
    },

    async createBatch(workspaceId, vectorStoreId, files) {
      if (files.length === 0)
        throw new InvalidRequestError('A batch needs at least one file.', { param: 'file_ids' });
      const unique = [...new Map(files.map((file) => [file.fileId, file])).values()];
      const batch = await repositories.transaction(async (scoped) => {
        await requireStore(scoped, workspaceId, vectorStoreId);
        await attach(scoped, workspaceId, vectorStoreId, unique);
        return scoped.vectorStoreFileBatches.create({
          workspaceId,
          vectorStoreId,
          fileIds: unique.map((file) => file.fileId),
        });
      });
      if (batch.fileCounts.inProgress > 0) onQueued();
      return batch;
    },

    async getBatch(workspaceId, vectorStoreId, batchId) {
      await requireStore(repositories, workspaceId, vectorStoreId);
      const batch = await repositories.vectorStoreFileBatches.find(workspaceId, vectorStoreId, batchId);
      if (!batch) {
        throw new NotFoundError(
          `No file batch found with id '${batchId}' in vector store '${vectorStoreId}'.`,
          {
            param: 'batch_id',
          },
        );
      }
      return batch;
    },

    async cancelBatch(workspaceId, vectorStoreId, batchId) {
      const batch = await service.getBatch(workspaceId, vectorStoreId, batchId);
      // A batch that is done stays done: there is nothing left to cancel.
      if (batch.status !== 'in_progress') return batch;
      await repositories.transaction(async (scoped) => {
        const fileIds = await scoped.vectorStoreFileBatches.fileIds(batchId);
        await scoped.vectorStoreFiles.cancelInProgress(vectorStoreId, fileIds);
        await scoped.vectorStoreFileBatches.markCancelled(batchId);
      });
      return service.getBatch(workspaceId, vectorStoreId, batchId);
    },

    search: (params) => retrieval.search(params),
  };
  return service;
}

function vectorStoreFileNotFound(vectorStoreId: string, fileId: string): NotFoundError {
  return new NotFoundError(`No file found with id '${fileId}' in vector store '${vectorStoreId}'.`, {
    param: 'file_id',
  });
}
