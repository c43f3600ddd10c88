// GET /v1/models and /v1/models/{model}: local and upstream models together, with aliases,
// deprecations, prices and fallbacks under the `atelier` extension (the SDKs ignore unknown keys).
import type { Model, ModelList } from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import type { ModelRegistry, RegistryEntry } from '../../inference/model-registry.js';
import type { ModelInfo } from '../../inference/spec.js';

export function toWireModel(info: ModelInfo, entry: RegistryEntry | undefined = undefined): Model {
  const deprecation = entry?.deprecation;
  return {
    id: entry?.id ?? info.id,
    object: 'model',
    created: info.createdAt,
    owned_by: info.ownedBy,
    atelier: {
      provider: info.provider,
      context_length: info.contextLength > 0 ? info.contextLength : null,
      capabilities: { ...info.capabilities },
      ...(info.notice ? { notice: info.notice } : {}),
      ...(info.upstream ? { upstream: info.upstream } : {}),
      ...(entry?.aliasFor ? { alias_for: entry.aliasFor } : {}),
      ...(entry?.scheduledSwitch
        ? {
            scheduled_switch: {
              target: entry.scheduledSwitch.target,
              switch_at: entry.scheduledSwitch.switchAt,
            },
          }
        : {}),
      ...(deprecation
        ? {
            deprecation: {
              deprecated_at: deprecation.deprecatedAt,
              shutdown_at: deprecation.shutdownAt,
              replacement: deprecation.replacement,
            },
          }
        : {}),
      ...(entry?.pricing
        ? {
            pricing: {
              input_per_1k: entry.pricing.inputPer1k,
              output_per_1k: entry.pricing.outputPer1k,
              currency: 'USD' as const,
            },
          }
        : {}),
      ...(entry && entry.fallbacks.length > 0 ? { fallbacks: [...entry.fallbacks] } : {}),
    },
  };
}

export function registerModels(app: FastifyInstance, { registry }: { registry: ModelRegistry }): void {
  app.get(
    '/v1/models',
    async (): Promise<ModelList> => ({
      object: 'list',
      data: registry.entries().flatMap((entry) => (entry.info ? [toWireModel(entry.info, entry)] : [])),
    }),
  );
  app.get<{ Params: { model: string } }>('/v1/models/*', async (request, reply) => {
    // Model ids may contain slashes (`lab/llama-3`), so the rest of the path is the id.
    const id = decodeURIComponent((request.params as Record<string, string>)['*'] ?? '');
    // Routing first: an unknown or shut-down model is the 404 every other endpoint gives.
    const route = registry.route(id);
    if (route.deprecation) {
      reply.header('deprecation', route.deprecation.deprecationHeader);
      if (route.deprecation.sunsetHeader) reply.header('sunset', route.deprecation.sunsetHeader);
    }
    const entry = registry.entries().find((candidate) => candidate.id === id);
    return toWireModel(route.info, entry);
  });
}
