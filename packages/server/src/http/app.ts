// The Fastify app: JSON bodies with a size limit, API-key auth on /v1, the routes, and one error
// handler that renders every failure as the OpenAI envelope.
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import type { AccountServices } from '../platform/account-services.js';
import type { FilesService } from '../platform/files-service.js';
import type { GptsService } from '../platform/gpts-service.js';
import type { ApiKeyVerifier } from '../platform/principal.js';
import type { ServerMetrics } from '../platform/server-metrics.js';
import type { UsageLedger } from '../platform/usage-ledger.js';
import type { VectorStoresService } from '../platform/vector-stores-service.js';
import type { Repositories } from '../storage/repositories.js';
import { createAuthHook } from './auth.js';
import { acceptEmptyJsonBodies } from './empty-json-body.js';
import { toErrorResponse } from './errors.js';
import { clientErrorHandler, frameworkErrors } from './framework-errors.js';
import { CLOSE_GRACE_MS, gracefulClose } from './graceful-close.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import { countRequests } from './request-metrics.js';
import { registerWebApi } from './routes/api.js';
import { registerApiActions } from './routes/api-actions.js';
import { registerApiGpts } from './routes/api-gpts.js';
import { registerAssistants } from './routes/assistants.js';
import { registerAssistantsFiles } from './routes/assistants-files.js';
import type { AssistantsRouteServices } from './routes/assistants-route-services.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerCompletions } from './routes/completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerFiles } from './routes/files.js';
import type { GptChatServices } from './routes/gpts-chat-completions.js';
import { registerHealth } from './routes/health.js';
import { registerMetrics } from './routes/metrics.js';
import { registerModels } from './routes/models.js';
import { registerOrganizationUsage } from './routes/organization-usage.js';
import { registerThreads } from './routes/threads.js';
import { registerThreadsMessages } from './routes/threads-messages.js';
import { registerThreadsMessagesFiles } from './routes/threads-messages-files.js';
import { registerThreadsRuns } from './routes/threads-runs.js';
import { registerThreadsRunsSteps } from './routes/threads-runs-steps.js';
import { registerVectorStores } from './routes/vector-stores.js';
import { registerWebApp } from './web-app.js';

export interface AppServices {
  readonly registry: ModelRegistry;
  readonly verifier: ApiKeyVerifier;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** Files and vector stores (both or neither). */
  readonly knowledge?: {
    readonly repositories: Repositories;
    readonly files: FilesService;
    readonly vectorStores: VectorStoresService;
  };
  /** Assistants, threads, messages, runs and run steps (v1 and v2). */
  readonly assistants?: AssistantsRouteServices;
  /** The web app's accounts, sessions and history under /api; sessions also work on /v1. */
  readonly accountServices?: AccountServices;
  /** GPTs: the builder's /api/gpts (with accountServices), and `gpt-<id>` models on /v1. */
  readonly gpts?: GptChatServices & { readonly gpts: GptsService };
  /** A built web app to serve at `/` (nothing is served there when it holds no build). */
  readonly webRoot?: string | undefined;
  /** Behind a reverse proxy: take the client address and https from X-Forwarded-*. */
  readonly trustProxy?: boolean;
  /** Counts what each request to a model used; read back through the Usage API. */
  readonly usage?: UsageLedger | undefined;
  /** Every request counted by route pattern and status, all served at `GET /metrics`; absent: neither. */
  readonly metrics?: ServerMetrics | undefined;
  /** The bearer token `/metrics` asks for; unset: it answers only on this machine (loopback). */
  readonly metricsToken?: string | undefined;
  /** Closing: how long requests in flight have to finish before they are cut. */
  readonly closeGraceMs?: number | undefined;
}

export async function buildApp({
  registry,
  verifier,
  logger,
  maxBodyBytes,
  knowledge = undefined,
  assistants = undefined,
  accountServices = undefined,
  gpts = undefined,
  webRoot = undefined,
  trustProxy = false,
  usage = undefined,
  metrics = undefined,
  metricsToken = undefined,
  closeGraceMs = CLOSE_GRACE_MS,
}: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast keeps the app typed with the base interface.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    // graceful-close.ts answers those with the error envelope.
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
    requestIdHeader: 'x-request-id',
    genReqId: () => `req_${crypto.randomUUID().replaceAll('-', '')}`,
    trustProxy,
    schemaController: { compilersFactory: lazySchemaCompilers },
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('webSession', null);
  // First of the hooks: a request's time includes its authentication, and a 401 is counted too.
  if (metrics) countRequests(app, { metrics });
  // Closing waits for requests in flight (for a while), not for connections doing nothing.
  gracefulClose(app, { graceMs: closeGraceMs });
  await app.register(cookie);

  app.setErrorHandler((error, request, reply) => {
    const mapped = toErrorResponse(error);
    if (mapped.internal) request.log.error({ err: error, url: request.url }, 'request failed');
    else
      request.log.debug(
        { status: mapped.status, url: request.url, message: mapped.body.error.message },
        'client error',
      );
    void reply.code(mapped.status).headers(mapped.headers).send(mapped.body);
  });
  app.setNotFoundHandler((request) => {
    throw new NotFoundError(`Invalid URL (${request.method} ${request.url.split('?')[0]})`);
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  registerHealth(app);
  if (metrics) registerMetrics(app, { metrics, token: metricsToken, behindProxy: trustProxy });
  // Off, a scraper hears 404, not the web app's page that answers any other path.
  else
    app.get('/metrics', async (request) => {
      throw new NotFoundError(`Invalid URL (${request.method} /metrics)`);
    });
  await app.register(async (v1) => {
    v1.addHook('onRequest', createAuthHook({ verifier, sessions: accountServices?.sessions }));
    registerModels(v1, { registry, gpts: gpts?.gpts });
    registerChatCompletions(v1, { registry, gpts, usage });
    registerCompletions(v1, { registry, usage });
    registerEmbeddings(v1, { registry, usage });
    if (usage) registerOrganizationUsage(v1, { usage });
    if (knowledge) {
      // Only the upload route reads multipart: elsewhere a multipart body is a 415, not an
      // empty object. Uploads stream through the blob store; 1 byte over the limit lets the
      // store report it.
      await v1.register(async (uploads) => {
        await uploads.register(multipart, {
          limits: {
            fileSize: knowledge.files.maxFileBytes + 1,
            files: 1,
            fields: 20,
            fieldSize: 65_536,
            parts: 32,
          },
        });
        registerFiles(uploads, knowledge);
      });
      registerVectorStores(v1, knowledge);
    }
    if (assistants) {
      await v1.register(async (scope) => {
        acceptEmptyJsonBodies(scope);
        registerAssistants(scope, assistants);
        registerAssistantsFiles(scope, assistants);
        registerThreads(scope, assistants);
        registerThreadsMessages(scope, assistants);
        registerThreadsMessagesFiles(scope, assistants);
        registerThreadsRuns(scope, assistants);
        registerThreadsRunsSteps(scope, assistants);
      });
    }
  });
  if (accountServices) await registerWebApi(app, accountServices);
  if (accountServices && gpts)
    await registerApiGpts(app, { sessions: accountServices.sessions, gpts: gpts.gpts });
  if (accountServices && gpts?.actions) {
    await registerApiActions(app, {
      sessions: accountServices.sessions,
      actions: gpts.actions,
      gpts: gpts.gpts,
    });
  }
  if (webRoot !== undefined && !(await registerWebApp(app, { root: webRoot }))) {
    app.log.warn(
      `the web app is not built (no ${webRoot}/index.html): run \`npm run build\` to serve it at /`,
    );
  }
  return app;
}
