// /v1/vector_stores: stores, their files, file batches, parsed file content and search
// (Assistants v2 and later). Responses about work in progress carry `openai-poll-after-ms`, which
// the SDKs' createAndPoll/uploadAndPoll helpers follow.
import {
  FileBatchCreateParams,
  VectorStoreCreateParams,
  type VectorStoreDeleted,
  type VectorStoreFileContentPage,
  VectorStoreFileCreateParams,
  type VectorStoreFileDeleted,
  VectorStoreFileListParams,
  VectorStoreFileUpdateParams,
  VectorStoreListParams,
  VectorStoreSearchParams,
  VectorStoreUpdateParams,
} from '@atelier/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { VectorStoresService } from '../../platform/vector-stores-service.js';
import { fromWireAttributes, fromWireChunking } from '../from-wire-vector-stores.js';
import { parseBody } from '../parse.js';
import { toWirePage } from '../to-wire-files.js';
import {
  toWireFileBatch,
  toWireSearchPage,
  toWireVectorStore,
  toWireVectorStoreFile,
} from '../to-wire-vector-stores.js';

export interface VectorStoresRouteServices {
  readonly vectorStores: VectorStoresService;
  /** Suggested polling interval while ingestion runs. */
  readonly pollAfterMs?: number;
}

type StoreParams = { Params: { vector_store_id: string } };
type StoreFileParams = { Params: { vector_store_id: string; file_id: string } };
type BatchParams = { Params: { vector_store_id: string; batch_id: string } };

