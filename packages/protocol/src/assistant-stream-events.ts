// The named server-sent events of Assistants streams (`stream: true` on runs): `event: <name>`
// with the object as data, ending with `event: done` / `data: [DONE]`.
import type { ErrorObject } from './errors.js';
import type { MessageDelta, MessageV1, MessageV2 } from './messages.js';
import type { RunStepDelta, RunStepV1, RunStepV2 } from './run-steps.js';
import type { RunV1, RunV2 } from './runs.js';
import type { ThreadV1, ThreadV2 } from './threads.js';

export const RUN_STREAM_EVENTS = [
  'thread.run.created',
  'thread.run.queued',
  'thread.run.in_progress',
  'thread.run.requires_action',
  'thread.run.completed',
  'thread.run.incomplete',
  'thread.run.failed',
  'thread.run.cancelling',
  'thread.run.cancelled',
  'thread.run.expired',
] as const;
export const RUN_STEP_STREAM_EVENTS = [
  'thread.run.step.created',
  'thread.run.step.in_progress',
  'thread.run.step.delta',
  'thread.run.step.completed',
  'thread.run.step.failed',
  'thread.run.step.cancelled',
  'thread.run.step.expired',
] as const;
export const MESSAGE_STREAM_EVENTS = [
  'thread.message.created',
  'thread.message.in_progress',
  'thread.message.delta',
  'thread.message.completed',
  'thread.message.incomplete',
] as const;

export type AssistantStreamEventName =
  | 'thread.created'
  | (typeof RUN_STREAM_EVENTS)[number]
  | (typeof RUN_STEP_STREAM_EVENTS)[number]
  | (typeof MESSAGE_STREAM_EVENTS)[number]
  | 'error'
  | 'done';

export type AssistantStreamEvent =
  | { event: 'thread.created'; data: ThreadV1 | ThreadV2 }
  | { event: (typeof RUN_STREAM_EVENTS)[number]; data: RunV1 | RunV2 }
  | { event: 'thread.run.step.delta'; data: RunStepDelta }
  | {
      event: Exclude<(typeof RUN_STEP_STREAM_EVENTS)[number], 'thread.run.step.delta'>;
      data: RunStepV1 | RunStepV2;
    }
  | { event: 'thread.message.delta'; data: MessageDelta }
  | {
      event: Exclude<(typeof MESSAGE_STREAM_EVENTS)[number], 'thread.message.delta'>;
      data: MessageV1 | MessageV2;
    }
  | { event: 'error'; data: ErrorObject }
  | { event: 'done'; data: '[DONE]' };
