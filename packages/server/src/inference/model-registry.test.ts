import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { ModelRegistry } from './model-registry.js';
import type { AliasRule, ModelRule } from './model-registry-rules.js';
import type { InferenceProvider, ModelInfo, PassThrough } from './spec.js';

const DAY = 86_400;
const NOW = Date.UTC(2023, 11, 1) / 1000;

function info(id: string, provider = 'local'): ModelInfo {
  return {
    id,
    provider,
    ownedBy: 'atelier',
    createdAt: 0,
    contextLength: 4096,
    capabilities: {
      chat: true,
      completions: true,
      embeddings: false,
      tools: true,
      vision: false,
      json: true,
    },
    fingerprint: 'fp_1',
  };
}

function provider(
  name: string,
  ids: string[],
  { prefix = undefined }: { prefix?: string } = {},
): InferenceProvider {
  const passThrough = (id: string): PassThrough => ({
    upstream: name,
    upstreamModel: prefix ? id.slice(prefix.length) : id,
    start: () => {
      throw new Error('not in this test');
    },
  });
  let listener = () => {};
  const models = ids.map((id) => info(id, name));
  return {
    name,
    listModels: () => models,
    languageModel: () => undefined,
    embeddingModel: () => undefined,
    ...(prefix
      ? {
          passThrough: (id: string) => (id.startsWith(prefix) ? passThrough(id) : undefined),
          onModelsChanged: (changed: () => void) => {
            listener = changed;
          },
          add: (id: string) => {
            models.push(info(id, name));
            listener();
          },
        }
      : {}),
    close: async () => {},
  } as InferenceProvider;
}

function rule(model: string, fields: Partial<ModelRule>): ModelRule {
  return {
    model,
    contextLength: null,
    capabilities: {},
    inputPricePer1k: null,
    outputPricePer1k: null,
    deprecatedAt: null,
    shutdownAt: null,
    replacement: null,
    fallbacks: [],
    ...fields,
  };
}

function alias(
  name: string,
  target: string,
  next: { target: string; at: number } | undefined = undefined,
): AliasRule {
  return { alias: name, target, nextTarget: next?.target ?? null, switchAt: next?.at ?? null };
}

function registry({
  aliases = [],
  models = [],
  now = NOW,
  log = [] as string[],
}: {
  aliases?: AliasRule[];
  models?: ModelRule[];
  now?: number;
  log?: string[];
}) {
  const clock = { now };
  const made = new ModelRegistry({
    providers: [
      provider('local', ['tiny']),
      provider('lab', ['lab/llama', 'lab/mistral'], { prefix: 'lab/' }),
    ],
    rules: { aliases, models },
    log: (_level, message) => log.push(message),
    now: () => clock.now * 1000,
  });
  return { registry: made, clock, log };
}

