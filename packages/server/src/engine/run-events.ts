// What a run reports while it executes, as it happens: status changes, steps, messages and their
// deltas. Published on the event bus (channel `run:<id>`) by whoever changes the run (the API for
// created/queued/cancelled, a worker for the rest); the HTTP layer renders them as the official
// Assistants stream events. Everything here is plain JSON so any bus can carry it.

import type { Annotation, CodeInterpreterOutput, RunStatus } from '../storage/assistants-domain.js';
import type { Message } from '../storage/repositories/messages-repository.js';
import type { RunStep } from '../storage/repositories/run-steps-repository.js';
import type { Run } from '../storage/repositories/runs-repository.js';
import type { EventBus, Unsubscribe } from './event-bus.js';

export type ToolCallDelta =
  | {
      readonly type: 'function';
      readonly index: number;
      readonly id?: string;
      readonly name?: string;
      /** A fragment, appended to what came before. */
      readonly arguments?: string;
      readonly output?: string | null;
    }
  | {
      readonly type: 'code_interpreter';
      readonly index: number;
      readonly id?: string;
      /** A fragment of the code, appended to what came before. */
      readonly input?: string;
      readonly outputs?: readonly CodeInterpreterOutput[];
    }
  | { readonly type: 'file_search'; readonly index: number; readonly id?: string };

export type MessageContentDelta =
  | {
      readonly type: 'text';
      readonly index: number;
      /** A fragment, appended to what came before. */
      readonly value?: string;
      /** Annotations added by this delta, with their position in the part's annotation list. */
      readonly annotations?: readonly { readonly index: number; readonly annotation: Annotation }[];
    }
  | { readonly type: 'image_file'; readonly index: number; readonly fileId: string };

export type RunEventName = 'created' | RunStatus;

export type RunEvent =
  | { readonly type: 'run'; readonly event: RunEventName; readonly run: Run }
  | {
      readonly type: 'step';
      readonly event: 'created' | 'in_progress' | 'completed' | 'failed' | 'cancelled' | 'expired';
      readonly step: RunStep;
    }
  | { readonly type: 'step-delta'; readonly stepId: string; readonly toolCall: ToolCallDelta }
  | {
      readonly type: 'message';
      readonly event: 'created' | 'in_progress' | 'completed' | 'incomplete';
      readonly message: Message;
    }
  | { readonly type: 'message-delta'; readonly messageId: string; readonly content: MessageContentDelta };

/** A signal to the worker holding a run. */
export type RunControl = { readonly type: 'cancel' };

export const runChannel = (runId: string) => `run:${runId}`;
export const runControlChannel = (runId: string) => `run-control:${runId}`;
/** "There is work": published when a run becomes claimable, so idle workers look at once. */
export const WAKE_CHANNEL = 'runs:wake';

/** Statuses after which a stream of the run ends (the run waits for the client, or is over). */
export const STREAM_END_STATUSES: readonly RunStatus[] = [
  'requires_action',
  'completed',
  'incomplete',
  'failed',
  'cancelled',
  'expired',
];

export interface RunEventSubscription extends AsyncIterable<RunEvent> {
  /** Ends the subscription; with an error, the reader gets it after the events already buffered. */
  close(error?: Error): void;
}

/**
 * Subscribes to a run's events and buffers them until read, so a subscriber that starts reading
 * later (after writing the first events itself) loses nothing. Subscribe before the change that
 * triggers the events.
 */
export async function subscribeToRun(bus: EventBus, runId: string): Promise<RunEventSubscription> {
  let unsubscribe: Unsubscribe | undefined;
  const queue = eventQueue(() => unsubscribe?.());
  unsubscribe = await bus.subscribe(runChannel(runId), (event) => queue.push(event as RunEvent));
  return { close: queue.finish, [Symbol.asyncIterator]: () => queue.events() };
}

/**
 * Two readers of one subscription, each with every event from where it began: the first is read
 * by whoever must follow the run to its end, the second may be dropped (closed) early, which
 * neither stops the first nor the subscription. Closing both closes the source.
 */
export function teeRunEvents(source: RunEventSubscription): [RunEventSubscription, RunEventSubscription] {
  let open = 2;
  const finishOne = () => {
    open -= 1;
    if (open === 0) source.close();
  };
  const queues = [eventQueue(finishOne), eventQueue(finishOne)] as const;
  void (async () => {
    try {
      for await (const event of source) for (const queue of queues) queue.push(event);
      for (const queue of queues) queue.finish();
    } catch (error) {
      for (const queue of queues) queue.finish(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  const reader = (queue: EventQueue): RunEventSubscription => ({
    close(error?: Error) {
      // With an error, what was buffered is still read first (as subscribeToRun does).
      if (!error) queue.clear();
      queue.finish(error);
    },
    [Symbol.asyncIterator]: () => queue.events(),
  });
  return [reader(queues[0]), reader(queues[1])];
}

type EventQueue = ReturnType<typeof eventQueue>;

/**
 * Run events buffered until read. `finish` ends the reading once the buffer is read (with an
 * error: thrown after it); `onFinish` runs once, on the first finish, also when the reader stops.
 */
function eventQueue(onFinish: () => void) {
  const buffered: RunEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: Error | undefined;
  const finish = (error?: Error) => {
    if (finished) return;
    finished = true;
    failure = error;
    onFinish();
    wake?.();
  };
  return {
    push(event: RunEvent) {
      if (finished) return;
      buffered.push(event);
      wake?.();
    },
    finish,
    clear() {
      buffered.length = 0;
    },
    async *events(): AsyncGenerator<RunEvent> {
      try {
        for (;;) {
          const next = buffered.shift();
          if (next) {
            yield next;
            continue;
          }
          if (finished) {
            if (failure) throw failure;
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        finish();
      }
    },
  };
}
