// GenerateRequest (the engine's words) → an OpenAI request body for an upstream, for when the
// engine itself drives an upstream model (Assistants runs). Clients' own requests never come
// through here: they are passed through untouched.
import type { ChatMessage, GenerateRequest, SamplingOptions, ToolMode } from '../spec.js';

export function toUpstreamRequest({
  request,
  model,
  includeUsage = true,
}: {
  request: GenerateRequest;
  model: string;
  /** false for upstreams that refuse `stream_options` (Groq and Mistral did, for a while). */
  includeUsage?: boolean;
}): { endpoint: 'chat/completions' | 'completions'; body: Record<string, unknown> } {
  const { input, sampling, constraint } = request;
  const body: Record<string, unknown> = { model, stream: true };
  if (includeUsage) body['stream_options'] = { include_usage: true };
  if (input.type === 'chat') {
    body['messages'] = input.messages.map(toWireMessage);
    if (input.tools.length > 0) {
      body['tools'] = input.tools.map((tool) => ({
        type: 'function',
        function: {
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parameters: tool.parameters,
          ...(tool.strict === undefined ? {} : { strict: tool.strict }),
        },
      }));
      body['tool_choice'] = toToolChoice(input.toolMode);
      // Sent only when it differs from OpenAI's default: some servers reject the parameter.
      if (!input.parallelToolCalls) body['parallel_tool_calls'] = false;
    }
    if (sampling.logprobs) {
      body['logprobs'] = true;
      if (sampling.logprobs.top > 0) body['top_logprobs'] = sampling.logprobs.top;
    }
    if (constraint.type === 'json_object') body['response_format'] = { type: 'json_object' };
    if (constraint.type === 'json_schema') {
      body['response_format'] = {
        type: 'json_schema',
        json_schema: { name: 'response', schema: constraint.schema },
      };
    }
    addSampling(body, sampling);
    return { endpoint: 'chat/completions', body };
  }
  body['prompt'] = typeof input.prompt === 'string' ? input.prompt : [...input.prompt];
  if (input.suffix !== undefined) body['suffix'] = input.suffix;
  if (sampling.logprobs) body['logprobs'] = sampling.logprobs.top;
  addSampling(body, sampling);
  return { endpoint: 'completions', body };
}

function addSampling(body: Record<string, unknown>, sampling: SamplingOptions): void {
  if (sampling.maxTokens !== undefined) body['max_tokens'] = sampling.maxTokens;
  body['temperature'] = sampling.temperature;
  body['top_p'] = sampling.topP;
  if (sampling.stop.length > 0) body['stop'] = [...sampling.stop];
  if (sampling.presencePenalty !== 0) body['presence_penalty'] = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== 0) body['frequency_penalty'] = sampling.frequencyPenalty;
  if (sampling.logitBias.size > 0) body['logit_bias'] = Object.fromEntries(sampling.logitBias);
  if (sampling.seed !== undefined) body['seed'] = sampling.seed;
}

function toToolChoice(mode: ToolMode): unknown {
  switch (mode.type) {
    case 'none':
    case 'auto':
    case 'required':
      return mode.type;
    case 'function':
      return { type: 'function', function: { name: mode.name } };
  }
}

function toWireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user': {
      const onlyText = message.content.every((part) => part.type === 'text');
      const content = onlyText
        ? message.content.map((part) => (part.type === 'text' ? part.text : '')).join('')
        : message.content.map((part) =>
            part.type === 'text'
              ? { type: 'text', text: part.text }
              : { type: 'image_url', image_url: { url: part.url } },
          );
      return { role: 'user', content, ...(message.name === undefined ? {} : { name: message.name }) };
    }
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content === '' && message.toolCalls.length > 0 ? null : message.content,
        ...(message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  }
}