export function registerVectorStores(
  app: FastifyInstance,
  { vectorStores, pollAfterMs = 250 }: VectorStoresRouteServices,
): void {
  const pollHint = (reply: FastifyReply, status: string) => {
    if (status === 'in_progress') void reply.header('openai-poll-after-ms', String(pollAfterMs));
  };

  app.post('/v1/vector_stores', async (request, reply) => {
    const params = parseBody(VectorStoreCreateParams, request.body);
    const store = await vectorStores.create({
      workspaceId: request.principal!.workspaceId,
      name: params.name,
      metadata: params.metadata ?? undefined,
      expiresAfterDays: params.expires_after?.days,
      fileIds: params.file_ids,
      chunking: fromWireChunking(params.chunking_strategy),
    });
    pollHint(reply, store.status);
    return toWireVectorStore(store);
  });

  app.get('/v1/vector_stores', async (request) => {
    const query = VectorStoreListParams.parse(request.query ?? {});
    return toWirePage(await vectorStores.list(request.principal!.workspaceId, query), toWireVectorStore);
  });

  app.get<StoreParams>('/v1/vector_stores/:vector_store_id', async (request, reply) => {
    const store = await vectorStores.get(request.principal!.workspaceId, request.params.vector_store_id);
    pollHint(reply, store.status);
    return toWireVectorStore(store);
  });

  app.post<StoreParams>('/v1/vector_stores/:vector_store_id', async (request) => {
    const params = parseBody(VectorStoreUpdateParams, request.body);
    const store = await vectorStores.update(request.principal!.workspaceId, request.params.vector_store_id, {
      name: params.name ?? undefined,
      metadata: params.metadata ?? undefined,
      // null removes the expiry; absent leaves it.
      expiresAfterDays: params.expires_after === undefined ? undefined : (params.expires_after?.days ?? null),
    });
    return toWireVectorStore(store);
  });

  app.delete<StoreParams>(
    '/v1/vector_stores/:vector_store_id',
    async (request): Promise<VectorStoreDeleted> => {
      await vectorStores.delete(request.principal!.workspaceId, request.params.vector_store_id);
      return { id: request.params.vector_store_id, object: 'vector_store.deleted', deleted: true };
    },
  );

  app.post<StoreParams>('/v1/vector_stores/:vector_store_id/files', async (request, reply) => {
    const params = parseBody(VectorStoreFileCreateParams, request.body);
    const file = await vectorStores.attachFile(
      request.principal!.workspaceId,
      request.params.vector_store_id,
      {
        fileId: params.file_id,
        chunking: fromWireChunking(params.chunking_strategy),
        attributes: fromWireAttributes(params.attributes),
      },
    );
    pollHint(reply, file.status);
    return toWireVectorStoreFile(file);
  });

  app.get<StoreParams>('/v1/vector_stores/:vector_store_id/files', async (request) => {
    const { filter, ...page } = VectorStoreFileListParams.parse(request.query ?? {});
    const files = await vectorStores.listFiles(
      request.principal!.workspaceId,
      request.params.vector_store_id,
      {
        ...page,
        status: filter,
      },
    );
    return toWirePage(files, toWireVectorStoreFile);
  });

  app.get<StoreFileParams>('/v1/vector_stores/:vector_store_id/files/:file_id', async (request, reply) => {
    const { vector_store_id, file_id } = request.params;
    const file = await vectorStores.getFile(request.principal!.workspaceId, vector_store_id, file_id);
    pollHint(reply, file.status);
    return toWireVectorStoreFile(file);
  });

  app.post<StoreFileParams>('/v1/vector_stores/:vector_store_id/files/:file_id', async (request) => {
    const { vector_store_id, file_id } = request.params;
    const params = parseBody(VectorStoreFileUpdateParams, request.body);
    const file = await vectorStores.updateFileAttributes(
      request.principal!.workspaceId,
      vector_store_id,
      file_id,
      fromWireAttributes(params.attributes) ?? {},
    );
    return toWireVectorStoreFile(file);
  });

  app.delete<StoreFileParams>(
    '/v1/vector_stores/:vector_store_id/files/:file_id',
    async (request): Promise<VectorStoreFileDeleted> => {
      const { vector_store_id, file_id } = request.params;
      await vectorStores.detachFile(request.principal!.workspaceId, vector_store_id, file_id);
      return { id: file_id, object: 'vector_store.file.deleted', deleted: true };
    },
  );

  app.get<StoreFileParams>(
    '/v1/vector_stores/:vector_store_id/files/:file_id/content',
    async (request): Promise<VectorStoreFileContentPage> => {
      const { vector_store_id, file_id } = request.params;
      const text = await vectorStores.fileContent(request.principal!.workspaceId, vector_store_id, file_id);
      return {
        object: 'vector_store.file_content.page',
        data: text === '' ? [] : [{ type: 'text', text }],
        has_more: false,
        next_page: null,
      };
    },
  );

  app.post<StoreParams>('/v1/vector_stores/:vector_store_id/file_batches', async (request, reply) => {
    const params = parseBody(FileBatchCreateParams, request.body);
    const chunking = fromWireChunking(params.chunking_strategy);
    const attributes = fromWireAttributes(params.attributes);
    const files =
      params.files?.map((file) => ({
        fileId: file.file_id,
        chunking: fromWireChunking(file.chunking_strategy) ?? chunking,
        attributes: fromWireAttributes(file.attributes) ?? attributes,
      })) ?? (params.file_ids ?? []).map((fileId) => ({ fileId, chunking, attributes }));
    const batch = await vectorStores.createBatch(
      request.principal!.workspaceId,
      request.params.vector_store_id,
      files,
    );
    pollHint(reply, batch.status);
    return toWireFileBatch(batch);
  });

  app.get<BatchParams>(
    '/v1/vector_stores/:vector_store_id/file_batches/:batch_id',
    async (request, reply) => {
      const { vector_store_id, batch_id } = request.params;
      const batch = await vectorStores.getBatch(request.principal!.workspaceId, vector_store_id, batch_id);
      pollHint(reply, batch.status);
      return toWireFileBatch(batch);
    },
  );

  app.post<BatchParams>(
    '/v1/vector_stores/:vector_store_id/file_batches/:batch_id/cancel',
    async (request) => {
      const { vector_store_id, batch_id } = request.params;
      return toWireFileBatch(
        await vectorStores.cancelBatch(request.principal!.workspaceId, vector_store_id, batch_id),
      );
    },
  );

  app.get<BatchParams>('/v1/vector_stores/:vector_store_id/file_batches/:batch_id/files', async (request) => {
    const { vector_store_id, batch_id } = request.params;
    const workspaceId = request.principal!.workspaceId;
    // 404 for a batch of another store or workspace.
    await vectorStores.getBatch(workspaceId, vector_store_id, batch_id);
    const { filter, ...page } = VectorStoreFileListParams.parse(request.query ?? {});
    const files = await vectorStores.listFiles(workspaceId, vector_store_id, {
      ...page,
      status: filter,
      batchId: batch_id,
    });
    return toWirePage(files, toWireVectorStoreFile);
  });

  app.post<StoreParams>('/v1/vector_stores/:vector_store_id/search', async (request) => {
    const params = parseBody(VectorStoreSearchParams, request.body);
    const outcome = await vectorStores.search({
      workspaceId: request.principal!.workspaceId,
      vectorStoreIds: [request.params.vector_store_id],
      query: params.query,
      maxResults: params.max_num_results,
      filter: params.filters,
      scoreThreshold: params.ranking_options?.score_threshold ?? 0,
    });
    return toWireSearchPage(outcome);
  });
}
