// The OpenAI-compatible provider: models of configured upstreams (vLLM, Ollama, llama.cpp's
// server, OpenAI, another Atelier…), listed from the configuration or discovered through each
// upstream's `/models`, served as `prefix + upstream id`. Client requests reach them by
// pass-through (PassThrough); the engine reaches them as LanguageModel/EmbeddingModel.
import type {
  EmbeddingModel,
  InferenceProvider,
  LanguageModel,
  ModelCapabilities,
  ModelInfo,
  PassThrough,
} from '../spec.js';
import type { NativeRelay } from './native-relay.js';
import { OpenAICompatibleModel } from './openai-compatible-model.js';
import { UpstreamClient, type UpstreamObserver } from './upstream-client.js';

export const PROVIDER_NAME = 'openai-compatible';

/** One upstream, with its secret opened (configuration or the registry's table). */
export interface UpstreamSpec {
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly prefix: string;
  readonly models: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly maxConcurrency: number | undefined;
  readonly maxRetries: number;
}

export interface OpenAICompatibleProvider extends InferenceProvider {
  passThrough(id: string): PassThrough | undefined;
  /** Replaces the set of upstreams (unchanged ones keep their connections and models). */
  setUpstreams(upstreams: readonly UpstreamSpec[]): Promise<void>;
  /** Discovers the models of every upstream that has no fixed list, now. */
  refresh(): Promise<void>;
  /** Why an upstream has no models right now (discovery failed), by upstream name. */
  problems(): ReadonlyMap<string, string>;
}

export interface OpenAICompatibleProviderOptions {
  readonly upstreams: readonly UpstreamSpec[];
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** How long discovery waits for an upstream's `/models`. */
  readonly discoveryTimeoutMs?: number;
  /** Rediscovery: upstreams that failed are retried this often; the others every 10 intervals. */
  readonly refreshIntervalMs?: number;
  /** The observer of each upstream's attempts, by upstream name (the server's metrics). */
  readonly observeUpstream?: ((name: string) => UpstreamObserver) | undefined;
  /** Relays streamed answers of plain-HTTP upstreams natively (native-relay.ts). */
  readonly nativeRelay?: NativeRelay | undefined;
}

interface ServedModel {
  readonly info: ModelInfo;
  readonly passThrough: PassThrough;
  readonly upstreamModel: string;
  readonly upstream: Upstream;
  engineModel?: OpenAICompatibleModel;
}

interface Upstream {
  readonly spec: UpstreamSpec;
  readonly key: string;
  readonly client: UpstreamClient;
  models: readonly ServedModel[];
  problem: string | undefined;
  discoveredAt: number;
}

export async function createOpenAICompatibleProvider({
  upstreams: initial,
  log = () => {},
  discoveryTimeoutMs = 5_000,
  refreshIntervalMs = 30_000,
  observeUpstream = undefined,
  nativeRelay = undefined,
}: OpenAICompatibleProviderOptions): Promise<OpenAICompatibleProvider> {
  let upstreams: Upstream[] = [];
  let served = new Map<string, ServedModel>();
  const listeners: (() => void)[] = [];
  let closed = false;

  function rebuild(): void {
    const next = new Map<string, ServedModel>();
    for (const upstream of upstreams) {
      for (const model of upstream.models) {
        const existing = next.get(model.info.id);
        if (existing) {
          log(
            'warn',
            `model ${model.info.id} of upstream ${upstream.spec.name} is hidden by the one of upstream ${existing.upstream.spec.name}`,
          );
          continue;
        }
        next.set(model.info.id, model);
      }
    }
    served = next;
    for (const listener of listeners) listener();
  }

  async function discover(upstream: Upstream): Promise<void> {
    const { spec } = upstream;
    if (spec.models) {
      upstream.models = spec.models.map((id) => servedModel(upstream, { id }));
      upstream.discoveredAt = Date.now();
      return;
    }
    try {
      const listing = await upstream.client.getJson('models', {
        signal: AbortSignal.timeout(discoveryTimeoutMs),
      });
      upstream.models = readListing(listing).map((entry) => servedModel(upstream, entry));
      upstream.discoveredAt = Date.now();
      if (upstream.problem) log('info', `upstream ${spec.name} is reachable again`);
      upstream.problem = undefined;
    } catch (error) {
      const reason = describe(error);
      if (upstream.problem !== reason) {
        log(
          'warn',
          `cannot list the models of upstream ${spec.name} (${reason}); ${
            spec.prefix ? `requests for ${spec.prefix}* are still passed through; ` : ''
          }retrying every ${Math.round(refreshIntervalMs / 1000)} s`,
        );
      }
      upstream.problem = reason;
    }
  }

  function servedModel(upstream: Upstream, entry: ListedModel): ServedModel {
    const { spec, client } = upstream;
    const id = spec.prefix + entry.id;
    const info: ModelInfo = {
      id,
      provider: PROVIDER_NAME,
      ownedBy: entry.ownedBy ?? spec.name,
      createdAt: entry.created ?? Math.floor(Date.now() / 1000),
      contextLength: entry.contextLength ?? 0,
      capabilities: entry.capabilities ?? guessCapabilities(entry.id),
      fingerprint: '',
      upstream: spec.name,
      ...(entry.notice ? { notice: entry.notice } : {}),
    };
    return { info, passThrough: passThroughFor(client, entry.id), upstreamModel: entry.id, upstream };
  }

  async function setUpstreams(specs: readonly UpstreamSpec[]): Promise<void> {
    const previous = new Map(upstreams.map((upstream) => [upstream.key, upstream]));
    const next: Upstream[] = [];
    const fresh: Upstream[] = [];
    for (const spec of specs) {
      const key = JSON.stringify(spec);
      const kept = previous.get(key);
      if (kept) {
        previous.delete(key);
        next.push(kept);
        continue;
      }
      const upstream: Upstream = {
        spec,
        key,
        client: new UpstreamClient({ ...spec, observer: observeUpstream?.(spec.name), nativeRelay }),
        models: [],
        problem: undefined,
        discoveredAt: 0,
      };
      next.push(upstream);
      fresh.push(upstream);
    }
    await Promise.all(fresh.map(discover));
    upstreams = next;
    rebuild();
    // Requests still streaming from a removed upstream finish on their sockets; idle ones close.
    for (const gone of previous.values()) {
      setTimeout(() => gone.client.close(), gone.spec.timeoutMs).unref();
    }
  }

  async function refresh({ onlyFailed = false }: { onlyFailed?: boolean } = {}): Promise<void> {
    const due = upstreams.filter(
      (upstream) =>
        !upstream.spec.models &&
        (!onlyFailed ||
          upstream.problem !== undefined ||
          Date.now() - upstream.discoveredAt >= 10 * refreshIntervalMs),
    );
    if (due.length === 0) return;
    const before = due.map((upstream) => upstream.models.map((model) => model.info.id).join('\n'));
    await Promise.all(due.map(discover));
    if (closed) return;
    const changed = due.some(
      (upstream, index) => upstream.models.map((model) => model.info.id).join('\n') !== before[index],
    );
    if (changed) rebuild();
  }

  await setUpstreams(initial);
  const timer = setInterval(() => {
    refresh({ onlyFailed: true }).catch((error) =>
      log('error', `upstream discovery failed: ${describe(error)}`),
    );
  }, refreshIntervalMs);
  timer.unref();

  return {
    name: PROVIDER_NAME,
    listModels: () => [...served.values()].map((model) => model.info),
    languageModel: (id): LanguageModel | undefined => engineModel(served.get(id)),
    embeddingModel: (id): EmbeddingModel | undefined => engineModel(served.get(id)),
    passThrough(id) {
      const model = served.get(id);
      if (model) return model.passThrough;
      // Not listed (discovery failed, or a model the upstream added since): with a prefix, the
      // upstream is the only one that can know, so it decides.
      for (const upstream of upstreams) {
        const { prefix, models } = upstream.spec;
        if (prefix && !models && id.length > prefix.length && id.startsWith(prefix)) {
          return passThroughFor(upstream.client, id.slice(prefix.length));
        }
      }
      return undefined;
    },
    onModelsChanged(listener) {
      listeners.push(listener);
    },
    setUpstreams,
    refresh: () => refresh(),
    problems: () =>
      new Map(
        upstreams
          .filter((upstream) => upstream.problem !== undefined)
          .map((upstream) => [upstream.spec.name, upstream.problem!]),
      ),
    async close() {
      closed = true;
      clearInterval(timer);
      for (const upstream of upstreams) upstream.client.close();
    },
  };
}

