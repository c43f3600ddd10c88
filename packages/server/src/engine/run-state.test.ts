import { describe, expect, it } from 'vitest';
import { isTerminal, RUN_TRANSITIONS, statusesLeadingTo } from './run-state.js';

describe('the run state machine', () => {
  it('ends in terminal statuses, which lead nowhere', () => {
    for (const status of ['completed', 'incomplete', 'failed', 'cancelled', 'expired'] as const) {
      expect(isTerminal(status)).toBe(true);
      expect(RUN_TRANSITIONS[status]).toEqual([]);
    }
    expect(isTerminal('requires_action')).toBe(false);
  });

  it('waits for tool outputs only while in progress, and goes back to the queue with them', () => {
    expect(statusesLeadingTo('requires_action')).toEqual(['in_progress']);
    expect(RUN_TRANSITIONS.requires_action).toContain('queued');
    expect(statusesLeadingTo('cancelled').sort()).toEqual(['cancelling', 'queued', 'requires_action']);
    expect(statusesLeadingTo('cancelling')).toEqual(['in_progress']);
  });
});
