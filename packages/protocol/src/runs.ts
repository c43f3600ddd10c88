// Runs in both generations: create (on a thread, or with a new thread), submit tool outputs,
// update metadata; the run object with its status, required action, errors and usage. v2 adds
// `top_p`, `additional_messages` with attachments, `tool_resources` and `parallel_tool_calls`.
import { z } from 'zod';
import {
  AssistantsResponseFormat,
  type AssistantToolV1,
  AssistantToolV1Param,
  type AssistantToolV2,
  AssistantToolV2Param,
  ToolChoiceV1,
  ToolChoiceV2,
  ToolResourcesUpdateParam,
  TruncationStrategy,
} from './assistant-tools.js';
import { MessageCreateParamsV1, MessageCreateParamsV2 } from './messages.js';
import { Metadata } from './metadata.js';
import { ThreadCreateParamsV1, ThreadCreateParamsV2 } from './threads.js';

const runOptions = {
  model: z.string().min(1).nullish(),
  instructions: z.string().max(256_000).nullish(),
  metadata: Metadata.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  stream: z.boolean().nullish(),
  max_prompt_tokens: z.number().int().min(256).nullish(),
  max_completion_tokens: z.number().int().min(256).nullish(),
  truncation_strategy: TruncationStrategy.nullish(),
  response_format: AssistantsResponseFormat.nullish(),
};

export const RunCreateParamsV1 = z.strictObject({
  assistant_id: z.string().min(1),
  ...runOptions,
  additional_instructions: z.string().max(256_000).nullish(),
  additional_messages: z.array(MessageCreateParamsV1).nullish(),
  tools: z.array(AssistantToolV1Param).max(20).nullish(),
  tool_choice: ToolChoiceV1.nullish(),
});
export type RunCreateParamsV1 = z.infer<typeof RunCreateParamsV1>;

const v2Options = {
  top_p: z.number().min(0).max(1).nullish(),
  tool_choice: ToolChoiceV2.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  tools: z.array(AssistantToolV2Param).max(20).nullish(),
};

export const RunCreateParamsV2 = z.strictObject({
  assistant_id: z.string().min(1),
  ...runOptions,
  ...v2Options,
  additional_instructions: z.string().max(256_000).nullish(),
  additional_messages: z.array(MessageCreateParamsV2).nullish(),
});
export type RunCreateParamsV2 = z.infer<typeof RunCreateParamsV2>;

export const ThreadCreateAndRunParamsV1 = z.strictObject({
  assistant_id: z.string().min(1),
  thread: ThreadCreateParamsV1.optional(),
  ...runOptions,
  tools: z.array(AssistantToolV1Param).max(20).nullish(),
  tool_choice: ToolChoiceV1.nullish(),
});
export type ThreadCreateAndRunParamsV1 = z.infer<typeof ThreadCreateAndRunParamsV1>;

export const ThreadCreateAndRunParamsV2 = z.strictObject({
  assistant_id: z.string().min(1),
  thread: ThreadCreateParamsV2.optional(),
  tool_resources: ToolResourcesUpdateParam.nullish(),
  ...runOptions,
  ...v2Options,
});
export type ThreadCreateAndRunParamsV2 = z.infer<typeof ThreadCreateAndRunParamsV2>;

export const RunSubmitToolOutputsParams = z.strictObject({
  tool_outputs: z.array(z.strictObject({ tool_call_id: z.string().min(1), output: z.string().optional() })),
  stream: z.boolean().nullish(),
});
export type RunSubmitToolOutputsParams = z.infer<typeof RunSubmitToolOutputsParams>;

export const RunUpdateParams = z.strictObject({ metadata: Metadata.nullish() });
export type RunUpdateParams = z.infer<typeof RunUpdateParams>;

export type RunStatus =
  | 'queued'
  | 'in_progress'
  | 'requires_action'
  | 'cancelling'
  | 'cancelled'
  | 'failed'
  | 'completed'
  | 'incomplete'
  | 'expired';

export interface RunToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface RunUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * Atelier's addition, on runs and GPT chat completions: a call of a GPT's action held back until
 * the person answers (allow the domain, or sign in). Answered through `POST /api/gpts/{id}/consents`.
 */
export interface AtelierPendingAction {
  type: 'consent_required' | 'oauth_required';
  action_id: string;
  operation: string;
  domain: string;
  can_always_allow: boolean;
  /** What would be sent: method, url, headers, body (never credentials); null for a sign-in. */
  preview: unknown;
  message: string;
  /** On runs: the held call of the run's steps. */
  tool_call_id?: string;
}

interface RunBase {
  id: string;
  object: 'thread.run';
  created_at: number;
  thread_id: string;
  assistant_id: string;
  status: RunStatus;
  required_action: { type: 'submit_tool_outputs'; submit_tool_outputs: { tool_calls: RunToolCall[] } } | null;
  last_error: { code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt'; message: string } | null;
  expires_at: number | null;
  started_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  incomplete_details: { reason: 'max_completion_tokens' | 'max_prompt_tokens' } | null;
  model: string;
  instructions: string;
  metadata: Record<string, string>;
  usage: RunUsage | null;
  temperature: number | null;
  max_prompt_tokens: number | null;
  max_completion_tokens: number | null;
  truncation_strategy: TruncationStrategy;
  response_format: AssistantsResponseFormat;
  /** Present when the run held back calls of a GPT's actions for the person's answer. */
  atelier_pending_actions?: AtelierPendingAction[];
}

export interface RunV1 extends RunBase {
  tools: AssistantToolV1[];
  file_ids: string[];
  tool_choice: ToolChoiceV1;
}

export interface RunV2 extends RunBase {
  tools: AssistantToolV2[];
  top_p: number | null;
  tool_choice: ToolChoiceV2;
  parallel_tool_calls: boolean;
}
