// A conversation with a GPT, streamed from /v1/chat/completions with the GPT's model name
// (`gpt-<id>` for its users, `gpt-<id>:draft` in the builder's preview): its starters as buttons
// while it is empty, the answers as Markdown as they arrive, Stop, and a fresh start. Kept in the
// page: the server applies the GPT's instructions and knowledge, the page never sees them.
// An answer that held back action calls (`atelier_pending_actions`) asks the person first
// (ConsentDialog); once allowed, the same conversation is sent again and the call goes through.
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { Markdown } from '../chat/markdown/markdown';
import { answerConsent, type ConsentDecision, oauthStartUrl, type PendingAction } from './actions-api';
import { type ChatMessage, streamText } from './chat-completions';
import { ConsentDialog } from './consent-dialog';
import { useGptsI18n } from './gpts-i18n';
import { MessageBox, type MessageBoxHandle } from './message-box';

interface Turn {
  readonly id: number;
  readonly role: 'user' | 'assistant';
  readonly text: string;
  readonly status: 'streaming' | 'done' | 'stopped' | 'failed';
  readonly error?: string;
  /** What the person decided about held-back action calls, said under the answer. */
  readonly notes?: readonly string[];
}

/** Action calls waiting for the person, for one answer and the messages that asked for it. */
interface PendingQuestion {
  readonly answerId: number;
  readonly messages: readonly ChatMessage[];
  readonly queue: readonly PendingAction[];
  /** Some call was allowed (or signed in): the conversation is sent again at the end. */
  readonly resend: boolean;
}

export interface ConversationProps {
  /** The model to ask; null: chatting is not possible (say why in `unavailable`). */
  readonly model: string | null;
  /** The GPT whose actions' consents are answered (null: none to answer yet). */
  readonly gptId: string | null;
  readonly name: string;
  readonly starters: readonly string[];
  /** Shown while the conversation is empty (the GPT's face). */
  readonly intro: ReactNode;
  readonly unavailable?: string | null;
  /** A new value starts a new conversation. */
  readonly resetKey?: unknown;
  /** Runs before each question is sent (the preview saves the draft's pending edits first). */
  readonly beforeSend?: () => Promise<unknown>;
  readonly className?: string;
}

