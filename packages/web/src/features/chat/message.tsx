// One message: a question in a bubble (editable: the edit becomes a new branch) or an answer in
// Markdown, with copy, regenerate and the "2 / 3" switch between versions.
import { memo, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import type { ChatNode } from './chat-api';
import { Markdown } from './markdown/markdown';

export interface MessageProps {
  readonly node: ChatNode;
  /** 1-based position among its versions, and how many there are. */
  readonly version: number;
  readonly versions: number;
  readonly streaming: boolean;
  /** Another answer is streaming: actions that start one wait. */
  readonly busy: boolean;
  readonly error: string | undefined;
  readonly onRegenerate: (nodeId: string) => void;
  readonly onEdit: (nodeId: string, text: string) => void;
  readonly onShowSibling: (nodeId: string, step: -1 | 1) => void;
}

export const Message = memo(function Message({
  node,
  version,
  versions,
  streaming,
  busy,
  error,
  onRegenerate,
  onEdit,
  onShowSibling,
}: MessageProps) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(node.content);
  const copy = () =>
    void copyText(node.content).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    });

  const versionSwitch =
    versions > 1 ? (
      <div className="versions">
        <IconButton
          icon="chevron-left"
          size="small"
          label={t('chat.previousVersion')}
          disabled={version <= 1 || busy}
          onClick={() => onShowSibling(node.id, -1)}
        />
        <span className="versions-count">{t('chat.version', { current: version, total: versions })}</span>
        <IconButton
          icon="chevron-right"
          size="small"
          label={t('chat.nextVersion')}
          disabled={version >= versions || busy}
          onClick={() => onShowSibling(node.id, 1)}
        />
      </div>
    ) : null;

  if (node.role === 'user') {
    return (
      <article className="message message-user" data-message-id={node.id}>
        <h2 className="sr-only">{t('chat.you')}</h2>
        {editing ? (
          <form
            className="message-edit"
            onSubmit={(event) => {
              event.preventDefault();
              setEditing(false);
              if (draft.trim() && draft !== node.content) onEdit(node.id, draft);
            }}
          >
            <textarea
              aria-label={t('chat.edit')}
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              // biome-ignore lint/a11y/noAutofocus: the person just chose to edit this message.
              autoFocus
              rows={Math.min(10, draft.split('\n').length + 1)}
              onKeyDown={(event) => {
                if (event.key === 'Escape') {
                  event.stopPropagation();
                  setEditing(false);
                }
              }}
            />
            <div className="message-edit-actions">
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => setEditing(false)}
              >
                {t('common.cancel')}
              </button>
              <button
                type="submit"
                className="button button-primary button-small"
                disabled={busy || !draft.trim()}
              >
                {t('chat.editSend')}
              </button>
            </div>
          </form>
        ) : (
          <>
            <div className="bubble">{node.content}</div>
            <div className="message-footer">
              {/* Which version is on screen stays in view; the actions appear on hover or focus. */}
              {versionSwitch}
              <div className="message-actions">
                <IconButton
                  icon={copied ? 'check' : 'copy'}
                  size="small"
                  label={copied ? t('chat.copied') : t('chat.copy')}
                  onClick={copy}
                />
                <IconButton
                  icon="pencil"
                  size="small"
                  label={t('chat.edit')}
                  disabled={busy}
                  onClick={() => {
                    setDraft(node.content);
                    setEditing(true);
                  }}
                />
              </div>
            </div>
          </>
        )}
      </article>
    );
  }

  return (
    <article
      className="message message-assistant"
      data-message-id={node.id}
      aria-busy={streaming || undefined}
    >
      <div className="assistant-avatar" aria-hidden="true">
        <img src="/favicon.svg" alt="" width={28} height={28} />
      </div>
      <div className="message-body">
        <h2 className="sr-only">{t('chat.assistant')}</h2>
        {node.content ? <Markdown text={node.content} /> : null}
        {streaming && !node.content ? <span className="thinking" aria-hidden="true" /> : null}
        {streaming && node.content ? <span className="caret" aria-hidden="true" /> : null}
        {node.status === 'stopped' && !streaming ? <p className="message-note">{t('chat.stopped')}</p> : null}
        {node.status === 'failed' ? (
          <p className="message-error" role="alert">
            {t('chat.failed', { message: error ?? '…' })}
          </p>
        ) : null}
        {!streaming ? (
          <div className="message-actions message-actions-visible">
            {versionSwitch}
            <IconButton
              icon={copied ? 'check' : 'copy'}
              size="small"
              label={copied ? t('chat.copied') : t('chat.copy')}
              onClick={copy}
            />
            <IconButton
              icon="regenerate"
              size="small"
              label={t('chat.regenerate')}
              disabled={busy}
              onClick={() => onRegenerate(node.id)}
            />
          </div>
        ) : null}
      </div>
    </article>
  );
});
