// The builder's Create tab: a conversation with a builder assistant that drafts the GPT. Each
// message goes to /v1/chat/completions on the GPT's model with one function, `update_gpt`, which
// the first turn must call (`tool_choice` names it); the page applies the call to the draft (a
// PATCH, like any edit), shows what changed and hands the result back; then the model replies,
// streamed, without tools to call. After each exchange the conversation is kept with the draft
// (PUT /api/gpts/{id}/builder-chat), so reopening the builder shows it and goes on with it.
import { useEffect, useRef, useState } from 'react';
import { drawAvatar } from './avatar-image';
import { forModel, recentMessages, shownTurns, withinLimits } from './builder-chat';
import {
  type AvatarSpec,
  type BuilderDraft,
  builderInstructions,
  type ChangedField,
  changesFromCall,
  UPDATE_GPT,
  updateGptTool,
} from './builder-tools';
import { type ChatMessage, complete, streamText } from './chat-completions';
import { type DraftFields, startersToSave } from './draft-fields';
import { GptAnswer } from './gpt-answer';
import {
  type BuilderChatMessage,
  getBuilderChat,
  type ModelCatalog,
  saveBuilderChat,
  uploadFile,
} from './gpts-api';
import { type GptsTranslate, useGptsI18n } from './gpts-i18n';
import { MessageBox } from './message-box';
import type { GptDraft } from './use-gpt-draft';

/** Tokens the builder's reply may take after its call (a few sentences and a question). */
const REPLY_MAX_TOKENS = 600;

type Turn =
  | { readonly id: number; readonly kind: 'user'; readonly text: string }
  | {
      readonly id: number;
      readonly kind: 'assistant';
      readonly text: string;
      readonly status: 'streaming' | 'done' | 'stopped' | 'failed';
      readonly error?: string;
    }
  | { readonly id: number; readonly kind: 'changes'; readonly changes: readonly ChangeLine[] };

/** A turn before it has its id (a union's Omit, member by member). */
type WithoutId<Member> = Member extends unknown ? Omit<Member, 'id'> : never;
type NewTurn = WithoutId<Turn>;

interface ChangeLine {
  readonly field: ChangedField;
  readonly value: string;
}

