// The message box: grows with its text, Enter sends (Shift+Enter, or Enter on a touch keyboard,
// starts a new line; Enter while composing Korean or Japanese finishes the syllable, not the
// message), and its button becomes Stop while an answer streams. Files come in by the paperclip,
// by dropping them on the chat, or by pasting an image; each uploads at once (a chip shows it)
// and goes with the message: images for the model to see, documents for file_search, data files
// for the code interpreter.
import { forwardRef, useEffect, useImperativeHandle, useLayoutEffect, useRef, useState } from 'react';
import { useI18n } from '../../i18n/i18n';
import { IconButton } from '../../ui/button';
import { enterSends } from '../../ui/enter-sends';
import { Icon } from '../../ui/icons';
import { useToast } from '../../ui/toast';
import { type AttachOptions, toolsForFile } from './attach-options';
import type { AttachmentRef, ToolType } from './chat-api';
import { type UploadedFile, uploadFile } from './files';
import type { Draft } from './use-chat-controller';

export interface ComposerHandle {
  focus(): void;
  /** Attaches files (dropped on the chat). */
  addFiles(files: readonly File[]): void;
}

export interface ComposerProps {
  readonly onSend: (draft: Draft) => void;
  readonly onStop: () => void;
  readonly streaming: boolean;
  readonly disabled?: boolean;
  readonly attach?: AttachOptions;
  /** A temporary chat's files expire with it. */
  readonly temporary?: boolean;
  /** Who the message goes to ("Message Harbour keeper"); the app's own words without one. */
  readonly label?: string;
}

interface PendingFile {
  readonly key: string;
  readonly name: string;
  readonly kind: 'image' | 'file';
  readonly tools: readonly ToolType[];
  readonly status: 'uploading' | 'ready' | 'failed';
  readonly uploaded?: UploadedFile;
  /** A local URL of an image, for its thumbnail. */
  readonly preview?: string;
}

const MAX_HEIGHT = 240;
/** As many as a message may carry (the Assistants API's limit on attachments). */
const MAX_FILES = 10;
const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/;
const NO_OPTIONS: AttachOptions = { images: false, fileSearch: false, codeInterpreter: false };

