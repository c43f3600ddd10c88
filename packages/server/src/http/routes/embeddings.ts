// POST /v1/embeddings: upstream models by pass-through (see model-dispatch.ts); local ones here,
// as float arrays or base64 of little-endian float32 (the SDKs' default).
import { type CreateEmbeddingResponse, EmbeddingCreateParams } from '@atelier/protocol';
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.js';
import type { ModelRegistry } from '../../inference/model-registry.js';
import type { UsageLedger } from '../../platform/usage-ledger.js';
import { abortOnClose } from '../abort-on-close.js';
import { dispatchByModel, type LocalRequest } from '../model-dispatch.js';
import { parseBody } from '../parse.js';
import { acceptRawJson } from '../raw-json-body.js';

export function registerEmbeddings(
  app: FastifyInstance,
  { registry, usage = undefined }: { registry: ModelRegistry; usage?: UsageLedger | undefined },
): void {
  void app.register(async (scope) => {
    const parseJson = acceptRawJson(scope);
    scope.post(
      '/v1/embeddings',
      dispatchByModel({
        registry,
        endpoint: 'embeddings',
        parseJson,
        serveLocally: (local) => serveLocally(registry, local),
        usage,
      }),
    );
  });
}

async function serveLocally(
  registry: ModelRegistry,
  { json, route, reply, recordUsage }: LocalRequest,
): Promise<unknown> {
  const params = parseBody(EmbeddingCreateParams, json);
  const { info, id } = route ?? registry.route(params.model);
  if (!info.capabilities.embeddings) {
    throw new InvalidRequestError(`The model \`${info.id}\` does not support embeddings.`, {
      param: 'model',
    });
  }
  const model = registry.embeddingModel(id);
  const inputs: (string | readonly number[])[] =
    typeof params.input === 'string'
      ? [params.input]
      : params.input.every((item) => typeof item === 'number')
        ? [params.input as number[]]
        : (params.input as (string | number[])[]);
  if (inputs.some((input) => input === '')) {
    throw new InvalidRequestError("'$.input' is invalid: an input must not be an empty string.", {
      param: 'input',
    });
  }
  const abort = abortOnClose(reply);
  const result = await model.embed({ inputs, signal: abort.signal });
  recordUsage(info.id, { promptTokens: result.promptTokens, completionTokens: 0, cachedPromptTokens: 0 });
  const data = result.embeddings.map((vector, index) => {
    const sized = resize(vector, params.dimensions, info.id);
    return {
      object: 'embedding' as const,
      index,
      // base64 is the raw float32 bytes; every platform Node runs on is little-endian, which
      // is what the SDKs decode.
      embedding:
        params.encoding_format === 'base64'
          ? Buffer.from(sized.buffer, sized.byteOffset, sized.byteLength).toString('base64')
          : Array.from(sized),
    };
  });
  const response: CreateEmbeddingResponse = {
    object: 'list',
    data,
    model: info.id,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
  return response;
}

/** `dimensions`: truncate and re-normalise (what Matryoshka-trained models expect). */
function resize(vector: Float32Array, dimensions: number | undefined, modelId: string): Float32Array {
  if (dimensions === undefined || dimensions === vector.length) return vector;
  if (dimensions > vector.length) {
    throw new InvalidRequestError(
      `This model (\`${modelId}\`) has ${vector.length} dimensions; 'dimensions' must not exceed it.`,
      { param: 'dimensions' },
    );
  }
  const out = vector.slice(0, dimensions);
  const norm = Math.hypot(...out);
  if (norm > 0) for (let index = 0; index < out.length; index++) out[index]! /= norm;
  return out;
}
