// The builder's preview of a GPT's draft, streamed from /v1/chat/completions as
// `gpt-<id>:draft`: its starters as buttons while it is empty, the answers as Markdown as they
// arrive, Stop, and a fresh start. Kept in the page, never saved (as ChatGPT's preview); people
// chatting with a published GPT have real chats (features/chat). An answer that held back action
// calls (`atelier_pending_actions`) asks the person first (ConsentQueue); once allowed, the same
// conversation is sent again and the call goes through.
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { GptStarters } from '../chat/gpt-starters';
import type { PendingAction } from './actions-api';
import { type ChatMessage, streamText } from './chat-completions';
import ConsentQueue, { type ConsentOutcome } from './consent-queue';
import { GptAnswer } from './gpt-answer';
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
        if (held.length > 0 && gptId) setPending({ answerId, messages, queue: held });
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

  /** Every held call is answered: the declines are noted, and an allowed call sends again. */
  const finish = useCallback(
    (question: PendingQuestion, outcome: ConsentOutcome) => {
      setPending(null);
      const notes = outcome.declined.map((domain) => t('consent.declined', { domain }));
      if (outcome.allowed) {
        // The held-back answer is replaced by the one the allowed call makes possible.
        updateTurn(question.answerId, () => ({ text: '', status: 'streaming', notes: [] }));
        void ask(question.messages, question.answerId);
      } else if (notes.length > 0) {
        updateTurn(question.answerId, (turn) => ({ notes: [...(turn.notes ?? []), ...notes] }));
      }
    },
    [ask, updateTurn, t],
  );

  return (
    <div className={`gpt-conversation${className ? ` ${className}` : ''}`}>
      <div className="gpt-conversation-scroll" ref={list}>
        {turns.length === 0 ? (
          <div className="gpt-conversation-intro">
            {intro}
            {model ? (
              <GptStarters
                starters={starters}
                label={t('chat.starters')}
                onStart={(starter) => void send(starter)}
              />
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
                <GptAnswer key={turn.id} turn={turn} writingLabel={t('chat.writing')}>
                  {turn.notes?.map((note) => (
                    <p key={note} className="gpt-message-note gpt-consent-note">
                      {note}
                    </p>
                  ))}
                </GptAnswer>
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
      {pending && gptId ? (
        <ConsentQueue
          key={pending.answerId}
          gptId={gptId}
          gptName={name}
          actions={pending.queue}
          onDone={(outcome) => finish(pending, outcome)}
        />
      ) : null}
    </div>
  );
}
