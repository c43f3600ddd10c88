// The retrieval engine without the HTTP server, for the quality test and the benchmark: a
// database (SQLite in a temp dir, or a fresh PostgreSQL schema), the blob store, the ingestion
// worker and the search, wired as main.ts wires them.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import type { EmbeddingModel } from '../../../inference/spec.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { type DatabaseDialect, type DatabaseHandle, openDatabase } from '../../../storage/database.js';
import { createFileBlobStore } from '../../../storage/file-blob-store.js';
import { migrateToLatest } from '../../../storage/migrations/migrate-to-latest.js';
import { openSearchIndex } from '../../../storage/open-search-index.js';
import type { Chunking } from '../../../storage/repositories/vector-store-files-repository.js';
import { createRepositories, type Repositories } from '../../../storage/repositories.js';
import type { SearchIndex } from '../../../storage/search-index.js';
import { DEFAULT_CHUNKING } from '../chunk-text.js';
import { createIngestionWorker, type IngestionWorker } from '../ingestion-worker.js';
import { createRetrieval, type Retrieval } from '../search-vector-stores.js';

export interface RetrievalHarness {
  readonly database: DatabaseHandle;
  readonly repositories: Repositories;
  readonly blobStore: BlobStore;
  readonly searchIndex: SearchIndex;
  readonly retrieval: Retrieval;
  /** Keyword search only, on the same index (to compare with hybrid). */
  readonly keywordRetrieval: Retrieval;
  readonly worker: IngestionWorker;
  readonly workspaceId: string;
  createVectorStore(name?: string): Promise<string>;
  /** Uploads and attaches the documents, and waits until they are ingested. */
  ingest(
    vectorStoreId: string,
    documents: readonly { readonly filename: string; readonly text: string }[],
    chunking?: Chunking,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface OpenRetrievalHarnessOptions {
  readonly dialect?: DatabaseDialect;
  readonly embeddingModel?: EmbeddingModel | null;
  /** PostgreSQL server (default: the tests' one). */
  readonly postgresUrl?: string;
  readonly concurrency?: number;
}

export async function openRetrievalHarness({
  dialect = 'sqlite',
  embeddingModel = null,
  postgresUrl = process.env['ATELIER_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
  concurrency = 2,
}: OpenRetrievalHarnessOptions = {}): Promise<RetrievalHarness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'atelier-retrieval-'));
  const schema = `atelier_retrieval_${randomBytes(6).toString('hex')}`;
  if (dialect === 'postgres') await admin(postgresUrl, `create schema ${schema}`);
  const database = await openDatabase(
    dialect === 'postgres' ? { url: postgresUrl, dataDir, searchPath: schema } : { dataDir },
  );
  await migrateToLatest(database.db);
  const repositories = createRepositories(database.db);
  const owner = await repositories.accounts.create({ name: 'Bench' });
  const workspace = await repositories.workspaces.create({ name: 'Bench', ownerAccountId: owner.id });
  const blobStore = createFileBlobStore({ root: path.join(dataDir, 'files') });
  const searchIndex = openSearchIndex(database);
  if (embeddingModel) {
    const probe = await embeddingModel.embed({ inputs: ['dimensions'] });
    await searchIndex.useEmbeddingSpace({
      model: embeddingModel.info.id,
      dimensions: probe.embeddings[0]!.length,
    });
  }
  const worker = createIngestionWorker({
    db: database.db,
    repositories,
    blobStore,
    searchIndex,
    embeddingModel,
    concurrency,
    pollIntervalMs: 200,
  });
  worker.start();
  return {
    database,
    repositories,
    blobStore,
    searchIndex,
    retrieval: createRetrieval({ repositories, searchIndex, embeddingModel }),
    keywordRetrieval: createRetrieval({ repositories, searchIndex, embeddingModel: null }),
    worker,
    workspaceId: workspace.id,
    async createVectorStore(name = 'corpus') {
      return (await repositories.vectorStores.create({ workspaceId: workspace.id, name })).id;
    },
    async ingest(vectorStoreId, documents, chunking = DEFAULT_CHUNKING) {
      const fileIds: string[] = [];
      for (const document of documents) {
        const pending = await blobStore.write(Readable.from([Buffer.from(document.text)]), {
          maxBytes: Number.MAX_SAFE_INTEGER,
        });
        const file = await repositories.files.create({
          workspaceId: workspace.id,
          filename: document.filename,
          purpose: 'assistants',
          bytes: pending.bytes,
          sha256: pending.sha256,
        });
        await pending.commit();
        fileIds.push(file.id);
      }
      for (let start = 0; start < fileIds.length; start += 500) {
        await repositories.vectorStoreFiles.add({
          workspaceId: workspace.id,
          vectorStoreId,
          files: fileIds.slice(start, start + 500).map((fileId) => ({ fileId, chunking })),
        });
      }
      worker.wake();
      await worker.idle();
    },
    async close() {
      await worker.stop();
      await database.close();
      if (dialect === 'postgres') await admin(postgresUrl, `drop schema if exists ${schema} cascade`);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function admin(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
