// `/v1/assistants` in both generations (v1: `file_ids` and `retrieval`; v2: `tool_resources`,
// `file_search`, sampling and `response_format`), and the v1-only assistant files.
import { z } from 'zod';
import {
  AssistantsResponseFormat,
  type AssistantToolV1,
  AssistantToolV1Param,
  type AssistantToolV2,
  AssistantToolV2Param,
  type ToolResources,
  ToolResourcesCreateParam,
  ToolResourcesUpdateParam,
} from './assistant-tools.js';
import { Metadata } from './metadata.js';

const common = {
  name: z.string().max(256).nullish(),
  description: z.string().max(512).nullish(),
  instructions: z.string().max(256_000).nullish(),
  metadata: Metadata.nullish(),
};

export const AssistantCreateParamsV1 = z.strictObject({
  model: z.string().min(1),
  ...common,
  tools: z.array(AssistantToolV1Param).max(128).optional(),
  file_ids: z.array(z.string().min(1)).max(20).optional(),
});
export type AssistantCreateParamsV1 = z.infer<typeof AssistantCreateParamsV1>;

export const AssistantUpdateParamsV1 = AssistantCreateParamsV1.partial();
export type AssistantUpdateParamsV1 = z.infer<typeof AssistantUpdateParamsV1>;

const v2Sampling = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  response_format: AssistantsResponseFormat.nullish(),
};

export const AssistantCreateParamsV2 = z.strictObject({
  model: z.string().min(1),
  ...common,
  tools: z.array(AssistantToolV2Param).max(128).optional(),
  tool_resources: ToolResourcesCreateParam.nullish(),
  ...v2Sampling,
});
export type AssistantCreateParamsV2 = z.infer<typeof AssistantCreateParamsV2>;

export const AssistantUpdateParamsV2 = z.strictObject({
  model: z.string().min(1).optional(),
  ...common,
  tools: z.array(AssistantToolV2Param).max(128).optional(),
  tool_resources: ToolResourcesUpdateParam.nullish(),
  ...v2Sampling,
});
export type AssistantUpdateParamsV2 = z.infer<typeof AssistantUpdateParamsV2>;

interface AssistantBase {
  id: string;
  object: 'assistant';
  created_at: number;
  name: string | null;
  description: string | null;
  model: string;
  instructions: string | null;
  metadata: Record<string, string>;
}

export interface AssistantV1 extends AssistantBase {
  tools: AssistantToolV1[];
  file_ids: string[];
}

export interface AssistantV2 extends AssistantBase {
  tools: AssistantToolV2[];
  tool_resources: ToolResources;
  temperature: number | null;
  top_p: number | null;
  response_format: AssistantsResponseFormat;
}

export interface AssistantDeleted {
  id: string;
  object: 'assistant.deleted';
  deleted: true;
}

/** v1 only: `/v1/assistants/{assistant_id}/files`. */
export const AssistantFileCreateParams = z.strictObject({ file_id: z.string().min(1) });
export type AssistantFileCreateParams = z.infer<typeof AssistantFileCreateParams>;

export interface AssistantFile {
  id: string;
  object: 'assistant.file';
  created_at: number;
  assistant_id: string;
}

export interface AssistantFileDeleted {
  id: string;
  object: 'assistant.file.deleted';
  deleted: true;
}
