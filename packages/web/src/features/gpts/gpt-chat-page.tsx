// A GPT's own page (/g/<id>, and /g/shared/<token> for the share link): its avatar, name,
// description and conversation starters, and a chat with it (`model: "gpt-<id>"`, streamed).
// What users get from the server is the published face only: never its instructions.
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { ApiError } from '../../api/http';
import { useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button, IconButton } from '../../ui/button';
import { Conversation } from './conversation';
import { GptAvatar } from './gpt-avatar';
import { faceOf, getGpt, getSharedGpt } from './gpts-api';
import { useGptsI18n } from './gpts-i18n';
import './gpts.css';

export interface GptChatPageProps {
  /** `/g/<id>`: the GPT's id; null with a share link. */
  readonly gptId: string | null;
  /** `/g/shared/<token>`. */
  readonly linkToken: string | null;
  readonly sidebarOpen: boolean;
  readonly onOpenSidebar: () => void;
}

export default function GptChatPage({ gptId, linkToken, sidebarOpen, onOpenSidebar }: GptChatPageProps) {
  const { t } = useGptsI18n();
  const app = useI18n();
  const ids = useId();
  const gpt = useQuery({
    queryKey: ['gpts', 'one', gptId, linkToken],
    queryFn: () => (linkToken ? getSharedGpt(linkToken) : getGpt(gptId ?? '')),
    retry: (count, error) => count < 2 && !(error instanceof ApiError),
  });

  const header = (title: string | null) => (
    <header className="gpt-chat-header">
      {!sidebarOpen ? (
        <IconButton icon="sidebar" label={app.t('sidebar.open')} onClick={onOpenSidebar} />
      ) : null}
      {title ? <h1 id={`${ids}-title`}>{title}</h1> : null}
    </header>
  );

  if (gpt.isPending || gpt.error) {
    const missing = gpt.error instanceof ApiError && gpt.error.status === 404;
    return (
      <main className="gpt-chat-page">
        {header(null)}
        <div className="gpt-chat-center" aria-busy={gpt.isPending || undefined}>
          {gpt.isPending ? (
            <span className="spinner" role="img" aria-label={t('chatPage.loading')} />
          ) : missing ? (
            <>
              <h1>{t('chatPage.notFoundTitle')}</h1>
              <p>{t('chatPage.notFound')}</p>
              <Button onClick={() => navigate('/gpts')}>{t('chatPage.explore')}</Button>
            </>
          ) : (
            <>
              <p role="alert">{t('chatPage.loadFailed', { message: gpt.error?.message ?? '' })}</p>
              <Button onClick={() => void gpt.refetch()}>{t('common.retry')}</Button>
            </>
          )}
        </div>
      </main>
    );
  }

  const face = faceOf(gpt.data);
  const name = face.name || t('common.untitled');
  return (
    <main className="gpt-chat-page" aria-labelledby={`${ids}-title`}>
      <header className="gpt-chat-header">
        {!sidebarOpen ? (
          <IconButton icon="sidebar" label={app.t('sidebar.open')} onClick={onOpenSidebar} />
        ) : null}
        <GptAvatar gptId={face.id} avatarFileId={face.avatarFileId} size={28} />
        <h1 id={`${ids}-title`}>{name}</h1>
        {face.canEdit ? (
          <Button
            size="small"
            icon="pencil"
            className="gpt-chat-edit"
            onClick={() => navigate(`/gpts/${encodeURIComponent(face.id)}/edit`)}
          >
            {t('chatPage.edit')}
          </Button>
        ) : null}
      </header>
      <Conversation
        className="gpt-chat-conversation"
        model={face.canChat ? face.model : null}
        gptId={face.id}
        name={name}
        starters={face.starters}
        resetKey={face.id}
        unavailable={face.canChat ? null : t('chatPage.cannotChat')}
        intro={
          <div className="gpt-face gpt-face-large">
            <GptAvatar gptId={face.id} avatarFileId={face.avatarFileId} size={80} />
            <p className="gpt-face-name">{name}</p>
            <p className="gpt-face-builder">{t('common.by', { name: face.builderName })}</p>
            {face.description ? <p className="gpt-face-description">{face.description}</p> : null}
          </div>
        }
      />
    </main>
  );
}
