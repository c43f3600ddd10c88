// Domain → wire for run steps and their streamed deltas; v1 calls file_search `retrieval`.
import type {
  RunStepDelta,
  RunStepV1,
  RunStepV2,
  ToolCallV1,
  ToolCallV2,
  ToolCallDelta as WireToolCallDelta,
} from '@atelier/protocol';
import type { ToolCallDelta } from '../engine/run-events.js';
import type { CodeInterpreterOutput, ToolCall } from '../storage/assistants-domain.js';
import type { RunStep } from '../storage/repositories/run-steps-repository.js';
import type { AssistantsVersion } from './assistants-version.js';

/** What `include[]` may ask of run steps (v2): the passages a file_search call found. */
export const FILE_SEARCH_CONTENT_INCLUDE = 'step_details.tool_calls[*].file_search.results[*].content';

export interface RunStepWireOptions {
  /** `include[]` named FILE_SEARCH_CONTENT_INCLUDE: file_search calls list their results with text. */
  readonly fileSearchContent?: boolean;
}

export function toWireRunStep(
  step: RunStep,
  version: AssistantsVersion,
  options: RunStepWireOptions = {},
): RunStepV1 | RunStepV2 {
  return {
    id: step.id,
    object: 'thread.run.step',
    created_at: step.createdAt,
    assistant_id: step.assistantId,
    thread_id: step.threadId,
    run_id: step.runId,
    type: step.type,
    status: step.status,
    step_details:
      step.details.type === 'message_creation'
        ? { type: 'message_creation', message_creation: { message_id: step.details.messageId } }
        : {
            type: 'tool_calls',
            tool_calls: step.details.toolCalls.map((call) => toWireToolCall(call, version, options)),
          },
    last_error: step.lastError ? { code: step.lastError.code, message: step.lastError.message } : null,
    expired_at: step.expiredAt,
    cancelled_at: step.cancelledAt,
    failed_at: step.failedAt,
    completed_at: step.completedAt,
    metadata: { ...step.metadata },
    usage: step.usage
      ? {
          prompt_tokens: step.usage.promptTokens,
          completion_tokens: step.usage.completionTokens,
          total_tokens: step.usage.promptTokens + step.usage.completionTokens,
        }
      : null,
  } as RunStepV1 | RunStepV2;
}

function toWireToolCall(
  call: ToolCall,
  version: AssistantsVersion,
  { fileSearchContent = false }: RunStepWireOptions,
): ToolCallV1 | ToolCallV2 {
  switch (call.type) {
    case 'function':
      return {
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments, output: call.output },
      };
    case 'code_interpreter':
      return {
        id: call.id,
        type: 'code_interpreter',
        code_interpreter: { input: call.input, outputs: call.outputs.map(toWireOutput) },
      };
    case 'file_search':
      if (version === 'v1') return { id: call.id, type: 'retrieval', retrieval: {} };
      return {
        id: call.id,
        type: 'file_search',
        file_search: fileSearchContent
          ? {
              // A GPT's knowledge seen from another workspace stays with the model.
              results: call.results
                .filter((result) => !result.private)
                .map((result) => ({
                  file_id: result.fileId,
                  file_name: result.fileName,
                  score: result.score,
                  content: [{ type: 'text', text: result.text }],
                })),
            }
          : {},
      } as ToolCallV2;
  }
}

function toWireOutput(output: CodeInterpreterOutput) {
  return output.type === 'logs'
    ? { type: 'logs' as const, logs: output.logs }
    : { type: 'image' as const, image: { file_id: output.fileId } };
}

export function toWireRunStepDelta(
  stepId: string,
  call: ToolCallDelta,
  version: AssistantsVersion,
): RunStepDelta {
  let wire: WireToolCallDelta;
  switch (call.type) {
    case 'function': {
      const fn: Record<string, unknown> = {};
      if (call.name !== undefined) fn['name'] = call.name;
      if (call.arguments !== undefined) fn['arguments'] = call.arguments;
      if (call.output !== undefined) fn['output'] = call.output;
      wire = { index: call.index, ...(call.id ? { id: call.id } : {}), type: 'function', function: fn };
      break;
    }
    case 'code_interpreter': {
      const code: Record<string, unknown> = {};
      if (call.input !== undefined) code['input'] = call.input;
      if (call.outputs !== undefined) {
        code['outputs'] = call.outputs.map((output, index) => ({ index, ...toWireOutput(output) }));
      }
      wire = {
        index: call.index,
        ...(call.id ? { id: call.id } : {}),
        type: 'code_interpreter',
        code_interpreter: code,
      };
      break;
    }
    case 'file_search':
      wire =
        version === 'v1'
          ? { index: call.index, ...(call.id ? { id: call.id } : {}), type: 'retrieval', retrieval: {} }
          : { index: call.index, ...(call.id ? { id: call.id } : {}), type: 'file_search', file_search: {} };
      break;
  }
  return {
    id: stepId,
    object: 'thread.run.step.delta',
    delta: { step_details: { type: 'tool_calls', tool_calls: [wire] } },
  };
}