export function Conversation({
  model,
  gptId,
  name,
  starters,
  intro,
  unavailable = null,
  resetKey,
  beforeSend,
  className,
}: ConversationProps) {
  const { t } = useGptsI18n();
  const [turns, setTurns] = useState<readonly Turn[]>([]);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const nextId = useRef(1);
  const box = useRef<MessageBoxHandle>(null);
  const list = useRef<HTMLDivElement>(null);
  const [pending, setPending] = useState<PendingQuestion | null>(null);
  const [deciding, setDeciding] = useState(false);
  const [decisionError, setDecisionError] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: resetKey is the signal to start over.
  useEffect(() => {
    abort.current?.abort();
    setTurns([]);
    setBusy(false);
    setPending(null);
  }, [resetKey]);

  useEffect(() => () => abort.current?.abort(), []);

  // The newest words stay in view while they arrive, unless the person scrolled up to read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs as the turns grow.
  useEffect(() => {
    const element = list.current;
    if (!element) return;
    if (element.scrollHeight - element.scrollTop - element.clientHeight < 120) {
      element.scrollTop = element.scrollHeight;
    }
  }, [turns]);

  const updateTurn = useCallback(
    (answerId: number, change: (turn: Turn) => Partial<Turn>) =>
      setTurns((current) =>
        current.map((turn) => (turn.id === answerId ? { ...turn, ...change(turn) } : turn)),
      ),
    [],
  );

  /** Streams the answer to `messages` into the turn `answerId`. */
  const ask = useCallback(
    async (messages: readonly ChatMessage[], answerId: number) => {
      if (!model) return;
      setBusy(true);
      const controller = new AbortController();
      abort.current = controller;
      const update = (change: Partial<Turn>) => updateTurn(answerId, () => change);
      let answer = '';
      let held: readonly PendingAction[] = [];
      try {
        await beforeSend?.();
        for await (const piece of streamText(
          { model, messages },
          {
            signal: controller.signal,
            onPending: (found) => {
              held = found;
            },
          },
        )) {
          answer += piece;
          update({ text: answer });
        }
        update({ status: 'done' });
        if (held.length > 0 && gptId) setPending({ answerId, messages, queue: held, resend: false });
      } catch (error) {
        if (controller.signal.aborted) update({ status: 'stopped' });
        else update({ status: 'failed', error: error instanceof Error ? error.message : String(error) });
      } finally {
        if (abort.current === controller) abort.current = null;
        setBusy(false);
      }
    },
    [model, gptId, beforeSend, updateTurn],
  );

  const send = useCallback(
    async (text: string) => {
      if (!model || busy || pending) return;
      const history: ChatMessage[] = turns
        .filter((turn) => turn.status !== 'failed' && turn.text !== '')
        .map((turn) => ({ role: turn.role, content: turn.text }));
      const question: Turn = { id: nextId.current++, role: 'user', text, status: 'done' };
      const answerId = nextId.current++;
      setTurns((current) => [
        ...current,
        question,
        { id: answerId, role: 'assistant', text: '', status: 'streaming' },
      ]);
      await ask([...history, { role: 'user', content: text }], answerId);
    },
    [model, busy, pending, turns, ask],
  );

  /** The current call is answered: on to the next, or (after the last) send again if allowed. */
  const advance = useCallback(
    (question: PendingQuestion, allowed: boolean, note: string | null) => {
      if (note) updateTurn(question.answerId, (turn) => ({ notes: [...(turn.notes ?? []), note] }));
      const next = { ...question, queue: question.queue.slice(1), resend: question.resend || allowed };
      setDecisionError(null);
      if (next.queue.length > 0) {
        setPending(next);
        return;
      }
      setPending(null);
      if (next.resend) {
        // The held-back answer is replaced by the one the allowed call makes possible.
        updateTurn(question.answerId, () => ({ text: '', status: 'streaming', notes: [] }));
        void ask(question.messages, question.answerId);
      }
    },
    [ask, updateTurn],
  );

  const decide = useCallback(
    async (decision: ConsentDecision) => {
      const current = pending?.queue[0];
      if (!pending || !current || !gptId) return;
      const note = decision === 'decline' ? t('consent.declined', { domain: current.domain }) : null;
      if (current.type === 'oauth_required') {
        // Nothing to record: not signing in sends nothing.
        advance(pending, false, note);
        return;
      }
      setDeciding(true);
      try {
        await answerConsent(gptId, current, decision);
        advance(pending, decision !== 'decline', note);
      } catch (error) {
        setDecisionError(error instanceof Error ? error.message : String(error));
      } finally {
        setDeciding(false);
      }
    },
    [pending, gptId, advance, t],
  );

  // An OAuth sign-in happens in a popup; its last page tells this window it is done.
  useEffect(() => {
    const current = pending?.queue[0];
    if (!pending || current?.type !== 'oauth_required') return;
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: unknown; action_id?: unknown } | null;
      if (event.origin !== window.location.origin || data?.type !== 'atelier.action_oauth') return;
      if (data.action_id !== current.action_id) return;
      advance(pending, true, null);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [pending, advance]);

  const signIn = useCallback(() => {
    const current = pending?.queue[0];
    if (!current) return;
    window.open(oauthStartUrl(current.action_id), 'atelier-action-oauth', 'popup,width=520,height=680');
  }, [pending]);

  return (
    <div className={`gpt-conversation${className ? ` ${className}` : ''}`}>
      <div className="gpt-conversation-scroll" ref={list}>
        {turns.length === 0 ? (
          <div className="gpt-conversation-intro">
            {intro}
            {starters.length > 0 && model ? (
              <ul className="gpt-starters" aria-label={t('chat.starters')}>
                {starters.map((starter) => (
                  <li key={starter}>
                    <button type="button" className="gpt-starter" onClick={() => void send(starter)}>
                      {starter}
                    </button>
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : (
          <div className="gpt-messages" role="log" aria-label={t('chat.log', { name })}>
            {turns.map((turn) =>
              turn.role === 'user' ? (
                <div key={turn.id} className="gpt-message gpt-message-user">
                  <p>{turn.text}</p>
                </div>
              ) : (
                <div
                  key={turn.id}
                  className="gpt-message gpt-message-assistant"
                  aria-busy={turn.status === 'streaming' || undefined}
                  data-status={turn.status}
                >
                  {turn.text ? <Markdown text={turn.text} /> : null}
                  {turn.status === 'streaming' && !turn.text ? (
                    <span className="gpt-typing" role="img" aria-label={t('chat.writing')} />
                  ) : null}
                  {turn.notes?.map((note) => (
                    <p key={note} className="gpt-message-note gpt-consent-note">
                      {note}
                    </p>
                  ))}
                  {turn.status === 'stopped' ? <p className="gpt-message-note">{t('chat.stopped')}</p> : null}
                  {turn.status === 'failed' ? (
                    <p className="gpt-message-error" role="alert">
                      {t('chat.failed', { message: turn.error ?? '' })}
                    </p>
                  ) : null}
                </div>
              ),
            )}
          </div>
        )}
      </div>
      {unavailable ? <p className="gpt-conversation-unavailable">{unavailable}</p> : null}
      <div className="gpt-conversation-footer">
        <MessageBox
          ref={box}
          label={t('chat.inputLabel', { name })}
          placeholder={t('chat.placeholder', { name })}
          sendLabel={t('chat.send')}
          stopLabel={t('chat.stop')}
          busy={busy}
          disabled={!model || pending !== null}
          onSend={(text) => void send(text)}
          onStop={() => abort.current?.abort()}
        />
      </div>
      <ConsentDialog
        gptName={name}
        pending={pending?.queue[0] ?? null}
        busy={deciding}
        error={decisionError}
        onDecide={(decision) => void decide(decision)}
        onSignIn={signIn}
      />
    </div>
  );
}
