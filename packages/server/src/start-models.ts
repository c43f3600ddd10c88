// Part of the composition root (main.ts): the model providers (local GGUF files through llama.cpp,
// OpenAI-compatible upstreams from the configuration and the registry's table) and the registry
// over them, kept in step with the registry's tables while the server runs.
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Config, UPSTREAM_DEFAULTS } from './config/config.js';
import { ModelRegistry } from './inference/model-registry.js';
import type { RegistryRules } from './inference/model-registry-rules.js';
import { loadNativeRelay } from './inference/openai-compatible/native-relay.js';
import {
  createOpenAICompatibleProvider,
  type OpenAICompatibleProvider,
  type UpstreamSpec,
} from './inference/openai-compatible/openai-compatible-provider.js';
import type { UpstreamObserver } from './inference/openai-compatible/upstream-client.js';
import type { InferenceProvider } from './inference/spec.js';
import { makeTestModel } from './inference/test-model/make-test-model.js';
import type { ModelRegistryRepository } from './storage/repositories/model-registry-repository.js';
import type { Repositories } from './storage/repositories.js';
import { loadSecretBox, type SecretBox } from './storage/secret-box.js';

export const TEST_MODEL_ID = 'atelier-tiny';

export function testModelNotice(modelsDir: string): string {
  return (
    `${TEST_MODEL_ID} has random weights: it is a test model and its answers are noise. ` +
    `To chat for real, put a .gguf file in ${modelsDir} or run \`npx atelier models pull <url>\`, then restart.`
  );
}

/** How often a running server rereads the registry's tables (what the CLI wrote). */
export const REGISTRY_SYNC_INTERVAL_MS = 10_000;

export interface Models {
  readonly registry: ModelRegistry;
  readonly upstreams: OpenAICompatibleProvider;
  /** Whether the random-weights test model was created because no model was configured. */
  readonly createdTestModel: boolean;
  /** Rereads aliases, model settings and stored upstreams now (also done every 10 s). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export async function startModels({
  config,
  repositories,
  logger,
  observeUpstream = undefined,
}: {
  config: Config;
  repositories: Repositories;
  logger: Logger;
  /** The observer of each upstream's attempts, by upstream name (the server's metrics). */
  observeUpstream?: ((name: string) => UpstreamObserver) | undefined;
}): Promise<Models> {
  const log: Log = (level, message) => logger[level](message);
  const repository = repositories.modelRegistry;
  const secrets = await loadSecretBox({ dataDir: config.dataDir, secretKey: config.secretKey });
  const specs = await collectUpstreams({ config, repository, secrets, log });
  const providers: InferenceProvider[] = [];
  let createdTestModel = false;
  let hasLocalModels = await hasModelFiles(config.modelsDir);
  // With upstreams and no model files, this is a gateway: no test model, no llama.cpp loaded.
  if (!hasLocalModels && specs.length === 0) {
    await createTestModel(config.modelsDir);
    logger.warn(
      `no model found in ${config.modelsDir}: created the test model ${TEST_MODEL_ID} (random weights)`,
    );
    createdTestModel = true;
    hasLocalModels = true;
  }
  try {
    if (hasLocalModels) {
      // Loaded only when needed: node-llama-cpp's native runtime costs memory a gateway does not need.
      const { createLlamaCppProvider } = await import('./inference/llama-cpp/llama-cpp-provider.js');
      providers.push(
        await createLlamaCppProvider({
          modelsDir: config.modelsDir,
          contextSize: config.contextSize,
          parallelSequences: config.parallelSequences,
          threads: config.threads,
          seededSequences: config.seededSequences,
          testModelNotice: testModelNotice(config.modelsDir),
          log,
        }),
      );
    }
    const nativeRelay = config.nativeRelay === false ? undefined : loadNativeRelay();
    if (config.nativeRelay === true && !nativeRelay)
      logger.warn(
        'ATELIER_NATIVE_RELAY is on but the native relay was not built (npm install builds it on Linux, with a C compiler): streams are relayed in JavaScript',
      );
    const upstreams = await createOpenAICompatibleProvider({
      upstreams: specs,
      log,
      observeUpstream,
      nativeRelay,
    });
    providers.push(upstreams);
    const registry = new ModelRegistry({ providers, rules: await loadRegistryRules(repository), log });
    for (const [name, problem] of upstreams.problems()) log('warn', `upstream ${name}: ${problem}`);

    let reloading: Promise<void> | undefined;
    const reload = () => {
      reloading ??= (async () => {
        try {
          registry.setRules(await loadRegistryRules(repository));
          await upstreams.setUpstreams(await collectUpstreams({ config, repository, secrets, log }));
        } finally {
          reloading = undefined;
        }
      })();
      return reloading;
    };
    const timer = setInterval(() => {
      reload().catch((error) => logger.error({ err: error }, 'reading the model registry failed'));
    }, REGISTRY_SYNC_INTERVAL_MS);
    timer.unref();
    return {
      registry,
      upstreams,
      createdTestModel,
      reload,
      close: async () => {
        clearInterval(timer);
        await reloading?.catch(() => {});
        await registry.close();
      },
    };
  } catch (error) {
    await Promise.all(providers.map((provider) => provider.close()));
    throw error;
  }
}

/** Aliases and per-model settings as the registry applies them. */
export async function loadRegistryRules(repository: ModelRegistryRepository): Promise<RegistryRules> {
  const [aliases, models] = await Promise.all([repository.listAliases(), repository.listSettings()]);
  return { aliases, models };
}

/**
 * Upstreams from the configuration, then those stored in the registry (their keys opened). A
 * stored one with the name of a configured one is ignored: the configuration is the operator's
 * last word. One whose key cannot be opened is left out, loudly.
 */
export async function collectUpstreams({
  config,
  repository,
  secrets,
  log,
}: {
  config: Config;
  repository: ModelRegistryRepository;
  secrets: SecretBox;
  log: Log;
}): Promise<UpstreamSpec[]> {
  const specs: UpstreamSpec[] = [...config.upstreams];
  const configured = new Set(specs.map((spec) => spec.name));
  for (const stored of await repository.listUpstreams()) {
    if (configured.has(stored.name)) continue;
    let apiKey: string | undefined;
    try {
      apiKey =
        stored.apiKey === null
          ? undefined
          : secrets.open(stored.apiKey, { context: upstreamKeyContext(stored.name) });
    } catch (error) {
      log('error', `upstream ${stored.name} is not served: ${(error as Error).message}`);
      continue;
    }
    specs.push({
      name: stored.name,
      baseUrl: stored.baseUrl,
      apiKey,
      prefix: stored.prefix,
      models: stored.models ?? undefined,
      timeoutMs: stored.timeoutMs ?? UPSTREAM_DEFAULTS.timeoutMs,
      maxConcurrency: stored.maxConcurrency ?? undefined,
      maxRetries: stored.maxRetries ?? UPSTREAM_DEFAULTS.maxRetries,
    });
  }
  return specs;
}

/** What a stored upstream key is sealed to: moving it to another row does not open it. */
export function upstreamKeyContext(name: string): string {
  return `upstream ${name}`;
}

async function hasModelFiles(modelsDir: string): Promise<boolean> {
  const existing = await readdir(modelsDir).catch(() => [] as string[]);
  return existing.some((name) => name.endsWith('.gguf'));
}

async function createTestModel(modelsDir: string): Promise<void> {
  await mkdir(modelsDir, { recursive: true });
  await makeTestModel({ path: path.join(modelsDir, `${TEST_MODEL_ID}.gguf`), name: TEST_MODEL_ID });
}
