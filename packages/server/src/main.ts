// The only composition root: config → storage → inference → http. Everything else receives what
// it needs; adapters (SQLite/Postgres, llama.cpp, OpenAI-compatible upstreams) are chosen here and
// in start-models.ts and start-tools.ts, its parts for models and built-in tools, and nowhere else.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gptModelName, parseGptAssistantId, parseGptModelName } from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config/config.js';
import type { EventBus } from './engine/event-bus.js';
import { createImageInputs } from './engine/image-inputs.js';
import { createInProcessEventBus } from './engine/in-process-event-bus.js';
import { createRedisEventBus } from './engine/redis-event-bus.js';
import { createRunEngine, type ExternalAssistants, type RunEngine } from './engine/run-engine.js';
import { type RunWorkers, startRunWorkers } from './engine/run-worker.js';
import { summarizeWithModel } from './engine/thread-summarizer.js';
import { TokenCounter } from './engine/token-counter.js';
import { ConfigError, ServiceUnavailableError } from './errors.js';
import { buildApp } from './http/app.js';
import type { ModelRegistry } from './inference/model-registry.js';
import type { EmbeddingModel } from './inference/spec.js';
import { type AccountServices, createAccountServices } from './platform/account-services.js';
import { type ActionsService, createActionsService } from './platform/actions-service.js';
import { createApiKeyVerifier, ensureBootstrapApiKey } from './platform/api-keys.js';
import { createFilesService, type FilesService } from './platform/files-service.js';
import { gptAssistants } from './platform/gpts-runs.js';
import { createGptsService } from './platform/gpts-service.js';
import { createServerMetrics, type ServerMetrics } from './platform/server-metrics.js';
import { createUsageLedger, type UsageLedger } from './platform/usage-ledger.js';
import { createVectorStoresService, type VectorStoresService } from './platform/vector-stores-service.js';
import { type Models, startModels } from './start-models.js';
import { type StartedTools, startBuiltInTools } from './start-tools.js';
import type { BlobStore } from './storage/blob-store.js';
import { type DatabaseHandle, openDatabase } from './storage/database.js';
import { createFileBlobStore } from './storage/file-blob-store.js';
import { migrateToLatest } from './storage/migrations/migrate-to-latest.js';
import { openSearchIndex } from './storage/open-search-index.js';
import { createActionsRepository } from './storage/repositories/actions-repository.js';
import { createModelUsageRepository } from './storage/repositories/model-usage-repository.js';
import { createRepositories, type Repositories } from './storage/repositories.js';
import type { SearchIndex } from './storage/search-index.js';
import { loadSecretBox } from './storage/secret-box.js';
import { createOutboundPolicy } from './tools/outbound/outbound-policy.js';
import { createIngestionWorker, type IngestionWorker } from './tools/retrieval/ingestion-worker.js';
import { createRetrieval, type Retrieval } from './tools/retrieval/search-vector-stores.js';
import type { BuiltInTools } from './tools/spec.js';

export { TEST_MODEL_ID, testModelNotice } from './start-models.js';

export interface Storage {
  readonly database: DatabaseHandle;
  readonly repositories: Repositories;
}

/** Opens the database named by the config and brings its schema up to date. */
export async function openStorage(config: Config): Promise<Storage> {
  await mkdir(config.dataDir, { recursive: true });
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, repositories: createRepositories(database.db) };
}

export interface Server {
  readonly app: FastifyInstance;
  readonly storage: Storage;
  readonly registry: ModelRegistry;
  /** Set once `listen` ran. */
  readonly url: string | undefined;
  /** Whether the random-weights test model was created because no model was configured. */
  readonly createdTestModel: boolean;
  /** Applies what was written to the model registry's tables now (the server also polls). */
  reloadRegistry(): Promise<void>;
  readonly knowledge: Knowledge;
  readonly runs: Runs;
  /** GPT actions: import, configure, consent, OAuth and calls (platform/actions-service.ts). */
  readonly actions: ActionsService;
  close(): Promise<void>;
}

export interface StartServerOptions {
  readonly config: Config;
  readonly logger?: Logger;
  /** false: build everything but do not open a port (tests use `app.inject`). */
  readonly listen?: boolean;
  /**
   * The built-in tools of Assistants runs (file_search, code_interpreter). Undefined: the
   * server's own (start-tools.ts): file_search over the vector stores, code_interpreter in this
   * machine's sandbox when it can run one. Tests may pass others (or none: `{}`).
   */
  readonly tools?: BuiltInTools;
}

