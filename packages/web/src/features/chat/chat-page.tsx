// The chat: header (sidebar toggle, model menu, temporary chat), the conversation, the message
// box, and the model's notice when it has one (the random-weight test model says so).
import { useQuery } from '@tanstack/react-query';
import {
  type MutableRefObject,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { Preferences } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { Icon } from '../../ui/icons';
import { useToast } from '../../ui/toast';
import { listModels } from './chat-api';
import { siblingsOf } from './chat-tree';
import { Composer, type ComposerHandle } from './composer';
import { Message } from './message';
import { ModelMenu } from './model-menu';
import { useChatController } from './use-chat-controller';

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
  sidebarOpen,
  onOpenSidebar,
  onNewChat,
  actions,
}: {
  chatId: string | null;
  newChatToken: number;
  preferences: Preferences;
  sidebarOpen: boolean;
  onOpenSidebar: () => void;
  onNewChat: () => void;
  actions: MutableRefObject<ChatActions | null>;
}) {
  const { t } = useI18n();
  const toast = useToast();
  const models = useQuery({ queryKey: ['models'], queryFn: listModels, staleTime: 60_000 });
  const instructions = useMemo(
    () => ({
      enabled: preferences.custom_instructions_enabled,
      aboutMe: preferences.about_me,
      responseStyle: preferences.response_style,
    }),
    [preferences],
  );
  const onError = useCallback(
    (message: string) => toast(t('chat.saveFailed', { message }), 'error'),
    [toast, t],
  );
  const chat = useChatController({ chatId, newChatToken, instructions, onError });
  const { state, path } = chat;
  const streaming = state.streamingId !== null;

  // The model: the chat's own when it is still served, else the last one chosen, else the first.
  const [chosen, setChosen] = useState<string | null>(() => readStoredModel());
  const available = models.data ?? [];
  const model =
    [state.model, chosen].find((id) => id && available.some((entry) => entry.id === id)) ??
    available[0]?.id ??
    null;
  const notice = available.find((entry) => entry.id === model)?.atelier?.notice;
  const choose = (id: string) => {
    setChosen(id);
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

  const send = (text: string) => {
    if (!model) return;
    stick.current = true;
    chat.send(text, model);
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
      if (!lastAnswer?.content) return false;
      void copyText(lastAnswer.content).then(() => toast(t('chat.copied')));
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
    <main className={`chat${empty ? ' chat-empty' : ''}`} aria-label={t('chat.label')}>
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
          {state.temporary && !empty ? (
            <span className="temporary-badge">
              <Icon name="ghost" size={16} />
              {t('chat.temporary')}
            </span>
          ) : null}
          {empty && state.chatId === null ? (
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
            {state.temporary ? (
              <>
                <h1>{t('chat.temporary')}</h1>
                <p>{t('chat.temporaryHint')}</p>
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
                  streaming={node.id === state.streamingId}
                  busy={streaming}
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
