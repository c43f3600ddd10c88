// Wire → domain for the options of a run (create, create-thread-and-run), in both generations.
import type {
  RunCreateParamsV1,
  RunCreateParamsV2,
  ThreadCreateAndRunParamsV1,
  ThreadCreateAndRunParamsV2,
} from '@atelier/protocol';
import type { RunOptions } from '../engine/run-engine.js';
import {
  fromWireResponseFormat,
  fromWireToolChoice,
  fromWireTools,
  fromWireTruncation,
} from './from-wire-assistant-options.js';

type AnyRunParams =
  | RunCreateParamsV1
  | RunCreateParamsV2
  | ThreadCreateAndRunParamsV1
  | ThreadCreateAndRunParamsV2;

export function fromWireRunOptions(params: AnyRunParams): RunOptions {
  return {
    model: params.model ?? null,
    instructions: params.instructions ?? null,
    additionalInstructions:
      'additional_instructions' in params ? (params.additional_instructions ?? null) : null,
    tools: params.tools ? fromWireTools(params.tools) : null,
    metadata: params.metadata ?? null,
    temperature: params.temperature ?? null,
    topP: 'top_p' in params ? (params.top_p ?? null) : null,
    maxPromptTokens: params.max_prompt_tokens ?? null,
    maxCompletionTokens: params.max_completion_tokens ?? null,
    truncationStrategy: params.truncation_strategy ? fromWireTruncation(params.truncation_strategy) : null,
    toolChoice: params.tool_choice ? fromWireToolChoice(params.tool_choice) : null,
    responseFormat: params.response_format ? fromWireResponseFormat(params.response_format) : null,
    parallelToolCalls: 'parallel_tool_calls' in params ? (params.parallel_tool_calls ?? null) : null,
  };
}
