// The tools an assistant or run may use, in both generations: v1 has `retrieval`, v2 renamed it
// `file_search` (with options added later); both have `function` and `code_interpreter`. Also the
// `tool_choice`, `response_format` and `truncation_strategy` options that runs share.
import { z } from 'zod';
import { FunctionDefinition } from './chat-completions.js';

const FunctionTool = z.strictObject({ type: z.literal('function'), function: FunctionDefinition });
const CodeInterpreterTool = z.strictObject({ type: z.literal('code_interpreter') });
const RetrievalTool = z.strictObject({ type: z.literal('retrieval') });
const FileSearchTool = z.strictObject({
  type: z.literal('file_search'),
  file_search: z
    .strictObject({
      max_num_results: z.number().int().min(1).max(50).optional(),
      ranking_options: z
        .strictObject({
          ranker: z.enum(['auto', 'default_2024_08_21']).optional(),
          score_threshold: z.number().min(0).max(1),
        })
        .optional(),
    })
    .optional(),
});

export const AssistantToolV1Param = z.discriminatedUnion('type', [
  FunctionTool,
  CodeInterpreterTool,
  RetrievalTool,
]);
export type AssistantToolV1Param = z.infer<typeof AssistantToolV1Param>;

export const AssistantToolV2Param = z.discriminatedUnion('type', [
  FunctionTool,
  CodeInterpreterTool,
  FileSearchTool,
]);
export type AssistantToolV2Param = z.infer<typeof AssistantToolV2Param>;

export interface FunctionToolWire {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean | null;
  };
}
export type AssistantToolV1 = FunctionToolWire | { type: 'code_interpreter' } | { type: 'retrieval' };
export type AssistantToolV2 =
  | FunctionToolWire
  | { type: 'code_interpreter' }
  | {
      type: 'file_search';
      file_search?: {
        max_num_results?: number;
        ranking_options?: { ranker?: string; score_threshold: number };
      };
    };

/** v2 `tool_resources` as stored on assistants and threads. */
export interface ToolResources {
  code_interpreter?: { file_ids: string[] };
  file_search?: { vector_store_ids: string[] };
}

const VectorStoreHelper = z.strictObject({
  file_ids: z.array(z.string().min(1)).max(10000).optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  chunking_strategy: z.record(z.string(), z.unknown()).optional(),
});

/** `tool_resources` on create: `file_search` takes existing ids or asks for a new store, not both. */
export const ToolResourcesCreateParam = z.strictObject({
  code_interpreter: z.strictObject({ file_ids: z.array(z.string().min(1)).max(20).optional() }).optional(),
  file_search: z
    .strictObject({
      vector_store_ids: z.array(z.string().min(1)).max(1).optional(),
      vector_stores: z.array(VectorStoreHelper).max(1).optional(),
    })
    .refine((value) => !(value.vector_store_ids && value.vector_stores), {
      message: 'give either vector_store_ids or vector_stores, not both',
    })
    .optional(),
});
export type ToolResourcesCreateParam = z.infer<typeof ToolResourcesCreateParam>;

/** `tool_resources` on update and on create-thread-and-run: existing ids only. */
export const ToolResourcesUpdateParam = z.strictObject({
  code_interpreter: z.strictObject({ file_ids: z.array(z.string().min(1)).max(20).optional() }).optional(),
  file_search: z.strictObject({ vector_store_ids: z.array(z.string().min(1)).max(1).optional() }).optional(),
});
export type ToolResourcesUpdateParam = z.infer<typeof ToolResourcesUpdateParam>;

export const AssistantsResponseFormat = z.union([
  z.enum(['none', 'auto']),
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('text') }),
    z.strictObject({ type: z.literal('json_object') }),
    z.strictObject({
      type: z.literal('json_schema'),
      json_schema: z.strictObject({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be a-z, A-Z, 0-9, underscores or dashes'),
        description: z.string().optional(),
        schema: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullish(),
      }),
    }),
  ]),
]);
export type AssistantsResponseFormat = z.infer<typeof AssistantsResponseFormat>;

export const ToolChoiceV1 = z.union([
  z.enum(['none', 'auto']),
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) }),
    z.strictObject({ type: z.literal('code_interpreter') }),
    z.strictObject({ type: z.literal('retrieval') }),
  ]),
]);
export type ToolChoiceV1 = z.infer<typeof ToolChoiceV1>;

export const ToolChoiceV2 = z.union([
  z.enum(['none', 'auto', 'required']),
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) }),
    z.strictObject({ type: z.literal('code_interpreter') }),
    z.strictObject({ type: z.literal('file_search') }),
  ]),
]);
export type ToolChoiceV2 = z.infer<typeof ToolChoiceV2>;

export const TruncationStrategy = z
  .strictObject({
    type: z.enum(['auto', 'last_messages']),
    last_messages: z.number().int().min(1).nullish(),
  })
  .refine((value) => value.type !== 'last_messages' || typeof value.last_messages === 'number', {
    message: "'last_messages' is required when the type is 'last_messages'",
    path: ['last_messages'],
  });
export type TruncationStrategy = { type: 'auto' | 'last_messages'; last_messages: number | null };
