// The builder's Configure tab: every draft field as a form, saved as it is typed (the draft hook
// debounces). Avatar and knowledge files are uploaded with /v1/files first, then referenced by id.
import { useQueries } from '@tanstack/react-query';
import { type ChangeEvent, useId, useRef, useState } from 'react';
import { Button, IconButton } from '../../ui/button';
import { Icon } from '../../ui/icons';
import { TextArea, TextField } from '../../ui/text-field';
import { ActionsSection } from './actions-section';
import { GptAvatar } from './gpt-avatar';
import {
  type CapabilityName,
  type FileInfo,
  GPT_LIMITS,
  getFile,
  type ModelCatalog,
  uploadFile,
} from './gpts-api';
import { type GptsTranslate, useGptsI18n } from './gpts-i18n';
import type { GptDraft } from './use-gpt-draft';

const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export function ConfigureTab({ draft, catalog }: { draft: GptDraft; catalog: ModelCatalog | null }) {
  const { t } = useGptsI18n();
  const ids = useId();
  const { fields, change } = draft;

  return (
    <div className="gpt-configure">
      <AvatarField draft={draft} t={t} />
      <TextField
        label={t('configure.name')}
        placeholder={t('configure.namePlaceholder')}
        value={fields.name}
        maxLength={GPT_LIMITS.name}
        onChange={(event) => change({ name: event.target.value })}
      />
      <TextField
        label={t('configure.description')}
        placeholder={t('configure.descriptionPlaceholder')}
        value={fields.description}
        maxLength={GPT_LIMITS.description}
        onChange={(event) => change({ description: event.target.value })}
      />
      <TextArea
        label={t('configure.instructions')}
        placeholder={t('configure.instructionsPlaceholder')}
        hint={t('configure.instructionsHint')}
        counter={`${fields.instructions.length.toLocaleString()} / ${GPT_LIMITS.instructions.toLocaleString()}`}
        rows={8}
        value={fields.instructions}
        maxLength={GPT_LIMITS.instructions}
        onChange={(event) => change({ instructions: event.target.value })}
      />

      <fieldset className="gpt-fieldset">
        <legend>{t('configure.starters')}</legend>
        <ul className="gpt-starter-fields">
          {fields.conversation_starters.map((starter, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions; their text is being typed.
            <li key={index}>
              <input
                type="text"
                value={starter}
                maxLength={GPT_LIMITS.conversationStarter}
                aria-label={t('configure.starterLabel', { number: index + 1 })}
                placeholder={t('configure.starterPlaceholder')}
                onChange={(event) =>
                  change({
                    conversation_starters: fields.conversation_starters.map((value, at) =>
                      at === index ? event.target.value : value,
                    ),
                  })
                }
              />
              <IconButton
                icon="close"
                size="small"
                label={t('configure.removeStarter', { number: index + 1 })}
                onClick={() =>
                  change(
                    { conversation_starters: fields.conversation_starters.filter((_, at) => at !== index) },
                    { immediate: true },
                  )
                }
              />
            </li>
          ))}
        </ul>
        <Button
          size="small"
          variant="secondary"
          disabled={fields.conversation_starters.length >= GPT_LIMITS.conversationStarters}
          onClick={() => {
            change({ conversation_starters: [...fields.conversation_starters, ''] });
            // The new row takes the focus, ready for typing.
            requestAnimationFrame(() =>
              document.querySelector<HTMLInputElement>('.gpt-starter-fields li:last-child input')?.focus(),
            );
          }}
        >
          {t('configure.addStarter')}
        </Button>
      </fieldset>

      <KnowledgeField draft={draft} t={t} />

      <fieldset className="gpt-fieldset">
        <legend>{t('configure.capabilities')}</legend>
        {(['browsing', 'image_generation', 'code_interpreter'] as const).map((name) => (
          <Capability
            key={name}
            name={name}
            checked={fields.capabilities[name]}
            // Image generation needs an image model; one already on can always be turned off.
            disabled={name === 'image_generation' && !catalog?.imageModel && !fields.capabilities[name]}
            t={t}
            onChange={(checked) =>
              change({ capabilities: { ...fields.capabilities, [name]: checked } }, { immediate: true })
            }
            hint={
              name === 'image_generation' && !catalog?.imageModel
                ? t('capability.image_generation.unavailable')
                : t(`capability.${name}.hint`)
            }
          />
        ))}
      </fieldset>

      <div className="field">
        <label htmlFor={`${ids}-model`}>{t('configure.model')}</label>
        <select
          id={`${ids}-model`}
          value={fields.model ?? catalog?.chat[0]?.id ?? ''}
          disabled={!catalog}
          aria-describedby={`${ids}-model-hint`}
          onChange={(event) => change({ model: event.target.value }, { immediate: true })}
        >
          {fields.model && catalog && !catalog.chat.some((model) => model.id === fields.model) ? (
            <option value={fields.model}>{t('configure.modelMissing', { model: fields.model })}</option>
          ) : null}
          {catalog?.chat.map((model) => (
            <option key={model.id} value={model.id}>
              {model.id}
            </option>
          ))}
        </select>
        <p id={`${ids}-model-hint`} className="field-hint">
          {t('configure.modelHint')}
        </p>
      </div>

      <ActionsSection draft={draft} />
    </div>
  );
}

