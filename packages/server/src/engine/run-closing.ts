// Closing what a run left open when it ends other than by finishing its work (cancelled, failed,
// expired): its steps in progress take the run's fate, a message being written becomes
// incomplete, and each change is published so streams show it.

import type { MessageIncompleteReason, RunStepStatus, StepDetails } from '../storage/assistants-domain.js';
import type { RunStep } from '../storage/repositories/run-steps-repository.js';
import type { Repositories } from '../storage/repositories.js';
import type { EventBus } from './event-bus.js';
import { type RunEvent, runChannel } from './run-events.js';

export async function closeOpenWork({
  repositories,
  bus,
  runId,
  stepStatus,
  messageReason,
  lastError = null,
}: {
  repositories: Pick<Repositories, 'runSteps' | 'messages'>;
  bus: EventBus;
  runId: string;
  stepStatus: Exclude<RunStepStatus, 'in_progress' | 'completed'>;
  messageReason: MessageIncompleteReason;
  lastError?: RunStep['lastError'];
}): Promise<void> {
  const publish = (event: RunEvent) => bus.publish(runChannel(runId), event);
  for (const step of await repositories.runSteps.forRun(runId)) {
    if (step.status !== 'in_progress') continue;
    if (step.details.type === 'message_creation') {
      const message = await repositories.messages.findById(step.details.messageId);
      if (message?.status === 'in_progress') {
        const closed = await repositories.messages.update(message.id, {
          status: 'incomplete',
          incompleteReason: messageReason,
        });
        if (closed) await publish({ type: 'message', event: 'incomplete', message: closed });
      }
    }
    const closed = await repositories.runSteps.update(step.id, {
      status: stepStatus,
      ...(stepStatus === 'failed' && lastError ? { lastError } : {}),
    });
    if (closed) await publish({ type: 'step', event: stepStatus, step: closed });
  }
}

/** A tool-calls step's calls with the client's outputs filled in. */
export function withOutputs(details: StepDetails, outputs: ReadonlyMap<string, string>): StepDetails {
  if (details.type !== 'tool_calls') return details;
  return {
    type: 'tool_calls',
    toolCalls: details.toolCalls.map((call) =>
      call.type === 'function' && outputs.has(call.id) ? { ...call, output: outputs.get(call.id)! } : call,
    ),
  };
}
