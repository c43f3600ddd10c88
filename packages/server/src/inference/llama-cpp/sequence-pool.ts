// Hands out a model's context sequences to requests: first come, first served, and among free
// sequences the one whose cached tokens share the longest prefix with the new prompt, so a
// follow-up turn of a conversation re-evaluates only what is new.
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { AtelierError } from '../../errors.js';

interface Waiter {
  readonly tokens: readonly Token[];
  readonly resolve: (sequence: LlamaContextSequence) => void;
  readonly reject: (error: unknown) => void;
}

export class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiters: Waiter[] = [];

  constructor(sequences: readonly LlamaContextSequence[]) {
    this.free = [...sequences];
  }

  get size(): number {
    return this.free.length;
  }

  acquire({
    tokens,
    signal,
  }: {
    tokens: readonly Token[];
    signal?: AbortSignal;
  }): Promise<LlamaContextSequence> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.free.length > 0) return Promise.resolve(this.takeBest(tokens));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { tokens, resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) {
            this.waiters.splice(at, 1);
            reject(abortError());
          }
        },
        { once: true },
      );
    });
  }

  release(sequence: LlamaContextSequence): void {
    const next = this.waiters.shift();
    if (next) next.resolve(sequence);
    else this.free.push(sequence);
  }

  private takeBest(tokens: readonly Token[]): LlamaContextSequence {
    let bestIndex = 0;
    let bestLength = -1;
    for (const [index, sequence] of this.free.entries()) {
      const shared = sequence.compareContextTokens(tokens as Token[]).firstDifferentIndex;
      if (shared > bestLength) {
        bestLength = shared;
        bestIndex = index;
      }
    }
    return this.free.splice(bestIndex, 1)[0]!;
  }
}

function abortError(): AtelierError {
  return new AtelierError('The request was cancelled.', {
    status: 499,
    type: 'invalid_request_error',
    code: 'cancelled',
  });
}
