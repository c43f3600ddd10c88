// GET /v1/models and /v1/models/{model}: local and upstream models together, with aliases,
// deprecations, prices and fallbacks under the `atelier` extension (the SDKs ignore unknown keys),
// then the GPTs the caller may chat with, as `gpt-<id>` (docs/architecture/gpts.md).
import {
  GPT_DRAFT_SUFFIX,
  gptModelName,
  type Model,
  type ModelList,
  parseGptModelName,
} from '@atelier/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors.js';
import type { ModelRegistry, RegistryEntry } from '../../inference/model-registry.js';
import type { ModelCapabilities, ModelInfo } from '../../inference/spec.js';
import type { GptModel, GptsService } from '../../platform/gpts-service.js';

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

/** A GPT whose model is not served now (its chats answer 503 until its builder picks another). */
const GPT_CAPABILITIES_WHEN_UNSERVED: ModelCapabilities = Object.freeze({
  chat: true,
  completions: false,
  embeddings: false,
  tools: false,
  vision: false,
  json: false,
});

/**
 * A GPT as an OpenAI `Model`: `owned_by` is its builder (as its page shows them); its capabilities
 * are those of the model it runs on, whose name stays the builder's business.
 */
export function toWireGptModel(model: GptModel): Model {
  const runsOn = model.capabilities ?? GPT_CAPABILITIES_WHEN_UNSERVED;
  const name = gptModelName(model.gptId);
  return {
    id: model.draft ? `${name}${GPT_DRAFT_SUFFIX}` : name,
    object: 'model',
    created: model.createdAt,
    owned_by: model.builderName.trim() || 'atelier-gpt',
    atelier: {
      provider: 'gpt',
      // The context a GPT offers depends on its instructions and knowledge: not a fixed number.
      context_length: null,
      capabilities: {
        chat: true,
        completions: false,
        embeddings: false,
        tools: runsOn.tools,
        vision: runsOn.vision,
        json: runsOn.json,
      },
      gpt: {
        id: model.gptId,
        name: model.name,
        description: model.description,
        version: model.version,
        draft: model.draft,
      },
    },
  };
}

export function registerModels(
  app: FastifyInstance,
  {
    registry,
    gpts = undefined,
  }: {
    registry: ModelRegistry;
    /** Absent: no GPTs are listed (and `gpt-<id>` names are looked up like any model). */
    gpts?: GptsService | undefined;
  },
): void {
  const viewerOf = (request: FastifyRequest) => {
    const principal = request.principal!;
    return gpts!.viewer({ accountId: principal.accountId, workspaceId: principal.workspaceId });
  };

  app.get('/v1/models', async (request): Promise<ModelList> => {
    const models = registry
      .entries()
      .flatMap((entry) => (entry.info ? [toWireModel(entry.info, entry)] : []));
    if (!gpts) return { object: 'list', data: models };
    const listed = await gpts.chatModels({ viewer: await viewerOf(request) });
    return { object: 'list', data: [...models, ...listed.map(toWireGptModel)] };
  });
  app.get<{ Params: { model: string } }>('/v1/models/*', async (request, reply) => {
    // Model ids may contain slashes (`lab/llama-3`), so the rest of the path is the id.
    const raw = (request.params as Record<string, string>)['*'] ?? '';
    const id = safeDecode(raw);
    // A GPT's name is the GPT's alone (as in chat completions): one the caller may not chat with
    // is the 404 of an unknown model.
    const reference = gpts ? parseGptModelName(id) : null;
    if (gpts && reference) {
      const model = await gpts.chatModel({ viewer: await viewerOf(request), ...reference });
      if (!model) {
        throw new NotFoundError(`The model \`${id}\` does not exist or you do not have access to it.`, {
          param: 'model',
          code: 'model_not_found',
        });
      }
      return toWireGptModel(model);
    }
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

/** A path segment decoded; a malformed escape is kept as it came (and then matches no model). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