export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer(
  { onSend, onStop, streaming, disabled = false, attach = NO_OPTIONS, temporary = false, label = undefined },
  ref,
) {
  const { t } = useI18n();
  const toast = useToast();
  const [text, setText] = useState('');
  const [pending, setPending] = useState<readonly PendingFile[]>([]);
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const latestPending = useRef(pending);
  latestPending.current = pending;
  const canAttach = attach.images || attach.fileSearch || attach.codeInterpreter;

  const change = (key: string, next: Partial<PendingFile>) =>
    setPending((files) => files.map((file) => (file.key === key ? { ...file, ...next } : file)));

  const addFiles = (files: readonly File[]) => {
    const room = MAX_FILES - latestPending.current.length;
    if (files.length > room) toast(t('composer.tooMany', { max: MAX_FILES }), 'error');
    const added: PendingFile[] = [];
    for (const file of files.slice(0, Math.max(0, room))) {
      const name = file.name || 'pasted-image.png';
      const image = IMAGE_TYPES.test(file.type);
      if (image && !attach.images) {
        toast(t('composer.noImages'), 'error');
        continue;
      }
      const tools = image ? [] : toolsForFile(name, attach);
      if (!image && tools.length === 0) {
        toast(t('composer.noFiles', { name }), 'error');
        continue;
      }
      const key = `${Date.now()}-${Math.random()}`;
      added.push({
        key,
        name,
        kind: image ? 'image' : 'file',
        tools,
        status: 'uploading',
        ...(image ? { preview: URL.createObjectURL(file) } : {}),
      });
      uploadFile(file, { purpose: image ? 'vision' : 'assistants', temporary }).then(
        (uploaded) => change(key, { status: 'ready', uploaded }),
        (error: unknown) => {
          change(key, { status: 'failed' });
          toast(
            t('composer.uploadFailed', {
              name,
              message: error instanceof Error ? error.message : String(error),
            }),
            'error',
          );
        },
      );
    }
    if (added.length > 0) setPending((files) => [...files, ...added]);
  };

  useImperativeHandle(ref, () => ({ focus: () => area.current?.focus(), addFiles }));

  // Thumbnails' local URLs go with the composer.
  useEffect(
    () => () => {
      for (const file of latestPending.current) if (file.preview) URL.revokeObjectURL(file.preview);
    },
    [],
  );

  const remove = (key: string) =>
    setPending((files) =>
      files.filter((file) => {
        if (file.key === key && file.preview) URL.revokeObjectURL(file.preview);
        return file.key !== key;
      }),
    );

  // biome-ignore lint/correctness/useExhaustiveDependencies: the height follows the text, read from the element.
  useLayoutEffect(() => {
    const element = area.current;
    if (!element) return;
    element.style.height = 'auto';
    element.style.height = `${Math.min(element.scrollHeight, MAX_HEIGHT)}px`;
  }, [text]);

  const ready = pending.filter((file) => file.status === 'ready' && file.uploaded);
  const uploading = pending.some((file) => file.status === 'uploading');
  const images = ready.filter((file) => file.kind === 'image');
  const canSend = !streaming && !disabled && !uploading && (text.trim().length > 0 || images.length > 0);
  const submit = () => {
    if (!canSend) return;
    const attachments: AttachmentRef[] = ready
      .filter((file) => file.kind === 'file')
      .map((file) => ({ fileId: file.uploaded!.id, tools: file.tools }));
    onSend({
      text,
      images: images.map((file) => file.uploaded!.id),
      attachments,
      files: Object.fromEntries(
        ready.map((file) => [
          file.uploaded!.id,
          { filename: file.uploaded!.filename, bytes: file.uploaded!.bytes },
        ]),
      ),
    });
    setText('');
    for (const file of pending) if (file.preview) URL.revokeObjectURL(file.preview);
    setPending([]);
  };

  return (
    <form
      className={`composer${canAttach ? ' composer-attach' : ''}`}
      onSubmit={(event) => {
        event.preventDefault();
        if (streaming) onStop();
        else submit();
      }}
    >
      {pending.length > 0 ? (
        <ul className="composer-files" aria-label={t('composer.files')}>
          {pending.map((file) => (
            <li
              key={file.key}
              className={`composer-file composer-file-${file.status}`}
              aria-busy={file.status === 'uploading' || undefined}
            >
              {file.preview ? (
                <img src={file.preview} alt={file.name} className="composer-thumbnail" />
              ) : (
                <Icon name="file" size={18} />
              )}
              {file.kind === 'file' ? <span className="composer-file-name">{file.name}</span> : null}
              {file.status === 'uploading' ? (
                <span className="spinner spinner-small" aria-hidden="true" />
              ) : null}
              <IconButton
                icon="close"
                size="small"
                label={t('composer.remove', { name: file.name })}
                onClick={() => remove(file.key)}
              />
            </li>
          ))}
        </ul>
      ) : null}
      {canAttach ? (
        <>
          <IconButton
            icon="paperclip"
            label={t('composer.attach')}
            className="composer-attach-button"
            disabled={disabled}
            onClick={() => picker.current?.click()}
          />
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            data-testid="composer-file-input"
            accept={
              attach.fileSearch || attach.codeInterpreter
                ? undefined
                : 'image/png,image/jpeg,image/gif,image/webp'
            }
            onChange={(event) => {
              addFiles([...(event.target.files ?? [])]);
              event.target.value = '';
            }}
          />
        </>
      ) : null}
      <label htmlFor="composer-input" className="sr-only">
        {label ?? t('chat.inputLabel')}
      </label>
      <textarea
        id="composer-input"
        ref={area}
        rows={1}
        value={text}
        placeholder={label ?? t('chat.placeholder')}
        onChange={(event) => setText(event.target.value)}
        onPaste={(event) => {
          const files = [...event.clipboardData.files];
          if (files.length === 0 || !canAttach) return;
          // A pasted picture attaches; pasted text stays text.
          if (!event.clipboardData.types.includes('text/plain')) event.preventDefault();
          addFiles(files);
        }}
        onKeyDown={(event) => {
          if (!enterSends(event)) return;
          event.preventDefault();
          submit();
        }}
        enterKeyHint="send"
        // biome-ignore lint/a11y/noAutofocus: the message box is what a chat page is for.
        autoFocus
      />
      {streaming ? (
        <button
          type="submit"
          className="composer-button composer-stop"
          aria-label={t('chat.stop')}
          title={t('chat.stop')}
        >
          <Icon name="stop" size={18} />
        </button>
      ) : (
        <button
          type="submit"
          className="composer-button"
          disabled={!canSend}
          aria-label={t('chat.send')}
          title={t('chat.send')}
        >
          <Icon name="send" size={18} />
        </button>
      )}
    </form>
  );
});
