// The chat: header (sidebar toggle, model menu, temporary chat), the conversation, the message
// box (files dropped anywhere on the chat go into it), and the model's notice when it has one
// (the random-weight test model says so).
import { useQuery } from '@tanstack/react-query';
import {
  type DragEvent,
  type MutableRefObject,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { Preferences, SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { Icon } from '../../ui/icons';
import { useToast } from '../../ui/toast';
import { plainText } from './annotations';
import { listModels } from './chat-api';
import { siblingsOf } from './chat-tree';
import { Composer, type ComposerHandle } from './composer';
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

export function ChatPage({
  chatId,
  newChatToken,
  preferences,
  capabilities = undefined,
  sidebarOpen,
  onOpenSidebar,
  onNewChat,
  actions,
}: {
  chatId: string | null;
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
  const chat = useChatController({ chatId, newChatToken, historyOff, onError });
  const { state, path } = chat;
  // With history off every new chat is temporary (the server makes it so too).
  const temporary = state.temporary || (historyOff && state.chatId === null);
  // An answer is being written, here or on another device: the message box offers Stop.
  const streaming = chat.busy;

  // The model: the chat's own when it is still served, else the last one chosen, else the first.
  const [chosen, setChosen] = useState<string | null>(() => readStoredModel());
  const available = models.data ?? [];
  const model =
    [state.model, chosen].find((id) => id && available.some((entry) => entry.id === id)) ??
    available[0]?.id ??
    null;
  const modelInfo = available.find((entry) => entry.id === model);
  const notice = modelInfo?.atelier?.notice;
  // Tools need a model that can call them; images, one that can see.
  const callsTools = modelInfo?.atelier?.capabilities?.tools !== false;
  const attach = useMemo(
    () => ({
      images: !!modelInfo?.atelier?.capabilities?.vision,
      fileSearch: callsTools && !!capabilities?.file_search,
      codeInterpreter: callsTools && !!capabilities?.code_interpreter,
    }),
    [modelInfo, callsTools, capabilities],
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
        <ModelMenu models={available} model={model} onChange={choose} />
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
        <Composer
          ref={composer}
          onSend={send}
          onStop={chat.stop}
          streaming={streaming}
          disabled={!model || state.status !== 'ready'}
          attach={attach}
          temporary={temporary}
        />
        <p className="disclaimer">{t('chat.disclaimer')}</p>
      </div>
      <div className="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </main>
  );
}

function readStoredModel(): string | null {
  try {
    return localStorage.getItem(MODEL_KEY);
  } catch {
    return null;
  }
}