export function CreateTab({ draft, catalog }: { draft: GptDraft; catalog: ModelCatalog | null }) {
  const { t } = useGptsI18n();
  const [turns, setTurns] = useState<readonly Turn[]>(() => [
    {
      id: 0,
      kind: 'assistant',
      text: draft.fields.name ? t('create.welcomeBack', { name: draft.fields.name }) : t('create.welcome'),
      status: 'done',
    },
  ]);
  const [busy, setBusy] = useState(false);
  // The conversation kept with an existing GPT is loaded once; a GPT this page creates starts empty.
  const [keptGptId] = useState(() => draft.gpt?.id ?? null);
  const [loading, setLoading] = useState(keptGptId !== null);
  const [keepError, setKeepError] = useState<string | null>(null);
  /** False once loading failed: what could not be read is never overwritten. */
  const canKeep = useRef(true);
  const keeping = useRef<Promise<unknown>>(Promise.resolve());
  const history = useRef<BuilderChatMessage[]>([]);
  const abort = useRef<AbortController | null>(null);
  const nextId = useRef(1);
  const lastAvatar = useRef<AvatarSpec | null>(null);
  const list = useRef<HTMLDivElement>(null);
  // The latest draft, read after awaits (the closure's would be stale).
  const draftRef = useRef(draft);
  draftRef.current = draft;

  useEffect(() => () => abort.current?.abort(), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: loads once, for the GPT the page opened with.
  useEffect(() => {
    if (!keptGptId) return;
    let gone = false;
    getBuilderChat(keptGptId).then(
      (chat) => {
        if (gone) return;
        if (chat.messages.length > 0) {
          history.current = [...chat.messages];
          setTurns(
            shownTurns(chat.messages).map((turn): Turn => {
              const id = nextId.current++;
              return turn.kind === 'assistant' ? { ...turn, id, status: 'done' } : { ...turn, id };
            }),
          );
        }
        setLoading(false);
      },
      (error: unknown) => {
        if (gone) return;
        canKeep.current = false;
        setKeepError(
          t('create.loadFailed', { message: error instanceof Error ? error.message : String(error) }),
        );
        setLoading(false);
      },
    );
    return () => {
      gone = true;
    };
  }, [keptGptId]);

  /** Keeps the conversation with the draft, once the GPT exists (its first change creates it). */
  const keep = () => {
    if (!canKeep.current) return;
    const messages = withinLimits(history.current);
    history.current = messages;
    keeping.current = keeping.current
      .then(async () => {
        // After the draft's own saves, which create the GPT on the first change.
        const stored = await draftRef.current.flush().catch(() => draftRef.current.gpt);
        if (!stored) return;
        await saveBuilderChat(stored.id, messages);
        setKeepError(null);
      })
      .catch((error: unknown) => {
        setKeepError(
          t('create.keepFailed', { message: error instanceof Error ? error.message : String(error) }),
        );
      });
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs as the turns grow.
  useEffect(() => {
    const element = list.current;
    if (element && element.scrollHeight - element.scrollTop - element.clientHeight < 160) {
      element.scrollTop = element.scrollHeight;
    }
  }, [turns]);

  const add = (turn: NewTurn) => {
    const id = nextId.current++;
    setTurns((current) => [...current, { ...turn, id } as Turn]);
    return id;
  };
  /** Puts a turn just before `beforeId` (a call's changes go above the reply that follows it). */
  const insertBefore = (beforeId: number, turn: NewTurn) => {
    const id = nextId.current++;
    setTurns((current) => {
      const at = current.findIndex((existing) => existing.id === beforeId);
      const next = [...current];
      next.splice(at < 0 ? next.length : at, 0, { ...turn, id } as Turn);
      return next;
    });
  };
  const updateAssistant = (id: number, change: Partial<Extract<Turn, { kind: 'assistant' }>>) =>
    setTurns((current) =>
      current.map((turn) => (turn.id === id && turn.kind === 'assistant' ? { ...turn, ...change } : turn)),
    );

  async function send(text: string) {
    if (busy) return;
    const imageGeneration = !!catalog?.imageModel;
    const model = draftRef.current.fields.model ?? catalog?.chat[0]?.id;
    add({ kind: 'user', text });
    const answerId = add({ kind: 'assistant', text: '', status: 'streaming' });
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    const question: BuilderChatMessage = { role: 'user', content: text };
    if (history.current.length === 0) {
      history.current.push({
        role: 'assistant',
        content: turns[0]?.kind === 'assistant' ? turns[0].text : '',
      });
    }
    // The draft is in the system prompt: the model needs only the conversation's recent part.
    const earlier = forModel(recentMessages(history.current));
    const tool = updateGptTool({ imageGeneration });
    const system = (): ChatMessage => ({
      role: 'system',
      content: builderInstructions(builderDraft(draftRef.current.fields), { imageGeneration }),
    });
    try {
      if (!model) throw new Error(t('create.noModel'));
      // First turn: the builder must call update_gpt.
      const first = await complete(
        {
          model,
          messages: [system(), ...earlier, question],
          tools: [tool],
          tool_choice: { type: 'function', function: { name: UPDATE_GPT } },
        },
        { signal: controller.signal },
      );
      // Only the fields a chat message has: what is kept must be what the server accepts.
      const calls = (first.tool_calls ?? []).map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.function.name, arguments: call.function.arguments },
      }));
      const results: BuilderChatMessage[] = [];
      for (const call of calls) {
        const output = await applyCall(call.function.name, call.function.arguments, imageGeneration);
        if (output.lines.length > 0) insertBefore(answerId, { kind: 'changes', changes: output.lines });
        results.push({
          role: 'tool',
          tool_call_id: call.id,
          content: JSON.stringify(output.result),
          ...(output.lines.length > 0 ? { changes: output.lines } : {}),
        });
      }
      const called: BuilderChatMessage = {
        role: 'assistant',
        content: first.content || null,
        tool_calls: calls,
      };
      // Then the reply, with the draft as it is now.
      let reply = '';
      for await (const piece of streamText(
        {
          model,
          messages: [
            system(),
            ...earlier,
            question,
            ...forModel(calls.length > 0 ? [called, ...results] : []),
          ],
          tools: [tool],
          tool_choice: 'none',
          max_tokens: REPLY_MAX_TOKENS,
        },
        { signal: controller.signal },
      )) {
        reply += piece;
        updateAssistant(answerId, { text: reply });
      }
      updateAssistant(answerId, { status: 'done' });
      history.current.push(question, ...(calls.length > 0 ? [called, ...results] : []), {
        role: 'assistant',
        content: reply,
      });
      keep();
    } catch (error) {
      if (controller.signal.aborted) updateAssistant(answerId, { status: 'stopped' });
      else
        updateAssistant(answerId, {
          status: 'failed',
          error: error instanceof Error ? error.message : String(error),
        });
    } finally {
      if (abort.current === controller) abort.current = null;
      setBusy(false);
    }
  }

  /** Saves one call's changes; returns what the page shows and what the model is told. */
  async function applyCall(
    name: string,
    argumentsText: string,
    imageGeneration: boolean,
  ): Promise<{ lines: ChangeLine[]; result: Record<string, unknown> }> {
    if (name !== UPDATE_GPT) {
      return { lines: [], result: { ok: false, error: `There is no function named ${name}.` } };
    }
    const current = draftRef.current.fields;
    const outcome = changesFromCall(argumentsText, builderDraft(current), {
      imageGeneration,
      avatar: lastAvatar.current,
    });
    if (outcome.error) return { lines: [], result: { ok: false, error: outcome.error } };
    const { capabilities, ...rest } = outcome.changes;
    const changes: { -readonly [Key in keyof DraftFields]?: DraftFields[Key] } = {
      ...rest,
      ...(capabilities ? { capabilities: { ...current.capabilities, ...capabilities } } : {}),
    };
    if (outcome.avatar) {
      try {
        const uploaded = await uploadFile(await drawAvatar(outcome.avatar), 'vision');
        changes.avatar_file_id = uploaded.id;
        lastAvatar.current = outcome.avatar;
      } catch {
        // The rest of the changes still count; the avatar is left as it was.
      }
    }
    if (Object.keys(changes).length === 0) {
      return { lines: [], result: { ok: true, changed: [], note: 'Nothing differed from the draft.' } };
    }
    draftRef.current.change(changes, { immediate: true });
    await draftRef.current.flush();
    const saved: DraftFields = { ...current, ...changes };
    const lines = outcome.changed
      .filter((field) => field !== 'avatar' || changes.avatar_file_id !== undefined)
      .map((field) => ({ field, value: describe(field, saved, t) }));
    return { lines, result: { ok: true, changed: lines.map((line) => line.field) } };
  }

  return (
    <div className="gpt-create">
      <div className="gpt-create-scroll" ref={list}>
        {loading ? <span className="spinner" role="img" aria-label={t('create.loading')} /> : null}
        <div className="gpt-messages" role="log" aria-label={t('create.log')} hidden={loading}>
          {turns.map((turn) => {
            if (turn.kind === 'user') {
              return (
                <div key={turn.id} className="gpt-message gpt-message-user">
                  <p>{turn.text}</p>
                </div>
              );
            }
            if (turn.kind === 'changes') {
              return (
                <div key={turn.id} className="gpt-builder-changes">
                  <p className="gpt-builder-changes-title">{t('create.updated')}</p>
                  <ul>
                    {turn.changes.map((line) => (
                      <li key={line.field}>
                        <span className="gpt-builder-change-field">
                          {t('create.changeField', { field: t(`field.${line.field}`) })}
                        </span>{' '}
                        <span className="gpt-builder-change-value">{line.value}</span>
                      </li>
                    ))}
                  </ul>
                </div>
              );
            }
            return (
              <GptAnswer
                key={turn.id}
                turn={turn}
                writingLabel={t('create.working')}
                className="gpt-builder-message"
              />
            );
          })}
        </div>
        {keepError ? (
          <p className="gpt-message-error gpt-create-keep-error" role="alert">
            {keepError}
          </p>
        ) : null}
      </div>
      <div className="gpt-conversation-footer">
        <MessageBox
          label={t('create.inputLabel')}
          placeholder={t('create.placeholder')}
          sendLabel={t('chat.send')}
          stopLabel={t('chat.stop')}
          busy={busy}
          disabled={!catalog || loading}
          onSend={(text) => void send(text)}
          onStop={() => abort.current?.abort()}
        />
      </div>
    </div>
  );
}

function builderDraft(fields: DraftFields): BuilderDraft {
  return {
    name: fields.name,
    description: fields.description,
    instructions: fields.instructions,
    conversation_starters: startersToSave(fields.conversation_starters),
    capabilities: fields.capabilities,
  };
}

/** A changed field's new value, as the change list shows it. */
function describe(field: ChangedField, fields: DraftFields, t: GptsTranslate): string {
  switch (field) {
    case 'name':
      return fields.name;
    case 'description':
      return fields.description;
    case 'instructions':
      return fields.instructions.length > 160 ? `${fields.instructions.slice(0, 160)}…` : fields.instructions;
    case 'conversation_starters':
      return startersToSave(fields.conversation_starters).join(' · ');
    case 'capabilities':
      return (
        (['browsing', 'image_generation', 'code_interpreter'] as const)
          .filter((name) => fields.capabilities[name])
          .map((name) => t(`capability.${name}`))
          .join(', ') || t('create.noCapabilities')
      );
    case 'avatar':
      return t('create.newAvatar');
  }
}