function engineModel(model: ServedModel | undefined): OpenAICompatibleModel | undefined {
  if (!model) return undefined;
  model.engineModel ??= new OpenAICompatibleModel({
    info: model.info,
    client: model.upstream.client,
    upstreamModel: model.upstreamModel,
  });
  return model.engineModel;
}

function passThroughFor(client: UpstreamClient, upstreamModel: string): PassThrough {
  return {
    upstream: client.name,
    upstreamModel,
    start: (options) => client.start(options),
  };
}

interface ListedModel {
  readonly id: string;
  readonly created?: number | undefined;
  readonly ownedBy?: string | undefined;
  readonly contextLength?: number | undefined;
  readonly capabilities?: ModelCapabilities | undefined;
  readonly notice?: string | undefined;
}

/**
 * An upstream's `/models` answer, read defensively. Context lengths come from where servers put
 * them: Atelier's `atelier.context_length`, vLLM's `max_model_len`, others' `context_length` or
 * `context_window`.
 */
export function readListing(listing: unknown): ListedModel[] {
  const data = (listing as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error('the answer to /models has no data list');
  const models: ListedModel[] = [];
  for (const item of data as Record<string, unknown>[]) {
    if (!item || typeof item.id !== 'string' || item.id === '') continue;
    const atelier = (item['atelier'] ?? {}) as Record<string, unknown>;
    const context = [
      atelier['context_length'],
      item['max_model_len'],
      item['context_length'],
      item['context_window'],
    ].find((value): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0);
    const capabilities = atelier['capabilities'] as Partial<ModelCapabilities> | undefined;
    models.push({
      id: item.id,
      created: typeof item['created'] === 'number' ? item['created'] : undefined,
      ownedBy: typeof item['owned_by'] === 'string' ? item['owned_by'] : undefined,
      contextLength: context,
      capabilities:
        capabilities && typeof capabilities === 'object'
          ? { ...guessCapabilities(item.id), ...pickBooleans(capabilities) }
          : undefined,
      notice: typeof atelier['notice'] === 'string' ? atelier['notice'] : undefined,
    });
  }
  return models;
}

/** What an upstream model can do when nobody said: chat-like, unless its name says embeddings. */
export function guessCapabilities(id: string): ModelCapabilities {
  const embeddings = /embed/i.test(id);
  return {
    chat: !embeddings,
    completions: !embeddings,
    embeddings,
    tools: !embeddings,
    vision: false,
    json: !embeddings,
  };
}

function pickBooleans(source: Partial<ModelCapabilities>): Partial<ModelCapabilities> {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => typeof value === 'boolean'));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error.name === 'TimeoutError') return 'timed out';
    return code ? `${code}` : error.message;
  }
  return String(error);
}
