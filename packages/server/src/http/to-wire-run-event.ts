// Engine run events → the official Assistants stream events (`thread.run.*`, `thread.run.step.*`,
// `thread.message.*`), in the generation the client speaks.
import type { AssistantStreamEvent } from '@atelier/protocol';
import type { RunEvent } from '../engine/run-events.js';
import type { AssistantsVersion } from './assistants-version.js';
import { toWireMessage, toWireMessageDelta } from './to-wire-message.js';
import { toWireRun } from './to-wire-run.js';
import { toWireRunStep, toWireRunStepDelta } from './to-wire-run-step.js';

export function toWireRunEvent(event: RunEvent, version: AssistantsVersion): AssistantStreamEvent {
  switch (event.type) {
    case 'run':
      return {
        // As the run's status: v1 clients know no `thread.run.incomplete` (to-wire-run.ts).
        event: `thread.run.${version === 'v1' && event.event === 'incomplete' ? 'completed' : event.event}`,
        data: toWireRun(event.run, version),
      } as AssistantStreamEvent;
    case 'step':
      return {
        event: `thread.run.step.${event.event}`,
        data: toWireRunStep(event.step, version),
      } as AssistantStreamEvent;
    case 'step-delta':
      return {
        event: 'thread.run.step.delta',
        data: toWireRunStepDelta(event.stepId, event.toolCall, version),
      };
    case 'message':
      return {
        event: `thread.message.${event.event}`,
        data: toWireMessage(event.message, version),
      } as AssistantStreamEvent;
    case 'message-delta':
      return { event: 'thread.message.delta', data: toWireMessageDelta(event.messageId, event.content) };
  }
}
