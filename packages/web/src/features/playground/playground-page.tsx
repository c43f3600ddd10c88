// The Assistants playground (/playground, /playground/<assistant id>, /playground/new): pick,
// create, edit and delete assistants on the left; run them on a thread on the right, streamed.
// Everything goes through the public /v1 Assistants v2 API with the person's session, so what
// works here works from any SDK. The thread in use is kept in the address (`?thread=`), so a
// reload or a shared link reopens it. Loaded on first visit only (a lazy chunk with its own CSS).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button, IconButton } from '../../ui/button';
import { AssistantPanel } from './assistant-panel';
import { listAssistants, listModels } from './playground-api';
import { usePlaygroundI18n } from './playground-i18n';
import type { Assistant } from './playground-types';
import { ThreadPanel } from './thread-panel';
import './playground.css';

const ASSISTANTS_KEY = ['playground', 'assistants'] as const;

export interface PlaygroundPageProps {
  /** From the address: an assistant id, 'new', or null (the newest assistant, if any). */
  readonly assistantId: string | null;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
}

export default function PlaygroundPage({ assistantId, sidebarOpen, onOpenSidebar }: PlaygroundPageProps) {
  const { t } = usePlaygroundI18n();
  const app = useI18n();
  const ids = useId();
  const queryClient = useQueryClient();
  const models = useQuery({ queryKey: ['playground', 'models'], queryFn: listModels });
  const assistants = useQuery({ queryKey: ASSISTANTS_KEY, queryFn: listAssistants });
  const [threadId, setThreadId] = useState<string | null>(() =>
    new URLSearchParams(window.location.search).get('thread'),
  );
  const [pane, setPane] = useState<'assistant' | 'thread'>('assistant');

  const withThread = useCallback(
    (path: string, thread: string | null = threadId) =>
      thread ? `${path}?thread=${encodeURIComponent(thread)}` : path,
    [threadId],
  );

  // The thread follows the address, and the address the thread.
  const changeThread = useCallback((next: string | null) => {
    setThreadId(next);
    const url = next
      ? `${window.location.pathname}?thread=${encodeURIComponent(next)}`
      : window.location.pathname;
    window.history.replaceState(null, '', url);
  }, []);

  // Back and forward bring their thread with them.
  useEffect(() => {
    const onPopState = () => setThreadId(new URLSearchParams(window.location.search).get('thread'));
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  const list = assistants.data ?? [];
  const selected: Assistant | null =
    assistantId && assistantId !== 'new'
      ? (list.find((assistant) => assistant.id === assistantId) ?? null)
      : null;
  const missing = assistants.isSuccess && assistantId !== null && assistantId !== 'new' && selected === null;

  // /playground opens the newest assistant, or the form for a first one.
  useEffect(() => {
    if (assistantId !== null || !assistants.isSuccess) return;
    const newest = assistants.data[0];
    navigate(withThread(newest ? `/playground/${newest.id}` : '/playground/new'), { replace: true });
  }, [assistantId, assistants.isSuccess, assistants.data, withThread]);

  const loading = models.isPending || assistants.isPending || assistantId === null;
  const failure = models.error ?? assistants.error;

  return (
    <main className={`playground playground-show-${pane}`} aria-labelledby={`${ids}-title`}>
      <header className="playground-header">
        {!sidebarOpen ? (
          <IconButton icon="sidebar" label={app.t('sidebar.open')} onClick={onOpenSidebar} />
        ) : null}
        <h1 id={`${ids}-title`}>{t('title')}</h1>
        <div className="playground-picker">
          <label htmlFor={`${ids}-assistant`} className="sr-only">
            {t('picker.label')}
          </label>
          <select
            id={`${ids}-assistant`}
            value={selected?.id ?? 'new'}
            disabled={!assistants.isSuccess}
            onChange={(event) => navigate(withThread(`/playground/${event.target.value}`))}
          >
            <option value="new">{t('picker.new')}</option>
            {list.map((assistant) => (
              <option key={assistant.id} value={assistant.id}>
                {assistant.name ? `${assistant.name} (${assistant.id})` : assistant.id}
              </option>
            ))}
          </select>
        </div>
      </header>

      <fieldset className="playground-panes">
        <legend className="sr-only">{t('panes.label')}</legend>
        <button type="button" aria-pressed={pane === 'assistant'} onClick={() => setPane('assistant')}>
          {t('panes.assistant')}
        </button>
        <button type="button" aria-pressed={pane === 'thread'} onClick={() => setPane('thread')}>
          {t('panes.thread')}
        </button>
      </fieldset>

      {failure ? (
        <div className="playground-center">
          <p className="form-error" role="alert">
            {t('loadFailed', { message: failure.message })}
          </p>
          <Button
            onClick={() => {
              void models.refetch();
              void assistants.refetch();
            }}
          >
            {t('retry')}
          </Button>
        </div>
      ) : loading ? (
        <div className="playground-center" aria-busy="true">
          <span className="spinner" role="img" aria-label={t('loading')} />
        </div>
      ) : missing ? (
        <div className="playground-center">
          <p>{t('picker.missing', { id: assistantId })}</p>
          <Button onClick={() => navigate(withThread('/playground/new'))}>{t('picker.new')}</Button>
        </div>
      ) : (
        <div className="playground-body">
          <section className="playground-pane playground-assistant" aria-label={t('panes.assistant')}>
            <AssistantPanel
              key={selected?.id ?? 'new'}
              assistant={selected}
              models={models.data ?? []}
              onSaved={(saved, created) => {
                queryClient.setQueryData<readonly Assistant[]>(ASSISTANTS_KEY, (known = []) =>
                  created ? [saved, ...known] : known.map((item) => (item.id === saved.id ? saved : item)),
                );
                if (created) navigate(withThread(`/playground/${saved.id}`));
              }}
              onDeleted={() => {
                const rest = list.filter((item) => item.id !== selected?.id);
                queryClient.setQueryData<readonly Assistant[]>(ASSISTANTS_KEY, rest);
                navigate(withThread(rest[0] ? `/playground/${rest[0].id}` : '/playground/new'));
              }}
              t={t}
            />
          </section>
          <section className="playground-pane playground-thread" aria-label={t('panes.thread')}>
            <ThreadPanel assistant={selected} threadId={threadId} onThreadChange={changeThread} t={t} />
          </section>
        </div>
      )}
    </main>
  );
}
