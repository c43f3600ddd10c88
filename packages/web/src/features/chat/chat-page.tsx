// The chat: header (sidebar toggle, model menu, temporary chat), the conversation, the message
// box (files dropped anywhere on the chat go into it), and the model's notice when it has one
// (the random-weight test model says so). A chat with a GPT (started on its page, `/g/<id>`, or
// reopened from the history) shows the GPT's face instead of the model menu, its starters while
// empty, and asks the person (ConsentQueue, loaded when needed) before an answer goes on with
// one of its action calls.
import { useQuery } from '@tanstack/react-query';
import {
  type DragEvent,
  lazy,
  type MutableRefObject,
  Suspense,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiError } from '../../api/http';
import type { Preferences, SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button, IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { Icon } from '../../ui/icons';
import { useToast } from '../../ui/toast';
import { plainText } from './annotations';
import { attachOptions } from './attach-options';
import { type ChatGpt, type GptIntro, listModels } from './chat-api';
import { siblingsOf } from './chat-tree';
import { Composer, type ComposerHandle } from './composer';
import { GptFaceImage } from './gpt-face-image';
import { GptStarters } from './gpt-starters';
import { Message } from './message';
import { ModelMenu } from './model-menu';
import { type Draft, useChatController } from './use-chat-controller';

/** What keyboard shortcuts can ask of the open chat. */
export interface ChatActions {
  focusInput(): void;
  stop(): boolean;
  copyLastAnswer(): boolean;
}

const MODEL_KEY = 'atelier.model';

// The GPT pages' consent dialog, with their strings and styles: only once an answer waits on it.
const ConsentQueue = lazy(() => import('../gpts/consent-queue'));

/** The GPT a new chat starts with: `/g/<id>`, or its share link. */
export interface GptRouteRef {
  readonly gptId: string | null;
  readonly linkToken: string | null;
}

export function ChatPage({
  chatId,
  gpt = null,
  newChatToken,
  preferences,
  capabilities = undefined,
  sidebarOpen,
  onOpenSidebar,
  onNewChat,
  actions,
}: {
  chatId: string | null;
  /** A new chat with this GPT (its page). */
  gpt?: GptRouteRef | null;
  newChatToken: number;
  preferences: Preferences;
  capabilities?: SignedInSession['capabilities'];
  sidebarOpen: boolean;
  onOpenSidebar: () => void;
  onNewChat: () => void;
  actions: MutableRefObject<ChatActions | null>;
}) {
  const { t } = useI18n();
  const toast = useToast();
  const models = useQuery({ queryKey: ['models'], queryFn: listModels, staleTime: 60_000 });
  const onError = useCallback(
    (message: string) => toast(t('chat.saveFailed', { message }), 'error'),
    [toast, t],
  );
  const historyOff = !preferences.chat_history_enabled;
  // The GPT's page: its face, description and starters (the GPT pages' API loads with it).
  const intro = useQuery({
    queryKey: ['gpts', 'intro', gpt?.gptId ?? null, gpt?.linkToken ?? null],
    queryFn: () => import('../gpts/gpts-api').then((module) => module.getGptIntro(gpt!)),
    enabled: gpt !== null,
    retry: (count, error) => count < 2 && !(error instanceof ApiError),
  });
  const chat = useChatController({
    chatId,
    gptId: gpt ? (intro.data?.id ?? null) : null,
    newChatToken,
    historyOff,
    onError,
  });
  const { state, path } = chat;
  // The GPT this chat talks to: the chat's own once it exists, else the page's.
  const chatGpt: ChatGpt | null = state.chatId !== null ? state.gpt : (intro.data ?? null);
  const withGpt = state.chatId !== null ? state.gpt !== null : gpt !== null;
  const gptName = chatGpt?.name === null ? t('gptChat.gone') : chatGpt?.name || t('gptChat.untitled');
  // A GPT no longer shared with the person: the chat reads, but is not answered.
  const answerable = !chatGpt || chatGpt.available;
  // With history off every new chat is temporary (the server makes it so too).
  const temporary = state.temporary || (historyOff && state.chatId === null);
  // An answer is being written, here or on another device: the message box offers Stop.
  const streaming = chat.busy;

  // The model: the chat's own when it is still served, else the last one chosen, else the first.
  const [chosen, setChosen] = useState<string | null>(() => readStoredModel());
  const available = models.data ?? [];
  const plainModel =
    [state.model, chosen].find((id) => id && available.some((entry) => entry.id === id)) ??
    available[0]?.id ??
    null;
  // A GPT answers as `gpt-<id>`: its own model, instructions and tools.
  const model = withGpt ? (chatGpt && answerable ? `gpt-${chatGpt.id}` : null) : plainModel;
  const modelInfo = withGpt ? undefined : available.find((entry) => entry.id === model);
  // A GPT's chat takes images when its model can see, data files when it has the code interpreter.
  const gptAttachments = useQuery({
    queryKey: ['gpts', 'attachments', chatGpt?.id ?? null],
    queryFn: () => import('../gpts/gpts-api').then((module) => module.getGptAttachments(chatGpt!.id)),
    enabled: withGpt && !!chatGpt && answerable,
    staleTime: 60_000,
    retry: false,
  });
  const notice = modelInfo?.atelier?.notice;
  const attach = useMemo(
    () =>
      attachOptions({
        server: capabilities,
        gpt: withGpt ? (gptAttachments.data ?? 'unknown') : null,
        model: modelInfo?.atelier?.capabilities,
      }),
    [withGpt, modelInfo, capabilities, gptAttachments.data],
  );
  const canAttach = attach.images || attach.fileSearch || attach.codeInterpreter;
  // Files dragged over the chat: it shows where they will go.
  const [dragging, setDragging] = useState(false);
  const draggingFiles = (event: DragEvent) => canAttach && !!event.dataTransfer?.types.includes('Files');
  const choose = (id: string) => {
    setChosen(id);
    // The open chat goes on with the model picked, as new chats will.
    chat.setModel(id);
    try {
      localStorage.setItem(MODEL_KEY, id);
    } catch {
      // private mode
    }
  };

  const composer = useRef<ComposerHandle>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const stick = useRef(true);

  // Follow the answer as it grows, unless the person scrolled up to read.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  });
  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const near = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
    stick.current = near;
    setAtBottom(near);
  };
  const scrollDown = () => {
    stick.current = true;
    setAtBottom(true);
    scroller.current?.scrollTo({ top: scroller.current.scrollHeight, behavior: 'smooth' });
  };

  const send = (draft: Draft) => {
    if (!model) return;
    stick.current = true;
    chat.send(draft, model);
  };
  // Stable callbacks keep the messages that did not change from rendering again as words arrive.
  const { regenerate: regenerateWith, edit: editWith } = chat;
  const regenerate = useCallback(
    (nodeId: string) => model && regenerateWith(nodeId, model),
    [regenerateWith, model],
  );
  const edit = useCallback(
    (nodeId: string, text: string) => model && editWith(nodeId, text, model),
    [editWith, model],
  );

  const lastAnswer = [...path].reverse().find((node) => node.role === 'assistant');
  actions.current = {
    focusInput: () => composer.current?.focus(),
    stop: () => {
      if (!streaming) return false;
      chat.stop();
      return true;
    },
    copyLastAnswer: () => {
      const text = lastAnswer ? plainText(lastAnswer) : '';
      if (!text) return false;
      void copyText(text).then(() => toast(t('chat.copied')));
      return true;
    },
  };

  // Screen readers hear that an answer started and ended, not every word of it.
  const [announcement, setAnnouncement] = useState('');
  const wasStreaming = useRef(false);
  useEffect(() => {
    if (streaming && !wasStreaming.current) setAnnouncement(t('chat.generating'));
    if (!streaming && wasStreaming.current) setAnnouncement(t('chat.answerReady'));
    wasStreaming.current = streaming;
  }, [streaming, t]);

  const empty = path.length === 0 && state.status === 'ready';
  // The answer on screen waits for the person's answer about a GPT's action calls.
  const leaf = path.at(-1);
  const waiting =
    leaf?.status === 'pending' && leaf.pendingActions?.length && state.streamingId === null ? leaf : null;

  return (
    <main
      className={`chat${empty ? ' chat-empty' : ''}${dragging ? ' chat-dragging' : ''}`}
      aria-label={t('chat.label')}
      onDragOver={(event) => {
        if (!draggingFiles(event)) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(event) => {
        setDragging(false);
        if (!draggingFiles(event)) return;
        event.preventDefault();
        composer.current?.addFiles([...event.dataTransfer.files]);
      }}
    >
      {dragging ? (
        <div className="drop-overlay" aria-hidden="true">
          <Icon name="paperclip" size={28} />
          <p>{t('composer.dropHere')}</p>
        </div>
      ) : null}
      <header className="chat-header">
        {!sidebarOpen ? (
          <div className="chat-header-start">
            <IconButton icon="sidebar" label={t('sidebar.open')} onClick={onOpenSidebar} />
            <IconButton
              icon="new-chat"
              label={t('sidebar.newChat')}
              onClick={onNewChat}
              className="hide-narrow"
            />
          </div>
        ) : null}
        {withGpt ? (
          <div className="chat-gpt-title">
            {chatGpt ? <GptFaceImage url={chatGpt.avatarUrl} size={28} /> : null}
            <h1>{chatGpt ? gptName : ''}</h1>
            {state.chatId === null && intro.data?.canEdit ? (
              <Button
                size="small"
                icon="pencil"
                onClick={() => navigate(`/gpts/${encodeURIComponent(intro.data.id)}/edit`)}
              >
                {t('gptChat.edit')}
              </Button>
            ) : null}
          </div>
        ) : (
          <ModelMenu models={available} model={model} onChange={choose} />
        )}
        <div className="chat-header-end">
          {temporary && !empty ? (
            <span className="temporary-badge">
              <Icon name="ghost" size={16} />
              {t('chat.temporary')}
            </span>
          ) : null}
          {empty && state.chatId === null && !historyOff ? (
            <IconButton
              icon="ghost"
              label={state.temporary ? t('chat.temporaryOff') : t('chat.temporaryOn')}
              aria-pressed={state.temporary}
              className={state.temporary ? 'toggle-on' : undefined}
              onClick={() => chat.setTemporary(!state.temporary)}
            />
          ) : null}
          {!sidebarOpen ? (
            <IconButton
              icon="new-chat"
              label={t('sidebar.newChat')}
              onClick={onNewChat}
              className="show-narrow"
            />
          ) : null}
        </div>
      </header>

      <div className="chat-scroll" ref={scroller} onScroll={onScroll}>
        {state.status === 'not-found' ? (
          <div className="chat-message-center">
            <p>{t('chat.notFound')}</p>
          </div>
        ) : state.status === 'loading' ? (
          <div className="chat-message-center" aria-busy="true">
            <span className="spinner" />
          </div>
        ) : empty && gpt !== null ? (
          <GptWelcome
            intro={intro.data ?? null}
            error={intro.error}
            onRetry={() => void intro.refetch()}
            onStarter={(text) => send({ text, images: [], attachments: [], files: {} })}
          />
        ) : empty ? (
          <div className="chat-welcome">
            {temporary ? (
              <>
                <h1>{t('chat.temporary')}</h1>
                <p>{t('chat.temporaryHint')}</p>
                {historyOff ? <p>{t('chat.historyOffHint')}</p> : null}
              </>
            ) : (
              <h1>{t('chat.emptyTitle')}</h1>
            )}
          </div>
        ) : (
          <section className="messages" aria-label={t('chat.messages')}>
            {path.map((node) => {
              const siblings = siblingsOf(state.nodes, node);
              return (
                <Message
                  key={node.id}
                  node={node}
                  version={siblings.findIndex((sibling) => sibling.id === node.id) + 1}
                  versions={siblings.length}
                  streaming={node.status === 'streaming'}
                  busy={streaming}
                  files={state.files}
                  error={state.errors[node.id]}
                  onRegenerate={regenerate}
                  onEdit={edit}
                  onShowSibling={chat.showSibling}
                  gpt={chatGpt}
                />
              );
            })}
          </section>
        )}
      </div>

      <div className="chat-bottom">
        {!atBottom && !empty ? (
          <button
            type="button"
            className="scroll-down"
            onClick={scrollDown}
            aria-label={t('chat.scrollDown')}
          >
            <Icon name="arrow-down" size={18} />
          </button>
        ) : null}
        {notice ? (
          <p className="model-notice" role="note">
            <Icon name="info" size={16} />
            <span>{notice}</span>
          </p>
        ) : null}
        {withGpt && chatGpt && !answerable ? (
          <p className="model-notice" role="note">
            <Icon name="info" size={16} />
            <span>{state.chatId === null ? t('gptChat.cannotChat') : t('gptChat.unavailable')}</span>
          </p>
        ) : null}
        <Composer
          ref={composer}
          onSend={send}
          onStop={chat.stop}
          streaming={streaming}
          disabled={!model || state.status !== 'ready'}
          attach={attach}
          temporary={temporary}
          label={withGpt && chatGpt ? t('gptChat.inputLabel', { name: gptName }) : undefined}
        />
        <p className="disclaimer">{t('chat.disclaimer')}</p>
      </div>
      <div className="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
      {waiting && chatGpt && answerable ? (
        <Suspense fallback={null}>
          <ConsentQueue
            key={waiting.id}
            gptId={chatGpt.id}
            gptName={gptName}
            actions={waiting.pendingActions ?? []}
            // Allowed or declined, the answer goes on: the GPT makes the call or hears the no.
            onDone={() => chat.continuePending(waiting.id)}
          />
        </Suspense>
      ) : null}
    </main>
  );
}

/** A new chat with a GPT: its face, who made it, what it is for, and its conversation starters. */
function GptWelcome({
  intro,
  error,
  onRetry,
  onStarter,
}: {
  intro: GptIntro | null;
  error: Error | null;
  onRetry: () => void;
  onStarter: (text: string) => void;
}) {
  const { t } = useI18n();
  if (error) {
    return (
      <div className="chat-welcome">
        {error instanceof ApiError && error.status === 404 ? (
          <>
            <h2>{t('gptChat.notFoundTitle')}</h2>
            <p>{t('gptChat.notFound')}</p>
            <Button onClick={() => navigate('/gpts')}>{t('gptChat.explore')}</Button>
          </>
        ) : (
          <>
            <p role="alert">{t('gptChat.loadFailed', { message: error.message })}</p>
            <Button onClick={onRetry}>{t('common.retry')}</Button>
          </>
        )}
      </div>
    );
  }
  if (!intro) {
    return (
      <div className="chat-message-center" aria-busy="true">
        <span className="spinner" role="img" aria-label={t('gptChat.loading')} />
      </div>
    );
  }
  return (
    <div className="chat-welcome chat-gpt-welcome">
      <div className="gpt-face gpt-face-large">
        <GptFaceImage url={intro.avatarUrl} size={80} />
        <p className="gpt-face-name">{intro.name || t('gptChat.untitled')}</p>
        <p className="gpt-face-builder">{t('gptChat.by', { name: intro.builderName })}</p>
        {intro.description ? <p className="gpt-face-description">{intro.description}</p> : null}
      </div>
      {intro.available ? (
        <GptStarters starters={intro.starters} label={t('gptChat.starters')} onStart={onStarter} />
      ) : null}
    </div>
  );
}

function readStoredModel(): string | null {
  try {
    return localStorage.getItem(MODEL_KEY);
  } catch {
    return null;
  }
}
