// Engine events → the OpenAI wire: a whole `chat.completion` / `text_completion`, or the
// `chat.completion.chunk` sequence of a stream (role first, tool calls with id+type+name in their
// first delta, a finish_reason on every choice, usage last when asked).
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessageToolCall,
  Completion,
  CompletionLogprobs,
  CompletionUsage,
  FinishReason,
  TokenLogprob as WireTokenLogprob,
} from '@atelier/protocol';
import type { CompletionEvent } from '../engine/chat-completion.js';
import type { TokenLogprob, Usage } from '../inference/spec.js';

export interface ResponseIdentity {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly systemFingerprint: string;
}

export function toWireUsage(usage: Usage): CompletionUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

export function toWireLogprob(logprob: TokenLogprob): WireTokenLogprob {
  return {
    token: logprob.token,
    logprob: logprob.logprob,
    bytes: [...logprob.bytes],
    top_logprobs: logprob.top.map((top) => ({
      token: top.token,
      logprob: top.logprob,
      bytes: [...top.bytes],
    })),
  };
}

interface ChoiceState {
  content: string;
  logprobs: WireTokenLogprob[];
  toolCalls: ChatCompletionMessageToolCall[];
  finishReason: FinishReason;
}

/** Collects a whole stream of events into one `chat.completion`. */
export async function collectChatCompletion({
  events,
  identity,
  n,
  logprobs,
  legacyFunctions,
}: {
  events: AsyncIterable<CompletionEvent>;
  identity: ResponseIdentity;
  n: number;
  logprobs: boolean;
  legacyFunctions: boolean;
}): Promise<ChatCompletion> {
  const choices: ChoiceState[] = Array.from({ length: n }, () => ({
    content: '',
    logprobs: [],
    toolCalls: [],
    finishReason: 'stop',
  }));
  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  for await (const event of events) {
    if (event.type === 'usage') {
      usage = event.usage;
      continue;
    }
    const choice = choices[event.choice]!;
    switch (event.type) {
      case 'text':
        choice.content += event.text;
        if (event.logprobs) choice.logprobs.push(...event.logprobs.map(toWireLogprob));
        break;
      case 'tool-call-start':
        choice.toolCalls[event.callIndex] = {
          id: event.id,
          type: 'function',
          function: { name: event.name, arguments: '' },
        };
        break;
      case 'tool-call-delta':
        choice.toolCalls[event.callIndex]!.function.arguments += event.argumentsDelta;
        break;
      case 'choice-finish':
        choice.finishReason =
          event.reason === 'tool_calls' && legacyFunctions ? 'function_call' : event.reason;
        break;
    }
  }
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    system_fingerprint: identity.systemFingerprint,
    choices: choices.map((choice, index) => {
      const hasCalls = choice.toolCalls.length > 0;
      const firstCall = choice.toolCalls[0];
      return {
        index,
        message: {
          role: 'assistant',
          content: hasCalls && !choice.content.trim() ? null : choice.content,
          refusal: null,
          ...(hasCalls && !legacyFunctions ? { tool_calls: choice.toolCalls } : {}),
          ...(firstCall && legacyFunctions ? { function_call: firstCall.function } : {}),
        },
        logprobs: logprobs ? { content: choice.logprobs, refusal: null } : null,
        finish_reason: choice.finishReason,
      };
    }),
    usage: toWireUsage(usage),
  };
}

/** Renders a stream of events as chat completion chunks, in order. */
export async function* toChatChunks({
  events,
  identity,
  n,
  logprobs,
  includeUsage,
  legacyFunctions,
}: {
  events: AsyncIterable<CompletionEvent>;
  identity: ResponseIdentity;
  n: number;
  logprobs: boolean;
  includeUsage: boolean;
  legacyFunctions: boolean;
}): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (
    index: number,
    delta: ChatCompletionChunk['choices'][number]['delta'],
    extra: Partial<ChatCompletionChunk['choices'][number]> = {},
  ): ChatCompletionChunk => ({
    id: identity.id,
    object: 'chat.completion.chunk',
    created: identity.created,
    model: identity.model,
    system_fingerprint: identity.systemFingerprint,
    choices: [{ index, delta, logprobs: null, finish_reason: null, ...extra }],
    ...(includeUsage ? { usage: null } : {}),
  });
  // OpenAI opens every choice with the role and empty content.
  for (let index = 0; index < n; index++) yield chunk(index, { role: 'assistant', content: '' });
  for await (const event of events) {
    switch (event.type) {
      case 'text':
        if (!event.text && !event.logprobs) break;
        yield chunk(
          event.choice,
          { content: event.text },
          logprobs && event.logprobs
            ? { logprobs: { content: event.logprobs.map(toWireLogprob), refusal: null } }
            : {},
        );
        break;
      case 'tool-call-start':
        yield chunk(
          event.choice,
          legacyFunctions
            ? { function_call: { name: event.name, arguments: '' } }
            : {
                tool_calls: [
                  {
                    index: event.callIndex,
                    id: event.id,
                    type: 'function',
                    function: { name: event.name, arguments: '' },
                  },
                ],
              },
        );
        break;
      case 'tool-call-delta':
        if (!event.argumentsDelta) break;
        yield chunk(
          event.choice,
          legacyFunctions
            ? { function_call: { arguments: event.argumentsDelta } }
            : { tool_calls: [{ index: event.callIndex, function: { arguments: event.argumentsDelta } }] },
        );
        break;
      case 'choice-finish':
        yield chunk(
          event.choice,
          {},
          {
            finish_reason: event.reason === 'tool_calls' && legacyFunctions ? 'function_call' : event.reason,
          },
        );
        break;
      case 'usage':
        if (includeUsage) {
          yield {
            id: identity.id,
            object: 'chat.completion.chunk',
            created: identity.created,
            model: identity.model,
            system_fingerprint: identity.systemFingerprint,
            choices: [],
            usage: toWireUsage(event.usage),
          };
        }
        break;
    }
  }
}

/** Legacy completions: one choice per (prompt, n) pair, text and its logprobs. */
export function toWireCompletionChoice({
  index,
  text,
  logprobs,
  finishReason,
  offset,
}: {
  index: number;
  text: string;
  logprobs: readonly TokenLogprob[] | undefined;
  finishReason: 'stop' | 'length';
  offset: number;
}): Completion['choices'][number] {
  return {
    index,
    text,
    logprobs: logprobs ? toCompletionLogprobs(logprobs, offset) : null,
    finish_reason: finishReason,
  };
}

export function toCompletionLogprobs(logprobs: readonly TokenLogprob[], offset: number): CompletionLogprobs {
  const result: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let position = offset;
  for (const logprob of logprobs) {
    result.tokens.push(logprob.token);
    result.token_logprobs.push(logprob.logprob);
    result.top_logprobs.push(Object.fromEntries(logprob.top.map((top) => [top.token, top.logprob])));
    result.text_offset.push(position);
    position += logprob.token.length;
  }
  return result;
}
