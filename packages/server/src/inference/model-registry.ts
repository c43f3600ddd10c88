// The models Atelier serves, from all providers (local GGUF files, OpenAI-compatible upstreams),
// with the operator's rules on top (model-registry-rules.ts): aliases that move on a date,
// deprecations (headers and log warnings before the shutdown date, 404 naming the replacement
// after), capability and context overrides, prices, fallbacks. `route` is on every request's
// path: a map lookup and a few comparisons on a snapshot rebuilt only when providers or rules change.
import { NotFoundError } from '../errors.js';
import { type AliasRule, type ModelRule, NO_RULES, type RegistryRules } from './model-registry-rules.js';
import type {
  EmbeddingModel,
  InferenceProvider,
  LanguageModel,
  ModelCapabilities,
  ModelInfo,
  PassThrough,
} from './spec.js';

export interface Deprecation {
  /** The id the deprecation is on (a model or an alias). */
  readonly model: string;
  /** Unix seconds. */
  readonly deprecatedAt: number;
  readonly shutdownAt: number | null;
  readonly replacement: string | null;
  /** Value of the `Deprecation` response header (RFC 9745: `@` + unix seconds). */
  readonly deprecationHeader: string;
  /** Value of the `Sunset` response header (RFC 8594: an HTTP date), when there is a shutdown date. */
  readonly sunsetHeader: string | undefined;
}

/** Where a request for a model id goes. */
export interface ModelRoute {
  /** The id the client asked for. */
  readonly requested: string;
  /** The model that serves it, after aliases. */
  readonly id: string;
  readonly info: ModelInfo;
  /** Set when the model's requests can be passed through to an upstream as they are. */
  readonly passThrough: PassThrough | undefined;
  /** Set while the requested model (or one its alias leads to) is deprecated but not shut down. */
  readonly deprecation: Deprecation | undefined;
  /** Tried in order when an upstream fails before the first byte. */
  readonly fallbacks: readonly string[];
}

export type RegistryEntryStatus = 'active' | 'deprecated' | 'shut-down' | 'missing';

/** One line of `/v1/models` or `atelier models list`. */
export interface RegistryEntry {
  readonly id: string;
  /** The model's own info; for an alias, its current target's. */
  readonly info: ModelInfo | undefined;
  readonly status: RegistryEntryStatus;
  readonly aliasFor: string | undefined;
  readonly scheduledSwitch: { readonly target: string; readonly switchAt: number } | undefined;
  readonly pricing: { readonly inputPer1k: number | null; readonly outputPer1k: number | null } | undefined;
  readonly deprecation: Deprecation | undefined;
  readonly fallbacks: readonly string[];
}

export interface ModelRegistryOptions {
  readonly providers: readonly InferenceProvider[];
  readonly rules?: RegistryRules;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Unix milliseconds (tests pin it). */
  readonly now?: () => number;
  /** A deprecated model in use is logged at most this often. */
  readonly warnEveryMs?: number;
}

interface Served {
  readonly info: ModelInfo;
  readonly provider: InferenceProvider;
  readonly passThrough: PassThrough | undefined;
}

interface CompiledRule extends ModelRule {
  readonly deprecation: Deprecation | undefined;
}

const MAX_ALIAS_DEPTH = 8;
const NO_FALLBACKS: readonly string[] = Object.freeze([]);
/** What an unlisted upstream model is assumed to do until someone says otherwise. */
const UNLISTED_CAPABILITIES: ModelCapabilities = Object.freeze({
  chat: true,
  completions: true,
  embeddings: false,
  tools: true,
  vision: false,
  json: true,
});

export class ModelRegistry {
  private readonly providers: readonly InferenceProvider[];
  private readonly log: NonNullable<ModelRegistryOptions['log']>;
  private readonly now: () => number;
  private readonly warnEveryMs: number;
  private rulesSource: RegistryRules = NO_RULES;
  private models = new Map<string, Served>();
  private aliases = new Map<string, AliasRule>();
  private rules = new Map<string, CompiledRule>();
  private readonly warnedAt = new Map<string, number>();

  constructor(options: ModelRegistryOptions | readonly InferenceProvider[]) {
    const {
      providers,
      rules = NO_RULES,
      log = () => {},
      now = Date.now,
      warnEveryMs = 10 * 60_000,
    } = Array.isArray(options)
      ? { providers: options as readonly InferenceProvider[] }
      : (options as ModelRegistryOptions);
    this.providers = providers;
    this.log = log;
    this.now = now;
    this.warnEveryMs = warnEveryMs;
    this.rulesSource = rules;
    for (const provider of providers) provider.onModelsChanged?.(() => this.rebuild());
    this.rebuild();
  }