function Capability({
  name,
  checked,
  disabled,
  hint,
  onChange,
  t,
}: {
  name: CapabilityName;
  checked: boolean;
  disabled: boolean;
  hint: string;
  onChange: (checked: boolean) => void;
  t: GptsTranslate;
}) {
  const id = useId();
  return (
    <div className={`gpt-capability${disabled ? ' gpt-capability-disabled' : ''}`}>
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
        onChange={(event) => onChange(event.target.checked)}
      />
      <div>
        <label htmlFor={id}>{t(`capability.${name}`)}</label>
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      </div>
    </div>
  );
}

function AvatarField({ draft, t }: { draft: GptDraft; t: GptsTranslate }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const avatar = draft.fields.avatar_file_id;

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    if (!AVATAR_TYPES.includes(file.type)) {
      setError(t('configure.avatarType'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const uploaded = await uploadFile(file, 'vision');
      draft.change({ avatar_file_id: uploaded.id }, { immediate: true });
    } catch (failure) {
      setError(t('configure.uploadFailed', { message: (failure as Error).message }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="gpt-avatar-field">
      <GptAvatar
        gptId={draft.gpt?.id ?? null}
        avatarFileId={draft.gpt?.draft.avatar_file_id === avatar ? avatar : null}
        size={72}
        alt={t('configure.avatar')}
      />
      <div className="gpt-avatar-actions">
        <input
          ref={input}
          type="file"
          accept={AVATAR_TYPES.join(',')}
          className="sr-only"
          tabIndex={-1}
          aria-label={t('configure.uploadAvatar')}
          onChange={(event) => void onFile(event)}
        />
        <Button size="small" icon="paperclip" busy={busy} onClick={() => input.current?.click()}>
          {avatar ? t('configure.changeAvatar') : t('configure.uploadAvatar')}
        </Button>
        {avatar ? (
          <Button
            size="small"
            variant="ghost"
            onClick={() => draft.change({ avatar_file_id: null }, { immediate: true })}
          >
            {t('configure.removeAvatar')}
          </Button>
        ) : null}
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </div>
  );
}

function KnowledgeField({ draft, t }: { draft: GptDraft; t: GptsTranslate }) {
  const input = useRef<HTMLInputElement>(null);
  const [uploading, setUploading] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [known, setKnown] = useState<Readonly<Record<string, FileInfo>>>({});
  const fileIds = draft.fields.knowledge_file_ids;
  const asked = useQueries({
    queries: fileIds.map((fileId) => ({
      queryKey: ['gpts', 'file', fileId],
      queryFn: () => getFile(fileId),
      enabled: !known[fileId],
      staleTime: Number.POSITIVE_INFINITY,
      retry: false,
    })),
  });
  const full = fileIds.length >= GPT_LIMITS.knowledgeFiles;

  const onFiles = async (event: ChangeEvent<HTMLInputElement>) => {
    const files = [...(event.target.files ?? [])];
    event.target.value = '';
    setError(null);
    const added: FileInfo[] = [];
    for (const file of files.slice(0, GPT_LIMITS.knowledgeFiles - fileIds.length)) {
      setUploading(file.name);
      try {
        added.push(await uploadFile(file, 'assistants'));
      } catch (failure) {
        setError(t('configure.uploadFailedNamed', { name: file.name, message: (failure as Error).message }));
        break;
      }
    }
    setUploading(null);
    if (added.length === 0) return;
    setKnown((current) => ({ ...current, ...Object.fromEntries(added.map((file) => [file.id, file])) }));
    draft.change(
      { knowledge_file_ids: [...draft.fields.knowledge_file_ids, ...added.map((file) => file.id)] },
      { immediate: true },
    );
  };

  return (
    <fieldset className="gpt-fieldset">
      <legend>{t('configure.knowledge')}</legend>
      <p className="field-hint">{t('configure.knowledgeHint')}</p>
      {fileIds.length > 0 ? (
        <ul className="gpt-files" aria-label={t('configure.knowledgeFiles')}>
          {fileIds.map((fileId, index) => {
            const info = known[fileId] ?? asked[index]?.data;
            const name = info?.filename ?? fileId;
            return (
              <li key={fileId} className="gpt-file">
                <Icon name="file" size={18} />
                <span className="gpt-file-name">{name}</span>
                {info ? <span className="gpt-file-size">{formatBytes(info.bytes)}</span> : null}
                <IconButton
                  icon="trash"
                  size="small"
                  label={t('configure.removeFile', { name })}
                  onClick={() =>
                    draft.change(
                      { knowledge_file_ids: draft.fields.knowledge_file_ids.filter((id) => id !== fileId) },
                      { immediate: true },
                    )
                  }
                />
              </li>
            );
          })}
        </ul>
      ) : null}
      <input
        ref={input}
        type="file"
        multiple
        className="sr-only"
        tabIndex={-1}
        aria-label={t('configure.uploadFiles')}
        onChange={(event) => void onFiles(event)}
      />
      <div className="gpt-row">
        <Button
          size="small"
          icon="paperclip"
          busy={uploading !== null}
          disabled={full}
          onClick={() => input.current?.click()}
        >
          {t('configure.uploadFiles')}
        </Button>
        {uploading ? (
          <span className="field-hint" role="status">
            {t('configure.uploading', { name: uploading })}
          </span>
        ) : null}
      </div>
      {full ? (
        <p className="field-hint">{t('configure.knowledgeFull', { count: GPT_LIMITS.knowledgeFiles })}</p>
      ) : null}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