export async function startServer({
  config,
  logger = undefined,
  listen = true,
  tools: givenTools = undefined,
}: StartServerOptions): Promise<Server> {
  const log = logger ?? pino({ level: config.logLevel });
  const storage = await openStorage(config);
  // Prometheus metrics (GET /metrics): handed to each part that counts, never imported by it.
  const metrics = config.metrics ? createServerMetrics() : undefined;
  let models: Models | undefined;
  let knowledge: Knowledge | undefined;
  let runs: Runs | undefined;
  let builtIn: StartedTools | undefined;
  try {
    if (config.bootstrapApiKey) {
      const outcome = await ensureBootstrapApiKey({
        repositories: storage.repositories,
        secret: config.bootstrapApiKey,
      });
      if (outcome === 'created') log.info('created the bootstrap API key from ATELIER_BOOTSTRAP_API_KEY');
      if (outcome === 'revoked') log.warn('ATELIER_BOOTSTRAP_API_KEY was revoked and stays revoked');
    }
    models = await startModels({
      config,
      repositories: storage.repositories,
      logger: log,
      observeUpstream: metrics && ((name) => metrics.upstream(name)),
    });
    const { registry, createdTestModel } = models;
    for (const model of registry.list()) if (model.notice) log.warn(model.notice);
    knowledge = await startKnowledge({ config, storage, registry, log });
    builtIn = givenTools
      ? { tools: givenTools, interpreter: undefined, close: async () => {} }
      : await startBuiltInTools({
          config,
          repositories: storage.repositories,
          files: knowledge.files,
          vectorStores: knowledge.vectorStores,
          retrieval: knowledge.retrieval,
          log,
        });
    const { tools } = builtIn;
    const actions = createActionsService({
      repository: createActionsRepository(storage.database.db),
      secrets: await loadSecretBox({ dataDir: config.dataDir, secretKey: config.secretKey }),
      policy: createOutboundPolicy({ allow: config.outboundAllow }),
      timeoutMs: config.actionTimeoutSeconds * 1000,
      maxResponseBytes: config.actionMaxResponseBytes,
    });
    const gpts = createGptsService({
      repositories: storage.repositories,
      models: registry,
      vectorStores: knowledge.vectorStores,
      files: knowledge.files,
      secrets: await loadSecretBox({ dataDir: config.dataDir, secretKey: config.secretKey }),
      actions,
    });
    // Every model call is counted here: the API's own requests, and each turn of a run.
    const usage = createUsageLedger({
      repository: createModelUsageRepository(storage.database.db),
      log: (message, error) => log.warn({ err: error }, message),
      // Label values stay bounded: listed models by name; GPTs (one per builder's creation) and ids
      // an upstream merely accepted (any string a client sends) folded into one value each.
      onRecord:
        metrics &&
        ((entry) =>
          metrics.modelTokens(
            registry.lists(entry.model) ? entry.model : parseGptModelName(entry.model) ? 'gpt' : 'unlisted',
            entry.inputTokens,
            entry.outputTokens,
          )),
    });
    runs = await startRuns({
      config,
      storage,
      usage,
      registry,
      blobStore: knowledge.blobStore,
      tools,
      externalAssistants: gptAssistants({ gpts, tools, actions }),
      metrics,
      log,
    });
    const accountServices = createAccountServices({
      repositories: storage.repositories,
      sessionLifetimeSeconds: config.sessionDays * 24 * 60 * 60,
      allowSignUp: config.allowSignUp,
      bus: runs.bus,
      // Web chats are threads and their answers runs: the same engine as the API.
      runs: {
        engine: runs.engine,
        models: registry,
        capabilities: { fileSearch: !!tools.fileSearch, codeInterpreter: !!tools.codeInterpreter },
      },
      gpts,
    });
    const app = await buildApp({
      usage,
      registry,
      verifier: createApiKeyVerifier({ repositories: storage.repositories }),
      logger: log,
      maxBodyBytes: config.maxBodyBytes,
      knowledge: {
        repositories: storage.repositories,
        files: knowledge.files,
        vectorStores: knowledge.vectorStores,
      },
      assistants: { repositories: storage.repositories, engine: runs.engine, models: registry, tools },
      accountServices,
      gpts: { gpts, tools, actions, usage },
      webRoot: config.webDir ?? BUILT_WEB_APP,
      trustProxy: config.trustProxy,
      metrics,
      metricsToken: config.metricsToken,
      closeGraceMs: config.shutdownGraceSeconds * 1000,
    });
    const stopChatRetention = startChatRetention(accountServices, log);
    let url: string | undefined;
    if (listen) url = await app.listen({ host: config.host, port: config.port });
    else await app.ready();
    const started = knowledge;
    const served = models;
    const running = runs;
    const toolsStarted = builtIn;
    return {
      app,
      storage,
      registry,
      url,
      createdTestModel,
      reloadRegistry: () => served.reload(),
      knowledge: started,
      runs: running,
      actions,
      close: async () => {
        // Runs in progress go back to the queue (they resume after a restart) before the app
        // closes, and their streams end, so no open stream holds the shutdown.
        await running.stop();
        stopChatRetention();
        await app.close();
        await usage.close();
        await toolsStarted.close();
        await started.stop();
        await served.close();
        await storage.database.close();
        metrics?.close();
      },
    };
  } catch (error) {
    await runs?.stop();
    await builtIn?.close();
    await knowledge?.stop();
    await models?.close();
    await storage.database.close();
    metrics?.close();
    throw error;
  }
}