  /** Applies new rules (from the registry's tables) to every following request. */
  setRules(rules: RegistryRules): void {
    this.rulesSource = rules;
    this.rebuild();
  }

  /** Resolves aliases and deprecations: throws the 404 a client sees for an unknown or shut-down model. */
  route(id: string): ModelRoute {
    return this.resolve(id, { warn: true });
  }

  private resolve(id: string, { warn }: { warn: boolean }): ModelRoute {
    const nowMs = this.now();
    const now = nowMs / 1000;
    let current = id;
    let deprecation: Deprecation | undefined;
    for (let depth = 0; ; depth++) {
      const rule = this.rules.get(current)?.deprecation;
      if (rule) {
        if (rule.shutdownAt !== null && now >= rule.shutdownAt) throw shutDown(id, rule);
        if (now >= rule.deprecatedAt) deprecation ??= rule;
      }
      const alias = this.aliases.get(current);
      if (alias === undefined) break;
      if (depth >= MAX_ALIAS_DEPTH) throw modelNotFound(id);
      current = alias.switchAt !== null && now >= alias.switchAt ? alias.nextTarget! : alias.target;
    }
    const served = this.models.get(current) ?? this.unlisted(current);
    if (!served) throw modelNotFound(id, current === id ? undefined : current);
    if (deprecation && warn) this.warnDeprecated(id, deprecation, nowMs);
    return {
      requested: id,
      id: current,
      info: served.info,
      passThrough: served.passThrough,
      deprecation,
      fallbacks: this.rules.get(current)?.fallbacks ?? this.rules.get(id)?.fallbacks ?? NO_FALLBACKS,
    };
  }

  /** Whether `id` is a model this registry serves by name (not an alias, nor an id an upstream merely accepts). */
  lists(id: string): boolean {
    return this.models.has(id);
  }

  /** The models served now (no aliases, none shut down). */
  list(): ModelInfo[] {
    const now = this.now() / 1000;
    return [...this.models.values()]
      .filter((served) => !isShutDown(this.rules.get(served.info.id), now))
      .map((served) => served.info);
  }

  /** Models and aliases with their rules: the served ones, or with `all`, every one an operator set. */
  entries({ all = false }: { all?: boolean } = {}): RegistryEntry[] {
    const now = this.now() / 1000;
    const entries: RegistryEntry[] = [];
    const seen = new Set<string>();
    const add = (id: string, aliasFor: AliasRule | undefined) => {
      seen.add(id);
      const rule = this.rules.get(id);
      let route: ModelRoute | undefined;
      let status: RegistryEntryStatus;
      try {
        route = this.resolve(id, { warn: false });
        status = route.deprecation ? 'deprecated' : 'active';
      } catch {
        status = isShutDown(rule, now) ? 'shut-down' : 'missing';
      }
      if (!all && (status === 'shut-down' || status === 'missing')) return;
      const target = aliasFor ? currentTarget(aliasFor, now) : undefined;
      const info = route?.info ?? this.models.get(target ?? id)?.info;
      const priced = rule ?? (target ? this.rules.get(target) : undefined);
      entries.push({
        id,
        info,
        status,
        aliasFor: target,
        scheduledSwitch:
          aliasFor && aliasFor.switchAt !== null && now < aliasFor.switchAt
            ? { target: aliasFor.nextTarget!, switchAt: aliasFor.switchAt }
            : undefined,
        pricing:
          priced && (priced.inputPricePer1k !== null || priced.outputPricePer1k !== null)
            ? { inputPer1k: priced.inputPricePer1k, outputPer1k: priced.outputPricePer1k }
            : undefined,
        deprecation: route?.deprecation ?? rule?.deprecation,
        fallbacks: route?.fallbacks ?? rule?.fallbacks ?? NO_FALLBACKS,
      });
    };
    for (const id of this.models.keys()) if (!this.aliases.has(id)) add(id, undefined);
    for (const alias of this.aliases.values()) add(alias.alias, alias);
    if (all) for (const id of this.rules.keys()) if (!seen.has(id)) add(id, undefined);
    return entries;
  }

  /** The model's info, aliases resolved; throws model_not_found. */
  get(id: string): ModelInfo {
    return this.route(id).info;
  }

  find(id: string): ModelInfo | undefined {
    try {
      return this.resolve(id, { warn: false }).info;
    } catch {
      return undefined;
    }
  }

  languageModel(id: string): LanguageModel {
    const route = this.route(id);
    const served = this.models.get(route.id);
    const model = served?.provider.languageModel(route.id);
    if (!served || !model) throw modelNotFound(id);
    // Callers plan with what the registry says of the model (an operator's context and
    // capability overrides, e.g. vision), not only with what its provider reported.
    return model.info === served.info ? model : withInfo(model, served.info);
  }

