// Runs a chat or text generation with `n` choices on one model and emits engine events that the
// HTTP layer renders as a chat completion, a legacy completion, or their SSE chunks.
import type { FinishReason, GenerateRequest, LanguageModel, TokenLogprob, Usage } from '../inference/spec.js';
import { mergeStreams } from './merge-streams.js';

export type CompletionEvent =
  | {
      readonly type: 'text';
      readonly choice: number;
      readonly text: string;
      readonly logprobs?: readonly TokenLogprob[];
    }
  | {
      readonly type: 'tool-call-start';
      readonly choice: number;
      readonly callIndex: number;
      readonly id: string;
      readonly name: string;
    }
  | {
      readonly type: 'tool-call-delta';
      readonly choice: number;
      readonly callIndex: number;
      readonly argumentsDelta: string;
    }
  | { readonly type: 'choice-finish'; readonly choice: number; readonly reason: FinishReason }
  | { readonly type: 'usage'; readonly usage: Usage };

export interface RunCompletionOptions {
  readonly model: LanguageModel;
  readonly request: GenerateRequest;
  readonly n?: number;
}

/**
 * Streams the events of all choices; usage comes last, summed over choices (the prompt is
 * counted once, as OpenAI does). Choice i samples with seed + i so choices differ but stay
 * reproducible.
 */
export async function* runCompletion({
  model,
  request,
  n = 1,
}: RunCompletionOptions): AsyncGenerator<CompletionEvent> {
  const choices = Array.from({ length: n }, (_, choice) => {
    const seed = request.sampling.seed;
    const sampling = seed === undefined ? request.sampling : { ...request.sampling, seed: seed + choice };
    return tagChoice(model.generate({ ...request, sampling }), choice);
  });
  let promptTokens = 0;
  let completionTokens = 0;
  let cachedPromptTokens = 0;
  let estimated = false;
  for await (const event of n === 1 ? choices[0]! : mergeStreams(choices)) {
    if (event.type === 'usage') {
      if (event.usage.estimated) estimated = true;
      promptTokens = Math.max(promptTokens, event.usage.promptTokens);
      cachedPromptTokens = Math.max(cachedPromptTokens, event.usage.cachedPromptTokens);
      completionTokens += event.usage.completionTokens;
      continue;
    }
    yield event;
  }
  yield {
    type: 'usage',
    usage: { promptTokens, completionTokens, cachedPromptTokens, ...(estimated ? { estimated } : {}) },
  };
}

async function* tagChoice(
  events: AsyncIterable<import('../inference/spec.js').GenerateEvent>,
  choice: number,
): AsyncGenerator<CompletionEvent> {
  for await (const event of events) {
    switch (event.type) {
      case 'text-delta':
        yield {
          type: 'text',
          choice,
          text: event.text,
          ...(event.logprobs ? { logprobs: event.logprobs } : {}),
        };
        break;
      case 'tool-call-start':
        yield { type: 'tool-call-start', choice, callIndex: event.index, id: event.id, name: event.name };
        break;
      case 'tool-call-delta':
        yield {
          type: 'tool-call-delta',
          choice,
          callIndex: event.index,
          argumentsDelta: event.argumentsDelta,
        };
        break;
      case 'finish':
        yield { type: 'choice-finish', choice, reason: event.reason };
        yield { type: 'usage', usage: event.usage };
        break;
    }
  }
}
