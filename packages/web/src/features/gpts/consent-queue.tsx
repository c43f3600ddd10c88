// The person's answers to a GPT's held action calls, one call after the other (ConsentDialog):
// Allow / Always allow / Decline go to POST /api/gpts/{id}/consents; an OAuth action not signed
// in yet opens its sign-in in a popup and waits for the page that closes it. Once every call is
// answered, `onDone` says whether any was allowed (or signed in) and which domains were declined.
// Both GPT chats use it: a web chat continues its pending answer, the builder's preview sends the
// conversation again.
import { useCallback, useEffect, useState } from 'react';
import { answerConsent, type ConsentDecision, oauthStartUrl, type PendingAction } from './actions-api';
import { ConsentDialog } from './consent-dialog';
import './gpts.css';

export interface ConsentOutcome {
  /** Some call was allowed, or its sign-in done. */
  readonly allowed: boolean;
  /** The domains of the calls declined, in order. */
  readonly declined: readonly string[];
}

export interface ConsentQueueProps {
  readonly gptId: string;
  readonly gptName: string;
  readonly actions: readonly PendingAction[];
  readonly onDone: (outcome: ConsentOutcome) => void;
}

export default function ConsentQueue({ gptId, gptName, actions, onDone }: ConsentQueueProps) {
  const [index, setIndex] = useState(0);
  const [outcome, setOutcome] = useState<ConsentOutcome>({ allowed: false, declined: [] });
  const [deciding, setDeciding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = actions[index] ?? null;

  /** The current call is answered: on to the next, or, after the last, done. */
  const advance = useCallback(
    (allowed: boolean, declined: string | null) => {
      const next = {
        allowed: outcome.allowed || allowed,
        declined: declined ? [...outcome.declined, declined] : outcome.declined,
      };
      setOutcome(next);
      setError(null);
      if (index + 1 < actions.length) setIndex(index + 1);
      else {
        setIndex(actions.length);
        onDone(next);
      }
    },
    [outcome, index, actions.length, onDone],
  );

  const decide = useCallback(
    async (decision: ConsentDecision) => {
      if (!current) return;
      setDeciding(true);
      try {
        // A declined sign-in is recorded too: the GPT hears it once instead of asking again.
        if (current.type === 'consent_required' || decision === 'decline') {
          await answerConsent(gptId, current, decision);
        }
        advance(decision !== 'decline', decision === 'decline' ? current.domain : null);
      } catch (caught) {
        setError(caught instanceof Error ? caught.message : String(caught));
      } finally {
        setDeciding(false);
      }
    },
    [current, gptId, advance],
  );

  // An OAuth sign-in happens in a popup; its last page tells this window it is done.
  useEffect(() => {
    if (current?.type !== 'oauth_required') return;
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: unknown; action_id?: unknown } | null;
      if (event.origin !== window.location.origin || data?.type !== 'atelier.action_oauth') return;
      if (data.action_id !== current.action_id) return;
      advance(true, null);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [current, advance]);

  const signIn = useCallback(() => {
    if (!current) return;
    window.open(
      oauthStartUrl(current.action_id, gptId),
      'atelier-action-oauth',
      'popup,width=520,height=680',
    );
  }, [current, gptId]);

  return (
    <ConsentDialog
      gptName={gptName}
      pending={current}
      busy={deciding}
      error={error}
      onDecide={(decision) => void decide(decision)}
      onSignIn={signIn}
    />
  );
}
