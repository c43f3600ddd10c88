// The run state machine: queued → in_progress → (requires_action → queued → in_progress …) →
// completed | incomplete | failed | cancelled | expired, with cancelling between an in-progress run
// and cancelled. Every status write in the engine is a conditional update from these sets.

import type { RunStatus } from '../storage/assistants-domain.js';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = [
  'completed',
  'incomplete',
  'failed',
  'cancelled',
  'expired',
];

/** The statuses a run may move to from each status. */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['in_progress', 'cancelled', 'failed', 'expired'],
  in_progress: ['requires_action', 'cancelling', 'completed', 'incomplete', 'failed', 'expired'],
  requires_action: ['queued', 'cancelled', 'expired', 'failed'],
  // A cancel is best effort: the run may still finish or fail before the worker notices.
  cancelling: ['cancelled', 'completed', 'incomplete', 'failed', 'expired'],
  completed: [],
  incomplete: [],
  failed: [],
  cancelled: [],
  expired: [],
};

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/** The statuses from which `to` may be reached: the `from` of a conditional update. */
export function statusesLeadingTo(to: RunStatus): RunStatus[] {
  return (Object.keys(RUN_TRANSITIONS) as RunStatus[]).filter((from) => RUN_TRANSITIONS[from].includes(to));
}

/** How long a run waits for tool outputs before it expires, as on OpenAI. */
export const REQUIRES_ACTION_TIMEOUT_SECONDS = 600;
