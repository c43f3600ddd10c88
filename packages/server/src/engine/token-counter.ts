// Counts tokens with the model's own tokenizer, remembering the counts of finished messages:
// a long thread is assembled for every run, and its messages never change once complete.

import type { LanguageModel } from '../inference/spec.js';

/** Tokens a chat template adds around each message (role markers, separators). */
export const MESSAGE_OVERHEAD_TOKENS = 8;

export class TokenCounter {
  private readonly cache = new Map<string, number>();
  private readonly capacity: number;

  constructor({ capacity = 200_000 }: { capacity?: number } = {}) {
    this.capacity = capacity;
  }

  async count(model: LanguageModel, text: string): Promise<number> {
    if (text.length === 0) return 0;
    return (await model.tokenize(text)).length;
  }

  /** Counts `text` under a stable key (e.g. a finished message's id), at most once per model. */
  async countCached(model: LanguageModel, key: string, text: string): Promise<number> {
    const cacheKey = `${model.info.id}\u0000${key}`;
    const known = this.cache.get(cacheKey);
    if (known !== undefined) {
      // Refresh its place: the map's order is least recently used first.
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, known);
      return known;
    }
    const counted = await this.count(model, text);
    this.cache.set(cacheKey, counted);
    if (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return counted;
  }
}
