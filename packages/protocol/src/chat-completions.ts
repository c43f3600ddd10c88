// `/v1/chat/completions`: request schema (validated at the door) and response/chunk types,
// snake_case and field-for-field with the official spec (2023-11 → 2024-01 and later additions).
import { z } from 'zod';

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const AudioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
const FilePart = z.object({
  type: z.literal('file'),
  file: z.object({
    file_id: z.string().optional(),
    file_data: z.string().optional(),
    filename: z.string().optional(),
  }),
});
const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

export const ChatContentPart = z.discriminatedUnion('type', [TextPart, ImagePart, AudioPart, FilePart]);
export type ChatContentPart = z.infer<typeof ChatContentPart>;

const ToolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export type ChatCompletionMessageToolCall = z.infer<typeof ToolCall>;

const SystemMessage = z.object({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(TextPart)]),
  name: z.string().optional(),
});
const UserMessage = z.object({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(ChatContentPart)]),
  name: z.string().optional(),
});
const AssistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, RefusalPart]))]).nullish(),
  name: z.string().optional(),
  refusal: z.string().nullish(),
  tool_calls: z.array(ToolCall).nullish(),
  function_call: z.object({ name: z.string(), arguments: z.string() }).nullish(),
});
const ToolMessage = z.object({
  role: z.literal('tool'),
  content: z.union([z.string(), z.array(TextPart)]),
  tool_call_id: z.string(),
});
const FunctionMessage = z.object({
  role: z.literal('function'),
  content: z.string().nullable(),
  name: z.string(),
});

export const ChatMessageParam = z.discriminatedUnion('role', [
  SystemMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
  FunctionMessage,
]);
export type ChatMessageParam = z.infer<typeof ChatMessageParam>;

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const JsonSchemaObject = z.record(z.string(), z.unknown());

export const FunctionDefinition = z.object({
  name: z
    .string()
    .regex(FUNCTION_NAME, 'must be a-z, A-Z, 0-9, underscores or dashes, at most 64 characters'),
  description: z.string().optional(),
  parameters: JsonSchemaObject.optional(),
  strict: z.boolean().nullish(),
});
export type FunctionDefinition = z.infer<typeof FunctionDefinition>;

export const ChatTool = z.object({ type: z.literal('function'), function: FunctionDefinition });

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z
        .string()
        .regex(FUNCTION_NAME, 'must be a-z, A-Z, 0-9, underscores or dashes, at most 64 characters'),
      description: z.string().optional(),
      schema: JsonSchemaObject.optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

export const ChatCompletionCreateParams = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessageParam).min(1),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d+$/, 'keys must be token ids'), z.number().min(-100).max(100))
    .nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  response_format: ResponseFormat.nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  tools: z.array(ChatTool).max(128).nullish(),
  tool_choice: ToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(FunctionDefinition).min(1).max(128).nullish(),
  function_call: z.union([z.enum(['none', 'auto']), z.object({ name: z.string() })]).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
});
export type ChatCompletionCreateParams = z.infer<typeof ChatCompletionCreateParams>;

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'function_call' | 'content_filter';

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}
export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}
export interface ChoiceLogprobs {
  content: TokenLogprob[] | null;
  refusal?: TokenLogprob[] | null;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
  function_call?: { name: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: ChatCompletionMessage;
    logprobs: ChoiceLogprobs | null;
    finish_reason: FinishReason;
  }>;
  usage: CompletionUsage;
}

export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      refusal?: string | null;
      tool_calls?: ChatCompletionChunkToolCall[];
      function_call?: { name?: string; arguments?: string };
    };
    logprobs: ChoiceLogprobs | null;
    finish_reason: FinishReason | null;
  }>;
  usage?: CompletionUsage | null;
}
