// One message: a question in a bubble with its images and files (editable: the edit becomes a
// new branch), or an answer in Markdown with its citations (chips naming the file), the files
// and charts the code interpreter made (shown, and downloadable), copy, regenerate and the
// "2 / 3" switch between versions. In a chat with a GPT the answers wear its avatar, and one that
// waits for the person's answer about an action call says so.
import { memo, type ReactNode, useCallback, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { CITATION_LINK, FILE_LINK, linkAnnotations, plainText } from './annotations';
import type { ChatGpt, ChatNode, FileInfo } from './chat-api';
import { FileChip, FileImage, useFileInfo } from './files';
import { GptFaceImage } from './gpt-face-image';
import { type LinkRenderer, Markdown } from './markdown/markdown';

export interface MessageProps {
  readonly node: ChatNode;
  /** 1-based position among its versions, and how many there are. */
  readonly version: number;
  readonly versions: number;
  readonly streaming: boolean;
  /** Another answer is streaming: actions that start one wait. */
  readonly busy: boolean;
  readonly error: string | undefined;
  /** Names of the files messages refer to, by id. */
  readonly files: Readonly<Record<string, FileInfo>>;
  readonly onRegenerate: (nodeId: string) => void;
  readonly onEdit: (nodeId: string, text: string) => void;
  readonly onShowSibling: (nodeId: string, step: -1 | 1) => void;
  /** The GPT that answers in this chat. */
  readonly gpt?: ChatGpt | null;
}

export const Message = memo(function Message({
  node,
  version,
  versions,
  streaming,
  busy,
  error,
  files,
  onRegenerate,
  onEdit,
  onShowSibling,
  gpt = null,
}: MessageProps) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(node.content);
  const copy = () =>
    void copyText(node.role === 'assistant' ? plainText(node) : node.content).then(() => {
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
            <QuestionFiles node={node} files={files} />
            {node.content.trim() ? <div className="bubble">{node.content}</div> : null}
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
      data-status={streaming ? 'streaming' : node.status}
      aria-busy={streaming || undefined}
    >
      <div className="assistant-avatar" aria-hidden="true">
        {gpt ? (
          <GptFaceImage url={gpt.avatarUrl} size={28} />
        ) : (
          <img src="/favicon.svg" alt="" width={28} height={28} />
        )}
      </div>
      <div className="message-body">
        <h2 className="sr-only">{t('chat.assistant')}</h2>
        <AnswerParts node={node} files={files} />
        {streaming && node.parts.length === 0 ? <span className="thinking" aria-hidden="true" /> : null}
        {streaming && node.parts.length > 0 ? <span className="caret" aria-hidden="true" /> : null}
        {node.status === 'stopped' && !streaming ? <p className="message-note">{t('chat.stopped')}</p> : null}
        {node.status === 'pending' && !streaming
          ? node.pendingActions?.map((action) => (
              <p key={action.tool_call_id ?? action.operation} className="message-note">
                {t('gptChat.pending', { domain: action.domain })}
              </p>
            ))
          : null}
        {node.status === 'failed' ? (
          <p className="message-error" role="alert">
            {t('chat.failed', { message: error ?? node.error ?? '…' })}
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

/** A question's images (shown) and files (chips that download them). */
function QuestionFiles({ node, files }: { node: ChatNode; files: Readonly<Record<string, FileInfo>> }) {
  const images = node.parts.flatMap((part) => (part.type === 'image_file' ? [part.fileId] : []));
  if (images.length === 0 && node.attachments.length === 0) return null;
  return (
    <div className="question-files">
      {images.map((fileId) => (
        <NamedImage key={fileId} fileId={fileId} files={files} />
      ))}
      {node.attachments.map((attachment) => (
        <FileChip key={attachment.fileId} fileId={attachment.fileId} files={files} />
      ))}
    </div>
  );
}

function NamedImage({ fileId, files }: { fileId: string; files: Readonly<Record<string, FileInfo>> }) {
  const { t } = useI18n();
  const info = useFileInfo(fileId, files);
  return <FileImage fileId={fileId} alt={info?.filename ?? t('files.image')} />;
}

/** An answer's parts: Markdown with its annotations as links, and the images it made. */
function AnswerParts({ node, files }: { node: ChatNode; files: Readonly<Record<string, FileInfo>> }) {
  const renderLink = useCallback<LinkRenderer>(
    (href: string, children: ReactNode) => {
      if (href.startsWith(CITATION_LINK)) {
        return (
          <FileChip
            fileId={decodeURIComponent(href.slice(CITATION_LINK.length))}
            files={files}
            icon="quote"
            className="citation-chip"
          />
        );
      }
      if (href.startsWith(FILE_LINK)) {
        return (
          <FileChip
            fileId={decodeURIComponent(href.slice(FILE_LINK.length))}
            files={files}
            icon="download"
            label={children}
            className="file-link"
          />
        );
      }
      return undefined;
    },
    [files],
  );
  return (
    <>
      {node.parts.map((part, index) =>
        part.type === 'text' ? (
          part.text ? (
            <Markdown
              // biome-ignore lint/suspicious/noArrayIndexKey: parts are positions in the answer.
              key={index}
              text={part.annotations.length > 0 ? linkAnnotations(part.text, part.annotations) : part.text}
              renderLink={renderLink}
            />
          ) : null
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: as above.
          <figure key={index} className="answer-image">
            <NamedImage fileId={part.fileId} files={files} />
            <FileChip fileId={part.fileId} files={files} icon="download" className="file-link" />
          </figure>
        ),
      )}
    </>
  );
}
