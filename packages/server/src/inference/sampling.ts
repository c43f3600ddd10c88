// Sampling as OpenAI does it when a request says nothing: temperature 1, top_p 1, no stop
// sequences, no penalties, no logit bias. Every caller that builds a request for a model itself
// (runs, summaries, tests, benches) starts from here and says only what differs.
import type { SamplingOptions } from './spec.js';

export function defaultSampling(overrides: Partial<SamplingOptions> = {}): SamplingOptions {
  return {
    temperature: 1,
    topP: 1,
    stop: [],
    presencePenalty: 0,
    frequencyPenalty: 0,
    logitBias: new Map(),
    ...overrides,
  };
}
