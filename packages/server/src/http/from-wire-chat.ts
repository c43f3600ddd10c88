// Wire → domain for `/v1/chat/completions` and `/v1/completions`: validates what the schema
// cannot (names, references, capabilities) and builds the engine's GenerateRequest.
import type { ChatCompletionCreateParams, CompletionCreateParams } from '@atelier/protocol';
import { InvalidRequestError } from '../errors.js';
import type {
  ChatMessage,
  GenerateRequest,
  ModelInfo,
  OutputConstraint,
  SamplingOptions,
  ToolDefinition,
  ToolMode,
  UserContent,
} from '../inference/spec.js';
import { checkStrictFunction, checkStrictSchema } from '../inference/structured-output/grammar-schema.js';
import { toToolDefinition } from '../inference/tool-definition.js';

export interface ChatRequestPlan {
  readonly request: GenerateRequest;
  readonly n: number;
  /** Legacy `functions`: render the answer as `function_call`. */
  readonly legacyFunctions: boolean;
}

export function fromWireChat(
  params: ChatCompletionCreateParams,
  { model, signal }: { model: ModelInfo; signal: AbortSignal },
): ChatRequestPlan {
  refuseStreamOptionsWithoutStream(params);
  const legacyFunctions = !params.tools && !!params.functions;
  if (params.tools && params.functions) {
    throw new InvalidRequestError('Use either `tools` or the deprecated `functions`, not both.', {
      param: 'functions',
    });
  }
  const definitions = params.tools?.map((tool) => tool.function) ?? params.functions ?? [];
  const tools: ToolDefinition[] = definitions.map(toToolDefinition);
  const names = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    const at = legacyFunctions ? `functions[${index}]` : `tools[${index}].function`;
    if (names.has(tool.name)) {
      throw new InvalidRequestError(`Duplicate function name '${tool.name}'.`, { param: `${at}.name` });
    }
    names.add(tool.name);
    // Structured Outputs for function calling: refused up front unless every call can satisfy it.
    if (tool.strict === true) {
      checkStrictFunction(tool.parameters, { param: `${at}.parameters`, name: tool.name });
    }
  }
  const toolMode = toToolMode(params, names, legacyFunctions);
  if (tools.length > 0 && !model.capabilities.tools && toolMode.type !== 'none') {
    throw new InvalidRequestError(`The model \`${model.id}\` does not support tools.`, { param: 'tools' });
  }
  if (params.parallel_tool_calls !== undefined && params.parallel_tool_calls !== null && tools.length === 0) {
    throw new InvalidRequestError('`parallel_tool_calls` is only allowed when `tools` are specified.', {
      param: 'parallel_tool_calls',
    });
  }
  if (params.top_logprobs !== undefined && params.top_logprobs !== null && !params.logprobs) {
    throw new InvalidRequestError('`top_logprobs` requires `logprobs` to be true.', {
      param: 'top_logprobs',
    });
  }
  const messages = params.messages.map((message, index) => toChatMessage(message, index, model));
  const constraint = toConstraint(params.response_format, model);
  if (constraint.type === 'json_object' && !mentionsJson(params.messages)) {
    throw new InvalidRequestError(
      "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      { param: 'messages' },
    );
  }
  const sampling = toSampling({
    maxTokens: params.max_completion_tokens ?? params.max_tokens ?? undefined,
    params,
    logprobs: params.logprobs ? { top: params.top_logprobs ?? 0 } : undefined,
  });
  return {
    n: params.n ?? 1,
    legacyFunctions,
    request: {
      input: {
        type: 'chat',
        messages,
        tools,
        toolMode,
        parallelToolCalls: legacyFunctions ? false : (params.parallel_tool_calls ?? true),
      },
      sampling,
      constraint,
      signal,
    },
  };
}

export function fromWireCompletion(
  params: CompletionCreateParams,
  { signal }: { signal: AbortSignal },
): { requests: GenerateRequest[]; n: number } {
  refuseStreamOptionsWithoutStream(params);
  if (params.best_of !== undefined && params.best_of !== null && params.best_of !== (params.n ?? 1)) {
    throw new InvalidRequestError('`best_of` other than `n` is not supported.', { param: 'best_of' });
  }
  const prompts: (string | readonly number[])[] =
    typeof params.prompt === 'string'
      ? [params.prompt]
      : params.prompt.every((item) => typeof item === 'number')
        ? [params.prompt as number[]]
        : (params.prompt as (string | number[])[]);
  const sampling = toSampling({
    // The legacy endpoint's default is 16 tokens.
    maxTokens: params.max_tokens === 0 ? undefined : (params.max_tokens ?? 16),
    params,
    logprobs:
      params.logprobs !== undefined && params.logprobs !== null ? { top: params.logprobs } : undefined,
  });
  return {
    n: params.n ?? 1,
    requests: prompts.map((prompt) => ({
      input: { type: 'text', prompt, ...(params.suffix ? { suffix: params.suffix } : {}) },
      sampling,
      constraint: { type: 'none' },
      signal,
    })),
  };
}

