// Domain → wire for calls of a GPT's actions held back for the person's answer, as GPT chat
// completions (`atelier_pending_actions`, header `x-atelier-pending-actions`) and runs show them.
import type { AtelierPendingAction } from '@atelier/protocol';
import type { HeldCall, PendingAction } from '../storage/assistants-domain.js';

export function toWirePendingAction(action: PendingAction): AtelierPendingAction {
  return {
    type: action.type === 'consent' ? 'consent_required' : 'oauth_required',
    action_id: action.actionId,
    operation: action.operation,
    domain: action.domain,
    can_always_allow: action.canAlwaysAllow,
    preview: action.preview,
    message: action.message,
  };
}

/** A run's held call: the same, with the id of the call in the run's steps. */
export function toWireHeldCall(held: HeldCall): AtelierPendingAction {
  return { ...toWirePendingAction(held.pending), tool_call_id: held.toolCallId };
}