/** The web app as `npm run build` leaves it (the same path from src/ and from dist/). */
const BUILT_WEB_APP = fileURLToPath(new URL('../../web/dist', import.meta.url));

const CHAT_RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/** Deletes temporary chats 30 days after their last change, hourly. Returns the stop function. */
function startChatRetention(services: AccountServices, log: Logger): () => void {
  const sweep = () => {
    services.chats.deleteExpiredTemporary().then(
      (deleted) => {
        if (deleted > 0) log.info(`chats: deleted ${deleted} expired temporary chat(s)`);
      },
      (error: unknown) => log.error({ err: error }, 'chats: deleting expired temporary chats failed'),
    );
  };
  sweep();
  const timer = setInterval(sweep, CHAT_RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Files, vector stores and the retrieval engine, with the background work they need. */
export interface Knowledge {
  readonly files: FilesService;
  readonly vectorStores: VectorStoresService;
  readonly retrieval: Retrieval;
  readonly searchIndex: SearchIndex;
  readonly ingestion: IngestionWorker;
  /** The files' bytes. */
  readonly blobStore: BlobStore;
  stop(): Promise<void>;
}

const MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;

async function startKnowledge({
  config,
  storage,
  registry,
  log,
}: {
  config: Config;
  storage: Storage;
  registry: ModelRegistry;
  log: Logger;
}): Promise<Knowledge> {
  const { repositories, database } = storage;
  const searchIndex = openSearchIndex(database, { vectorCacheBytes: config.vectorCacheMb * 1024 * 1024 });
  let embeddingModel: EmbeddingModel | null = null;
  if (config.embeddingModel) {
    const info = registry.find(config.embeddingModel);
    if (!info?.capabilities.embeddings) {
      throw new ConfigError(
        `Invalid configuration: ATELIER_EMBEDDING_MODEL=${JSON.stringify(config.embeddingModel)}: ` +
          (info
            ? 'this model does not make embeddings'
            : `no such model (served: ${registry
                .list()
                .map((model) => model.id)
                .join(', ')})`),
      );
    }
    embeddingModel = registry.embeddingModel(info.id);
    // The vector table's width is the model's: ask it once.
    const probe = await embeddingModel.embed({ inputs: ['dimensions'] });
    const space = await searchIndex.useEmbeddingSpace({
      model: info.id,
      dimensions: probe.embeddings[0]!.length,
    });
    log.info(`vector stores: hybrid search with ${info.id} (${space.dimensions} dimensions)`);
  }
  const blobStore = createFileBlobStore({ root: path.join(config.dataDir, 'files') });
  const files = createFilesService({ repositories, blobStore, maxFileBytes: config.maxFileBytes });
  const retrieval = createRetrieval({ repositories, searchIndex, embeddingModel });
  if (database.dialect === 'sqlite') {
    // One process owns a SQLite file: claims left by its previous run are free to take now.
    const released = await repositories.vectorStoreFiles.releaseAllClaims();
    if (released > 0) log.info(`ingestion: resuming ${released} file(s) interrupted by the last shutdown`);
  }
  const ingestion = createIngestionWorker({
    db: database.db,
    repositories,
    blobStore,
    searchIndex,
    embeddingModel,
    log: (level, message) => log[level](message),
  });
  const vectorStores = createVectorStoresService({
    repositories,
    retrieval,
    onQueued: () => ingestion.wake(),
  });
  ingestion.start();

  const maintain = async () => {
    try {
      const expired = await files.deleteExpired();
      if (expired > 0) log.info(`files: deleted ${expired} expired file(s)`);
      const swept = await files.sweepBlobs();
      if (swept > 0) log.info(`files: removed ${swept} unreferenced blob(s)`);
    } catch (error) {
      log.error({ err: error }, 'files: maintenance failed');
    }
  };
  let maintenance: Promise<void> = maintain();
  const timer = setInterval(() => {
    maintenance = maintenance.then(maintain);
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return {
    files,
    vectorStores,
    retrieval,
    searchIndex,
    ingestion,
    blobStore,
    stop: async () => {
      clearInterval(timer);
      await ingestion.stop();
      await maintenance;
    },
  };
}

/** Assistants runs: the engine the API calls, the event bus, and this process's run workers. */
export interface Runs {
  readonly engine: RunEngine;
  readonly bus: EventBus;
  /** Undefined when ATELIER_RUN_WORKERS is 0 (other nodes execute the runs). */
  readonly workers: RunWorkers | undefined;
  stop(): Promise<void>;
}

async function startRuns({
  config,
  storage,
  registry,
  blobStore,
  tools,
  externalAssistants,
  usage,
  metrics,
  log,
}: {
  config: Config;
  storage: Storage;
  usage: UsageLedger;
  /** Told of each run that reaches a terminal status. */
  metrics: ServerMetrics | undefined;
  registry: ModelRegistry;
  blobStore: BlobStore;
  tools: BuiltInTools;
  /** GPTs, runnable by their id beyond their own workspace. */
  externalAssistants: ExternalAssistants;
  log: Logger;
}): Promise<Runs> {
  const { repositories, database } = storage;
  // One node: events on an in-process bus. Several nodes: on Redis, so a run executed on one
  // node streams to a request on another.
  const bus = config.redisUrl
    ? await createRedisEventBus({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        onError: (error) =>
          log.warn({ err: error.message }, 'events: Redis connection problem (reconnecting)'),
      })
    : createInProcessEventBus();
  const runEnded = metrics && ((status: string) => metrics.runEnded(status));
  const engine = createRunEngine({
    repositories,
    models: registry,
    bus,
    tools,
    externalAssistants,
    runEnded,
  });
  if (database.dialect === 'sqlite') {
    // One process owns a SQLite file: runs its previous life was executing resume now, not
    // after their lease runs out.
    const released = await repositories.runs.releaseAllClaims();
    if (released > 0) log.info(`runs: resuming ${released} run(s) interrupted by the last shutdown`);
  }
  const workers =
    config.runWorkers > 0
      ? await startRunWorkers({
          repositories,
          languageModel: (id) => registry.languageModel(id),
          bus,
          tools,
          counter: new TokenCounter(),
          summarizer: summarizeWithModel,
          // A GPT's run searches its knowledge where it lives and calls its browsing and actions.
          toolsets: externalAssistants,
          // Vision models see the images of a thread's messages.
          images: createImageInputs({ files: repositories.files, blobs: blobStore }),
          log: (level, message, details = {}) => log[level](details, message),
          // Each model turn, in the ledger of the run's workspace, key and person.
          recordUsage: ({ run, model, usage: used }) =>
            usage.record({
              principal: { workspaceId: run.workspaceId, apiKeyId: run.apiKeyId, accountId: run.accountId },
              // A run on a GPT counts under the GPT's model name: which model it runs on is its
              // builder's business.
              model: gptUsageName(run.assistantId) ?? model,
              endpoint: 'chat/completions',
              inputTokens: used.promptTokens,
              cachedInputTokens: used.cachedPromptTokens,
              outputTokens: used.completionTokens,
              estimated: used.estimated ?? false,
            }),
          runEnded,
          concurrency: config.runWorkers,
          leaseMs: config.runLeaseSeconds * 1000,
        })
      : undefined;
  return {
    engine,
    bus,
    workers,
    stop: async () => {
      await workers?.stop();
      engine.closeStreams(
        new ServiceUnavailableError(
          'The server is shutting down. The run continues when it is back: retrieve the run to follow it.',
        ),
      );
      await bus.close();
    },
  };
}

/** `gpt-<id>` for a run on a GPT (`g-…` or `g-…:draft`); undefined for any other assistant. */
function gptUsageName(assistantId: string): string | undefined {
  const reference = parseGptAssistantId(assistantId);
  return reference ? gptModelName(reference.gptId) : undefined;
}
