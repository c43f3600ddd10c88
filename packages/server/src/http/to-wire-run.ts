// Domain → wire for runs. Usage shows once a run is over, as on OpenAI.
import { gptModelName, parseGptAssistantId, type RunV1, type RunV2 } from '@atelier/protocol';
import { isTerminal } from '../engine/run-state.js';
import type { Run } from '../storage/repositories/runs-repository.js';
import type { AssistantsVersion } from './assistants-version.js';
import {
  toWireResponseFormat,
  toWireToolChoice,
  toWireToolsV1,
  toWireToolsV2,
  toWireTruncation,
} from './to-wire-assistant-options.js';
import { toWireHeldCall } from './to-wire-pending-action.js';

export function toWireRun(run: Run, version: AssistantsVersion): RunV1 | RunV2 {
  const gpt = parseGptAssistantId(run.assistantId);
  const base = {
    id: run.id,
    object: 'thread.run' as const,
    created_at: run.createdAt,
    thread_id: run.threadId,
    assistant_id: run.assistantId,
    // v1 knew no `incomplete` (its clients poll on while a status is unknown to them): a run cut
    // short by a token limit is, to them, completed, as it was before v2 added the status.
    status: version === 'v1' && run.status === 'incomplete' ? 'completed' : run.status,
    required_action: run.requiredAction
      ? {
          type: 'submit_tool_outputs' as const,
          submit_tool_outputs: {
            tool_calls: run.requiredAction.toolCalls.map((call) => ({
              id: call.id,
              type: 'function' as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          },
        }
      : null,
    last_error: run.lastError ? { code: run.lastError.code, message: run.lastError.message } : null,
    // While a run is queued or running OpenAI shows when it would expire; Atelier enforces the
    // deadline only on requires_action (a local queue may be long), so it shows that one.
    expires_at: run.status === 'requires_action' ? run.expiresAt : null,
    started_at: run.startedAt,
    cancelled_at: run.cancelledAt,
    failed_at: run.failedAt,
    completed_at: version === 'v2' && run.status === 'incomplete' ? null : run.completedAt,
    incomplete_details: run.incompleteReason ? { reason: run.incompleteReason } : null,
    // A run on a GPT shows the GPT's model name, never its instructions or underlying model.
    model: gpt ? gptModelName(gpt.gptId) : run.model,
    instructions: gpt ? '' : run.instructions,
    metadata: { ...run.metadata },
    usage: isTerminal(run.status)
      ? {
          prompt_tokens: run.promptTokens,
          completion_tokens: run.completionTokens,
          total_tokens: run.promptTokens + run.completionTokens,
        }
      : null,
    temperature: run.temperature,
    max_prompt_tokens: run.maxPromptTokens,
    max_completion_tokens: run.maxCompletionTokens,
    truncation_strategy: toWireTruncation(run.truncationStrategy),
    response_format: toWireResponseFormat(run.responseFormat),
    // Calls of a GPT's actions held back for the person's answer (docs/architecture/actions.md).
    ...(run.pendingActions.length > 0
      ? { atelier_pending_actions: run.pendingActions.map(toWireHeldCall) }
      : {}),
  };
  if (version === 'v1') {
    return {
      ...base,
      tools: toWireToolsV1(run.tools),
      file_ids: [...run.fileIds],
      tool_choice: toWireToolChoice(run.toolChoice, 'v1') as RunV1['tool_choice'],
    };
  }
  return {
    ...base,
    tools: toWireToolsV2(run.tools),
    top_p: run.topP,
    tool_choice: toWireToolChoice(run.toolChoice, 'v2') as RunV2['tool_choice'],
    parallel_tool_calls: run.parallelToolCalls,
  };
}