/** As OpenAI: `stream_options` only on a request that streams (null counts as left out). */
function refuseStreamOptionsWithoutStream(params: ChatCompletionCreateParams | CompletionCreateParams): void {
  if (params.stream_options !== undefined && params.stream_options !== null && !params.stream) {
    throw new InvalidRequestError(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      { param: 'stream_options' },
    );
  }
}

function toSampling({
  maxTokens,
  params,
  logprobs,
}: {
  maxTokens: number | undefined;
  params: ChatCompletionCreateParams | CompletionCreateParams;
  logprobs: { top: number } | undefined;
}): SamplingOptions {
  const stop = params.stop === undefined || params.stop === null ? [] : [params.stop].flat();
  const logitBias = new Map<number, number>();
  for (const [token, bias] of Object.entries(params.logit_bias ?? {})) logitBias.set(Number(token), bias);
  return {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    temperature: params.temperature ?? 1,
    topP: params.top_p ?? 1,
    stop: stop.filter((value) => value.length > 0),
    presencePenalty: params.presence_penalty ?? 0,
    frequencyPenalty: params.frequency_penalty ?? 0,
    logitBias,
    ...(params.seed !== undefined && params.seed !== null ? { seed: params.seed } : {}),
    ...(logprobs ? { logprobs } : {}),
  };
}

function toToolMode(params: ChatCompletionCreateParams, names: Set<string>, legacy: boolean): ToolMode {
  const choice = legacy ? params.function_call : params.tool_choice;
  const param = legacy ? 'function_call' : 'tool_choice';
  if (choice === undefined || choice === null) return names.size > 0 ? { type: 'auto' } : { type: 'none' };
  if (names.size === 0 && choice !== 'none') {
    throw new InvalidRequestError(
      `\`${param}\` is only allowed when \`${legacy ? 'functions' : 'tools'}\` are specified.`,
      {
        param,
      },
    );
  }
  if (choice === 'none' || choice === 'auto' || choice === 'required') return { type: choice };
  const name = 'function' in choice ? choice.function.name : choice.name;
  if (!names.has(name)) {
    throw new InvalidRequestError(
      `Invalid value for '${param}': no function named '${name}' was specified.`,
      {
        param,
      },
    );
  }
  return { type: 'function', name };
}

function toConstraint(
  format: ChatCompletionCreateParams['response_format'],
  model: ModelInfo,
): OutputConstraint {
  if (!format || format.type === 'text') return { type: 'none' };
  if (!model.capabilities.json) {
    throw new InvalidRequestError(`The model \`${model.id}\` does not support 'response_format'.`, {
      param: 'response_format',
    });
  }
  if (format.type === 'json_object') return { type: 'json_object' };
  const schema = format.json_schema.schema ?? { type: 'object' };
  // Structured Outputs: a strict schema is refused up front unless decoding can always satisfy it.
  if (format.json_schema.strict === true) {
    checkStrictSchema(schema, { param: 'response_format', name: format.json_schema.name });
  }
  return { type: 'json_schema', schema };
}

function mentionsJson(messages: ChatCompletionCreateParams['messages']): boolean {
  return messages.some((message) => {
    const content = message.content;
    if (typeof content === 'string') return /json/i.test(content);
    if (Array.isArray(content)) return content.some((part) => 'text' in part && /json/i.test(part.text));
    return false;
  });
}

function textOf(
  content: string | readonly { type: string; text?: string; refusal?: string }[] | null | undefined,
): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text ?? part.refusal ?? '').join('');
}

function toChatMessage(
  message: ChatCompletionCreateParams['messages'][number],
  index: number,
  model: ModelInfo,
): ChatMessage {
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(message.content) };
    case 'user': {
      const parts: UserContent[] = [];
      if (typeof message.content === 'string') parts.push({ type: 'text', text: message.content });
      else {
        for (const [partIndex, part] of message.content.entries()) {
          if (part.type === 'text') parts.push({ type: 'text', text: part.text });
          else if (part.type === 'image_url') {
            if (!model.capabilities.vision) {
              throw new InvalidRequestError(
                `Invalid content type. image_url is only supported by certain models: \`${model.id}\` does not accept images.`,
                { param: `messages[${index}].content[${partIndex}].type`, code: 'unsupported_content' },
              );
            }
            parts.push({ type: 'image', url: part.image_url.url });
          } else {
            throw new InvalidRequestError(
              `Content of type ${part.type} is not supported by \`${model.id}\`.`,
              {
                param: `messages[${index}].content[${partIndex}].type`,
                code: 'unsupported_content',
              },
            );
          }
        }
      }
      return { role: 'user', content: parts, ...(message.name ? { name: message.name } : {}) };
    }
    case 'assistant': {
      const toolCalls = (message.tool_calls ?? []).map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      }));
      if (message.function_call) {
        toolCalls.push({
          id: `call_legacy_${index}`,
          name: message.function_call.name,
          arguments: message.function_call.arguments,
        });
      }
      return { role: 'assistant', content: textOf(message.content), toolCalls };
    }
    case 'tool':
      return { role: 'tool', toolCallId: message.tool_call_id, content: textOf(message.content) };
    case 'function':
      return {
        role: 'tool',
        toolCallId: `call_legacy_${index}`,
        name: message.name,
        content: message.content ?? '',
      };
  }
}
