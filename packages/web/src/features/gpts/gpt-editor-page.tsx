// The GPT builder (/gpts/new, /gpts/<id>/edit): Create (a conversation with the builder
// assistant) and Configure (the form) on the left, a live preview of the draft on the right
// (a toggle on phones), the save state and Publish in the header. A new GPT is created by its
// first change, and the address becomes its own without leaving the page.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type KeyboardEvent, useId, useRef, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button, IconButton } from '../../ui/button';
import { ConfigureTab } from './configure-tab';
import { Conversation } from './conversation';
import { CreateTab } from './create-tab';
import { startersToSave } from './draft-fields';
import { GptAvatar } from './gpt-avatar';
import { loadModelCatalog } from './gpts-api';
import { type GptsTranslate, useGptsI18n } from './gpts-i18n';
import { GPTS_KEY } from './gpts-page';
import { ShareDialog } from './share-dialog';
import { type GptDraft, useGptDraft } from './use-gpt-draft';
import './gpts.css';

export interface GptEditorPageProps {
  /** From the address: null for /gpts/new. */
  readonly gptId: string | null;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
}

export default function GptEditorPage({ gptId, ...rest }: GptEditorPageProps) {
  // The GPT this page just created keeps its editor (and the builder's conversation) when the
  // address changes to its id; opening any other GPT, or a new one, starts a fresh editor.
  const created = useRef<string | null>(null);
  const [instance, setInstance] = useState({ key: 0, gptId });
  if (gptId !== instance.gptId) {
    const ours = gptId !== null && gptId === created.current;
    setInstance({ key: ours ? instance.key : instance.key + 1, gptId });
  }
  return (
    <GptEditor
      key={instance.key}
      gptId={instance.gptId}
      onCreated={(id) => {
        created.current = id;
        navigate(`/gpts/${encodeURIComponent(id)}/edit`, { replace: true });
      }}
      {...rest}
    />
  );
}

type Tab = 'create' | 'configure';