  embeddingModel(id: string): EmbeddingModel {
    const route = this.route(id);
    const model = this.models.get(route.id)?.provider.embeddingModel(route.id);
    if (!model) throw modelNotFound(id);
    return model;
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((provider) => provider.close()));
  }

  private rebuild(): void {
    const rules = new Map<string, CompiledRule>();
    for (const rule of this.rulesSource.models)
      rules.set(rule.model, { ...rule, deprecation: compileDeprecation(rule) });
    const models = new Map<string, Served>();
    for (const provider of this.providers) {
      for (const listed of provider.listModels()) {
        if (models.has(listed.id)) continue;
        const rule = rules.get(listed.id);
        const info = rule ? withOverrides(listed, rule) : listed;
        models.set(listed.id, { info, provider, passThrough: provider.passThrough?.(listed.id) });
      }
    }
    this.rules = rules;
    this.models = models;
    this.aliases = new Map(this.rulesSource.aliases.map((alias) => [alias.alias, alias]));
  }

  /** An id no provider lists that an upstream may still serve (its prefix matches). */
  private unlisted(id: string): Served | undefined {
    for (const provider of this.providers) {
      const passThrough = provider.passThrough?.(id);
      if (!passThrough) continue;
      const info: ModelInfo = {
        id,
        provider: provider.name,
        ownedBy: passThrough.upstream,
        createdAt: 0,
        contextLength: 0,
        capabilities: UNLISTED_CAPABILITIES,
        fingerprint: '',
        upstream: passThrough.upstream,
      };
      return { info, provider, passThrough };
    }
    return undefined;
  }

  private warnDeprecated(id: string, deprecation: Deprecation, nowMs: number): void {
    const last = this.warnedAt.get(id);
    if (last !== undefined && nowMs - last < this.warnEveryMs) return;
    this.warnedAt.set(id, nowMs);
    const shutdown =
      deprecation.shutdownAt === null ? '' : ` and shuts down on ${isoDate(deprecation.shutdownAt)}`;
    const use = deprecation.replacement ? `; use ${deprecation.replacement} instead` : '';
    this.log('warn', `model ${id} is deprecated${shutdown}${use}, but still requested`);
  }
}

function currentTarget(alias: AliasRule, now: number): string {
  return alias.switchAt !== null && now >= alias.switchAt ? alias.nextTarget! : alias.target;
}

function isShutDown(rule: CompiledRule | undefined, now: number): boolean {
  const shutdownAt = rule?.deprecation?.shutdownAt;
  return shutdownAt !== undefined && shutdownAt !== null && now >= shutdownAt;
}

function compileDeprecation(rule: ModelRule): Deprecation | undefined {
  if (rule.shutdownAt === null && rule.deprecatedAt === null) return undefined;
  const deprecatedAt = rule.deprecatedAt ?? rule.shutdownAt!;
  return Object.freeze({
    model: rule.model,
    deprecatedAt,
    shutdownAt: rule.shutdownAt,
    replacement: rule.replacement,
    deprecationHeader: `@${Math.floor(deprecatedAt)}`,
    sunsetHeader: rule.shutdownAt === null ? undefined : new Date(rule.shutdownAt * 1000).toUTCString(),
  });
}

function withInfo(model: LanguageModel, info: ModelInfo): LanguageModel {
  return {
    info,
    generate: (request) => model.generate(request),
    tokenize: (text) => model.tokenize(text),
    detokenize: (tokens) => model.detokenize(tokens),
  };
}

function withOverrides(info: ModelInfo, rule: ModelRule): ModelInfo {
  const capabilities = { ...info.capabilities };
  for (const [name, value] of Object.entries(rule.capabilities)) {
    if (name in capabilities) capabilities[name as keyof ModelCapabilities] = value;
  }
  return { ...info, contextLength: rule.contextLength ?? info.contextLength, capabilities };
}

function isoDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

function modelNotFound(id: string, target: string | undefined = undefined): NotFoundError {
  const message = target
    ? `The model \`${id}\` points to \`${target}\`, which does not exist or you do not have access to it.`
    : `The model \`${id}\` does not exist or you do not have access to it.`;
  return new NotFoundError(message, { param: 'model', code: 'model_not_found' });
}

function shutDown(id: string, deprecation: Deprecation): NotFoundError {
  const which =
    deprecation.model === id ? `The model \`${id}\`` : `The model \`${id}\` (\`${deprecation.model}\`)`;
  const use = deprecation.replacement ? ` Use \`${deprecation.replacement}\` instead.` : '';
  return new NotFoundError(
    `${which} was shut down on ${isoDate(deprecation.shutdownAt!)} and is no longer served.${use}`,
    { param: 'model', code: 'model_not_found' },
  );
}
