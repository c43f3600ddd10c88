// A language model for unit tests of orchestration: what it generates each turn is fixed by a
// script, and every request it is sent is recorded for the test to read.
import type { GenerateEvent, GenerateRequest, LanguageModel } from '../../inference/spec.js';

export function scriptedModel(
  turns: GenerateEvent[][],
  { contextLength = 4096 }: { contextLength?: number } = {},
): LanguageModel & { requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  return {
    requests,
    info: {
      id: 'scripted',
      provider: 'test',
      ownedBy: 'test',
      createdAt: 0,
      contextLength,
      capabilities: {
        chat: true,
        completions: false,
        embeddings: false,
        tools: true,
        vision: false,
        json: true,
      },
      fingerprint: 'fp_test',
    },
    async *generate(request) {
      requests.push(request);
      const events = turns[requests.length - 1];
      if (!events) throw new Error(`the script has no turn ${requests.length}`);
      yield* events;
    },
    tokenize: async () => [],
    detokenize: async () => '',
  };
}

/** The events of one streamed tool call. */
export const scriptedCall = (index: number, name: string, args: unknown): GenerateEvent[] => [
  { type: 'tool-call-start', index, id: `call_${name}_${index}`, name },
  { type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(args) },
];
