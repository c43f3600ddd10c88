// An embedding model for tests and benchmarks that needs no weights: the feature-hashing trick
// (each word adds ±1 to a few hashed dimensions), normalised. Texts sharing words point in
// similar directions, so nearest neighbours are meaningful, and it is fast enough to embed
// 100,000 chunks. It implements the same spec as a real model.

import type { EmbeddingModel, EmbeddingResult } from '../../../inference/spec.js';

export function createHashingEmbedder({ dimensions = 384, id = 'hashing-embedder' } = {}): EmbeddingModel {
  return {
    info: {
      id,
      provider: 'test',
      ownedBy: 'atelier',
      createdAt: 0,
      contextLength: 1_000_000,
      capabilities: {
        chat: false,
        completions: false,
        embeddings: true,
        tools: false,
        vision: false,
        json: false,
      },
      fingerprint: id,
    },
    async embed({ inputs }): Promise<EmbeddingResult> {
      let promptTokens = 0;
      const embeddings = inputs.map((input) => {
        const vector = new Float32Array(dimensions);
        const words =
          typeof input === 'string'
            ? (input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
            : input.map(String);
        promptTokens += words.length;
        for (const word of words) {
          let hash = 2166136261;
          for (let index = 0; index < word.length; index++)
            hash = Math.imul(hash ^ word.charCodeAt(index), 16777619);
          for (let probe = 0; probe < 4; probe++) {
            hash = Math.imul(hash ^ (hash >>> 13), 0x5bd1e995);
            vector[(hash >>> 1) % dimensions]! += hash & 1 ? 1 : -1;
          }
        }
        let norm = 0;
        for (const value of vector) norm += value * value;
        norm = Math.sqrt(norm) || 1;
        for (let index = 0; index < dimensions; index++) vector[index]! /= norm;
        return vector;
      });
      return { embeddings, promptTokens };
    },
  };
}
