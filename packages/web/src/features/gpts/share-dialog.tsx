// Publishing a GPT: who may use it (only me, anyone with the link, my workspace, everyone), its
// category, whether chats with it may improve models; then the draft becomes the next version.
// Afterwards the dialog shows the version published and the link to share.
import { useEffect, useId, useState } from 'react';
import { ApiError } from '../../api/http';
import { Button } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { Dialog } from '../../ui/dialog';
import { Switch } from '../../ui/switch';
import { useToast } from '../../ui/toast';
import {
  GPT_VISIBILITIES,
  type Gpt,
  type GptVisibility,
  publishGpt,
  type SharingChanges,
  shareLinkUrl,
  updateSharing,
} from './gpts-api';
import type { GptsKey } from './gpts-en';
import { useGptsI18n } from './gpts-i18n';

export const CATEGORIES = [
  'writing',
  'productivity',
  'research',
  'programming',
  'education',
  'lifestyle',
  'other',
] as const;

export interface ShareDialogProps {
  readonly open: boolean;
  readonly gpt: Gpt | null;
  /** Saves the draft's pending edits first: they belong in the version published. */
  readonly flush: () => Promise<Gpt | null>;
  readonly onSaved: (gpt: Gpt) => void;
  readonly onClose: () => void;
  readonly onView: (gptId: string) => void;
}

export function ShareDialog({ open, gpt, flush, onSaved, onClose, onView }: ShareDialogProps) {
  const { t } = useGptsI18n();
  const toast = useToast();
  const ids = useId();
  const [visibility, setVisibility] = useState<GptVisibility>('private');
  const [category, setCategory] = useState<string>('');
  const [allowTraining, setAllowTraining] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Gpt | null>(null);

  // Each opening starts from the GPT as stored.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only on opening, not on every save.
  useEffect(() => {
    if (!open) return;
    setVisibility(gpt?.visibility ?? 'private');
    setCategory(gpt?.category ?? '');
    setAllowTraining(gpt?.allow_training ?? false);
    setError(null);
    setDone(null);
  }, [open]);

  const needsPublish = !gpt?.published || gpt.has_unpublished_changes;
  const action = !gpt?.published ? t('share.publish') : needsPublish ? t('share.update') : t('share.save');

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      let stored = await flush();
      if (!stored) throw new Error(t('share.nothingYet'));
      const changes: SharingChanges = {};
      if (visibility !== stored.visibility) changes.visibility = visibility;
      if ((category || null) !== stored.category) changes.category = category || null;
      if (allowTraining !== stored.allow_training) changes.allow_training = allowTraining;
      if (Object.keys(changes).length > 0) stored = await updateSharing(stored.id, changes);
      if (!stored.published || stored.has_unpublished_changes) stored = await publishGpt(stored.id);
      onSaved(stored);
      setDone(stored);
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.code === 'gpt_name_required'
          ? t('share.nameRequired')
          : t('common.error', { message: (failure as Error).message }),
      );
    } finally {
      setBusy(false);
    }
  };

  const link = gpt?.link_token ? shareLinkUrl(gpt.link_token) : null;
  const copyLink = async () => {
    if (!link) return;
    try {
      await copyText(link);
      toast(t('share.copied'));
    } catch (failure) {
      toast(t('common.error', { message: (failure as Error).message }), 'error');
    }
  };

  return (
    <Dialog
      open={open}
      title={done ? t('share.doneTitle') : t('share.title')}
      onClose={onClose}
      closeLabel={t('common.close')}
      className="gpt-share-dialog"
    >
      {done ? (
        <>
          <div className="dialog-body">
            <p role="status">
              {t('share.done', {
                version: done.published?.version ?? 1,
                audience: t(`visibility.${done.visibility}`),
              })}
            </p>
            {done.visibility === 'link' || done.visibility === 'public' ? (
              <LinkField link={link} label={t('share.link')} copyLabel={t('share.copy')} onCopy={copyLink} />
            ) : null}
          </div>
          <footer className="dialog-footer">
            <Button onClick={onClose}>{t('common.close')}</Button>
            <Button variant="primary" onClick={() => onView(done.id)}>
              {t('share.view')}
            </Button>
          </footer>
        </>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <div className="dialog-body gpt-share-body">
            <fieldset className="gpt-visibility">
              <legend>{t('share.audience')}</legend>
              {GPT_VISIBILITIES.map((option) => (
                <label key={option} className="gpt-visibility-option">
                  <input
                    type="radio"
                    name={`${ids}-visibility`}
                    value={option}
                    checked={visibility === option}
                    onChange={() => setVisibility(option)}
                  />
                  <span>
                    <span className="gpt-visibility-label">{t(`visibility.${option}`)}</span>
                    <span className="field-hint">{t(`visibility.${option}.hint`)}</span>
                  </span>
                </label>
              ))}
            </fieldset>
            {visibility === 'link' || visibility === 'public' ? (
              <LinkField link={link} label={t('share.link')} copyLabel={t('share.copy')} onCopy={copyLink} />
            ) : null}
            <div className="field">
              <label htmlFor={`${ids}-category`}>{t('share.category')}</label>
              <select
                id={`${ids}-category`}
                value={category}
                onChange={(event) => setCategory(event.target.value)}
              >
                <option value="">{t('share.noCategory')}</option>
                {category && !(CATEGORIES as readonly string[]).includes(category) ? (
                  <option value={category}>{category}</option>
                ) : null}
                {CATEGORIES.map((option) => (
                  <option key={option} value={option}>
                    {t(`category.${option}` as GptsKey)}
                  </option>
                ))}
              </select>
            </div>
            <Switch
              label={t('share.training')}
              hint={t('share.trainingHint')}
              checked={allowTraining}
              onChange={setAllowTraining}
            />
            {gpt?.published ? (
              <p className="field-hint">{t('share.current', { version: gpt.published.version })}</p>
            ) : null}
            {error ? (
              <p className="form-error" role="alert">
                {error}
              </p>
            ) : null}
          </div>
          <footer className="dialog-footer">
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" busy={busy}>
              {action}
            </Button>
          </footer>
        </form>
      )}
    </Dialog>
  );
}

export function categoryLabel(t: (key: GptsKey) => string, category: string): string {
  return (CATEGORIES as readonly string[]).includes(category)
    ? t(`category.${category}` as GptsKey)
    : category;
}

function LinkField({
  link,
  label,
  copyLabel,
  onCopy,
}: {
  link: string | null;
  label: string;
  copyLabel: string;
  onCopy: () => void;
}) {
  const id = useId();
  if (!link) return null;
  return (
    <div className="field gpt-link-field">
      <label htmlFor={id}>{label}</label>
      <div className="gpt-row">
        <input id={id} type="text" readOnly value={link} onFocus={(event) => event.target.select()} />
        <Button icon="copy" onClick={onCopy}>
          {copyLabel}
        </Button>
      </div>
    </div>
  );
}