function GptEditor({
  gptId,
  onCreated,
  sidebarOpen,
  onOpenSidebar,
}: GptEditorPageProps & { onCreated: (gptId: string) => void }) {
  const { t } = useGptsI18n();
  const app = useI18n();
  const ids = useId();
  const queryClient = useQueryClient();
  const draft = useGptDraft({
    gptId,
    onCreated: (id) => {
      void queryClient.invalidateQueries({ queryKey: GPTS_KEY });
      onCreated(id);
    },
  });
  const models = useQuery({ queryKey: ['gpts', 'models'], queryFn: loadModelCatalog });
  const [tab, setTab] = useState<Tab>(gptId ? 'configure' : 'create');
  const [showPreview, setShowPreview] = useState(false);
  const [sharing, setSharing] = useState(false);
  const [previewKey, setPreviewKey] = useState(0);
  const tabs = useRef<Record<Tab, HTMLButtonElement | null>>({ create: null, configure: null });

  const { gpt, fields } = draft;
  const name = fields.name.trim() || t('editor.newGpt');

  if (draft.load !== 'ready') {
    return (
      <main className="gpt-editor gpt-editor-message" aria-busy={draft.load === 'loading' || undefined}>
        {draft.load === 'loading' ? (
          <span className="spinner" role="img" aria-label={t('editor.loading')} />
        ) : draft.load === 'not-found' ? (
          <>
            <p>{t('editor.notFound')}</p>
            <Button onClick={() => navigate('/gpts')}>{t('editor.back')}</Button>
          </>
        ) : draft.load === 'not-builder' ? (
          <>
            <p>{t('editor.notBuilder')}</p>
            <Button onClick={() => navigate(`/g/${gptId}`)}>{t('editor.openChat')}</Button>
          </>
        ) : (
          <>
            <p role="alert">{t('editor.loadFailed', { message: draft.loadError ?? '' })}</p>
            <Button onClick={draft.reload}>{t('common.retry')}</Button>
          </>
        )}
      </main>
    );
  }

  const onTabKey = (event: KeyboardEvent) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const next: Tab = tab === 'create' ? 'configure' : 'create';
    setTab(next);
    tabs.current[next]?.focus();
  };

  const publishLabel = !gpt?.published
    ? t('share.publish')
    : gpt.has_unpublished_changes
      ? t('share.update')
      : t('editor.share');

  return (
    <main
      className={`gpt-editor${showPreview ? ' gpt-editor-show-preview' : ''}`}
      aria-labelledby={`${ids}-title`}
    >
      <header className="gpt-editor-header">
        {!sidebarOpen ? (
          <IconButton icon="sidebar" label={app.t('sidebar.open')} onClick={onOpenSidebar} />
        ) : null}
        <IconButton icon="chevron-left" label={t('editor.back')} onClick={() => navigate('/gpts')} />
        <GptAvatar gptId={gpt?.id ?? null} avatarFileId={gpt?.draft.avatar_file_id ?? null} size={32} />
        <div className="gpt-editor-title">
          <h1 id={`${ids}-title`}>{name}</h1>
          <p className="gpt-editor-status">
            <span>
              {gpt?.published
                ? t('editor.publishedVersion', { version: gpt.published.version })
                : t('editor.draft')}
            </span>
            <SaveState draft={draft} t={t} />
          </p>
        </div>
        <div className="gpt-editor-actions">
          <Button
            size="small"
            variant="ghost"
            className="gpt-preview-toggle"
            icon={showPreview ? 'pencil' : 'eye'}
            aria-pressed={showPreview}
            onClick={() => setShowPreview((shown) => !shown)}
          >
            <span className="gpt-preview-toggle-label">{t('editor.preview')}</span>
          </Button>
          <Button size="small" variant="primary" disabled={!gpt} onClick={() => setSharing(true)}>
            {publishLabel}
          </Button>
        </div>
      </header>

      <div className="gpt-editor-body">
        <section className="gpt-editor-main" aria-label={t('editor.build')}>
          <div className="gpt-tabs" role="tablist" aria-label={t('editor.build')}>
            {(['create', 'configure'] as const).map((name) => (
              <button
                key={name}
                ref={(element) => {
                  tabs.current[name] = element;
                }}
                type="button"
                role="tab"
                id={`${ids}-tab-${name}`}
                aria-selected={tab === name}
                aria-controls={`${ids}-panel-${name}`}
                tabIndex={tab === name ? 0 : -1}
                className="gpt-tab"
                onClick={() => setTab(name)}
                onKeyDown={onTabKey}
              >
                {t(`editor.tab.${name}`)}
              </button>
            ))}
          </div>
          {/* Both panels stay mounted: the builder's conversation survives a look at the form. */}
          <div
            role="tabpanel"
            id={`${ids}-panel-create`}
            aria-labelledby={`${ids}-tab-create`}
            className="gpt-panel gpt-panel-create"
            hidden={tab !== 'create'}
          >
            <CreateTab draft={draft} catalog={models.data ?? null} />
          </div>
          <div
            role="tabpanel"
            id={`${ids}-panel-configure`}
            aria-labelledby={`${ids}-tab-configure`}
            className="gpt-panel gpt-panel-configure"
            hidden={tab !== 'configure'}
          >
            {models.error ? (
              <p className="form-error" role="alert">
                {t('editor.modelsFailed', { message: models.error.message })}
              </p>
            ) : null}
            <ConfigureTab draft={draft} catalog={models.data ?? null} />
          </div>
        </section>

        <section className="gpt-editor-preview" aria-labelledby={`${ids}-preview`}>
          <header className="gpt-preview-header">
            <h2 id={`${ids}-preview`}>{t('editor.preview')}</h2>
            <IconButton
              icon="regenerate"
              label={t('editor.restartPreview')}
              onClick={() => setPreviewKey((key) => key + 1)}
            />
          </header>
          <Conversation
            className="gpt-preview-conversation"
            model={gpt ? `${gpt.model}:draft` : null}
            gptId={gpt?.id ?? null}
            name={name}
            starters={startersToSave(fields.conversation_starters)}
            resetKey={`${gpt?.id ?? ''}-${previewKey}`}
            beforeSend={draft.flush}
            unavailable={gpt ? null : t('editor.previewEmpty')}
            intro={
              <div className="gpt-face">
                <GptAvatar
                  gptId={gpt?.id ?? null}
                  avatarFileId={gpt?.draft.avatar_file_id ?? null}
                  size={64}
                />
                <p className="gpt-face-name">{name}</p>
                {fields.description ? <p className="gpt-face-description">{fields.description}</p> : null}
              </div>
            }
          />
        </section>
      </div>

      <ShareDialog
        open={sharing}
        gpt={gpt}
        flush={draft.flush}
        onSaved={(stored) => {
          draft.replaceGpt(stored);
          void queryClient.invalidateQueries({ queryKey: GPTS_KEY });
        }}
        onClose={() => setSharing(false)}
        onView={(id) => navigate(`/g/${encodeURIComponent(id)}`)}
      />
    </main>
  );
}

function SaveState({ draft, t }: { draft: GptDraft; t: GptsTranslate }) {
  const { state, error } = draft.save;
  return (
    <span className={`gpt-save-state gpt-save-${state}`} role="status" aria-live="polite">
      {state === 'pending' || state === 'saving' ? t('editor.saving') : null}
      {state === 'saved' ? t('editor.saved') : null}
      {state === 'error' ? (
        <>
          {t('editor.saveFailed', { message: error ?? '' })}{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => void draft.flush().catch(() => undefined)}
          >
            {t('common.retry')}
          </button>
        </>
      ) : null}
    </span>
  );
}
