// Embeds texts in batches with the configured embedding model. A chunk can be longer than the
// model's context (800 tokens of o200k may be more in a small model's vocabulary): such a text
// is embedded from its beginning, shortened until it fits, rather than failing the file.

import type { EmbeddingModel } from '../../inference/spec.js';

export interface EmbedTextsOptions {
  readonly batchSize?: number;
  readonly signal?: AbortSignal | undefined;
}

const MAX_SHORTENINGS = 10;

export async function embedTexts(
  model: EmbeddingModel,
  texts: readonly string[],
  { batchSize = 16, signal = undefined }: EmbedTextsOptions = {},
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    try {
      const result = await model.embed({ inputs: batch, ...(signal ? { signal } : {}) });
      out.push(...result.embeddings);
    } catch (error) {
      if (!isTooLong(error)) throw error;
      for (const text of batch) out.push(await embedShortened(model, text, signal));
    }
  }
  return out;
}

async function embedShortened(model: EmbeddingModel, text: string, signal: AbortSignal | undefined) {
  let input = text;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await model.embed({ inputs: [input], ...(signal ? { signal } : {}) });
      return result.embeddings[0]!;
    } catch (error) {
      if (!isTooLong(error) || attempt >= MAX_SHORTENINGS) throw error;
      input = input.slice(0, Math.floor(input.length * 0.7));
    }
  }
}

function isTooLong(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'context_length_exceeded';
}