describe('ModelRegistry.route', () => {
  it('finds local and upstream models; upstream ones come with their pass-through', () => {
    const { registry: models } = registry({});
    expect(models.route('tiny')).toMatchObject({
      id: 'tiny',
      passThrough: undefined,
      deprecation: undefined,
    });
    expect(models.route('lab/llama').passThrough).toMatchObject({ upstream: 'lab', upstreamModel: 'llama' });
    expect(models.list().map((model) => model.id)).toEqual(['tiny', 'lab/llama', 'lab/mistral']);
  });

  it('passes an unlisted id under an upstream prefix to that upstream; anything else is model_not_found', () => {
    const { registry: models } = registry({});
    expect(models.route('lab/new-model')).toMatchObject({
      id: 'lab/new-model',
      passThrough: { upstreamModel: 'new-model' },
    });
    expect(() => models.route('gpt-4')).toThrow(NotFoundError);
    expect(() => models.route('gpt-4')).toThrow(
      'The model `gpt-4` does not exist or you do not have access to it.',
    );
  });

  it('follows aliases, and moves one on its switch date', () => {
    const { registry: models, clock } = registry({
      aliases: [
        alias('gpt-3.5-turbo', 'lab/llama', { target: 'lab/mistral', at: NOW + DAY }),
        alias('default', 'gpt-3.5-turbo'),
        alias('broken', 'nowhere'),
      ],
    });
    expect(models.route('gpt-3.5-turbo')).toMatchObject({ requested: 'gpt-3.5-turbo', id: 'lab/llama' });
    expect(models.route('default').id).toBe('lab/llama');
    clock.now = NOW + DAY;
    expect(models.route('gpt-3.5-turbo').id).toBe('lab/mistral');
    expect(models.route('default').id).toBe('lab/mistral');
    expect(() => models.route('broken')).toThrow(
      'The model `broken` points to `nowhere`, which does not exist',
    );
  });

  it('a deprecated model: its deprecation until the shutdown date (warned in logs, not too often), then a 404 naming the replacement', () => {
    const {
      registry: models,
      clock,
      log,
    } = registry({
      aliases: [alias('old-alias', 'tiny')],
      models: [
        rule('tiny', { deprecatedAt: NOW - DAY, shutdownAt: NOW + 2 * DAY, replacement: 'lab/llama' }),
      ],
    });
    const route = models.route('old-alias');
    expect(route.deprecation).toMatchObject({
      model: 'tiny',
      replacement: 'lab/llama',
      deprecationHeader: `@${NOW - DAY}`,
      sunsetHeader: 'Sun, 03 Dec 2023 00:00:00 GMT',
    });
    models.route('tiny');
    expect(log).toEqual([
      'model old-alias is deprecated and shuts down on 2023-12-03; use lab/llama instead, but still requested',
      'model tiny is deprecated and shuts down on 2023-12-03; use lab/llama instead, but still requested',
    ]);
    clock.now += 60;
    models.route('tiny');
    expect(log).toHaveLength(2);
    clock.now += 11 * 60;
    models.route('tiny');
    expect(log).toHaveLength(3);
    // Listing does not count as use.
    models.entries();
    expect(log).toHaveLength(3);

    clock.now = NOW + 2 * DAY;
    expect(() => models.route('tiny')).toThrow(
      'The model `tiny` was shut down on 2023-12-03 and is no longer served. Use `lab/llama` instead.',
    );
    expect(() => models.route('old-alias')).toThrow('The model `old-alias` (`tiny`) was shut down');
    expect(models.list().map((model) => model.id)).not.toContain('tiny');
    expect(models.entries().map((entry) => entry.id)).not.toContain('old-alias');
    expect(models.entries({ all: true }).find((entry) => entry.id === 'tiny')?.status).toBe('shut-down');
  });

  it('no headers before the deprecation date itself', () => {
    const { registry: models } = registry({
      models: [rule('tiny', { deprecatedAt: NOW + DAY, shutdownAt: NOW + 9 * DAY })],
    });
    expect(models.route('tiny').deprecation).toBeUndefined();
  });

  it('applies capability and context overrides, prices and fallbacks', () => {
    const { registry: models } = registry({
      aliases: [alias('fast', 'lab/llama')],
      models: [
        rule('lab/llama', {
          contextLength: 8192,
          capabilities: { vision: true, nonsense: true },
          inputPricePer1k: 0.5,
          outputPricePer1k: 1.5,
          fallbacks: ['lab/mistral', 'tiny'],
        }),
      ],
    });
    const route = models.route('fast');
    expect(route.info.contextLength).toBe(8192);
    expect(route.info.capabilities).toMatchObject({ vision: true, tools: true });
    expect(route.info.capabilities).not.toHaveProperty('nonsense');
    expect(route.fallbacks).toEqual(['lab/mistral', 'tiny']);
    const entry = models.entries().find((candidate) => candidate.id === 'fast');
    expect(entry).toMatchObject({
      aliasFor: 'lab/llama',
      status: 'active',
      pricing: { inputPer1k: 0.5, outputPer1k: 1.5 },
    });
  });

  it('rebuilds when a provider reports new models, and when rules change', () => {
    const lab = provider('lab', [], { prefix: 'lab/' }) as InferenceProvider & { add(id: string): void };
    const models = new ModelRegistry({ providers: [lab], now: () => NOW * 1000 });
    expect(models.list()).toEqual([]);
    lab.add('lab/qwen');
    expect(models.list().map((model) => model.id)).toEqual(['lab/qwen']);
    models.setRules({ aliases: [alias('q', 'lab/qwen')], models: [] });
    expect(models.route('q').id).toBe('lab/qwen');
  });

  it('still accepts the plain list of providers', () => {
    expect(new ModelRegistry([provider('local', ['a'])]).get('a').id).toBe('a');
  });
});
