// Custom instructions: what the model should know about the person and how it should answer,
// sent as a system message with every new answer while switched on.
import { type FormEvent, useState } from 'react';
import type { SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { Button } from '../../ui/button';
import { Switch } from '../../ui/switch';
import { TextArea } from '../../ui/text-field';
import { useToast } from '../../ui/toast';
import { useSavePreferences } from './use-preferences';

const MAX = 1500;

export function PersonalizationTab({ session }: { session: SignedInSession; onShowShortcuts: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const save = useSavePreferences();
  const [enabled, setEnabled] = useState(session.preferences.custom_instructions_enabled);
  const [aboutMe, setAboutMe] = useState(session.preferences.about_me);
  const [responseStyle, setResponseStyle] = useState(session.preferences.response_style);
  const changed =
    enabled !== session.preferences.custom_instructions_enabled ||
    aboutMe !== session.preferences.about_me ||
    responseStyle !== session.preferences.response_style;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      { custom_instructions_enabled: enabled, about_me: aboutMe, response_style: responseStyle },
      {
        onSuccess: () => toast(t('personalization.saved')),
        onError: (error) => toast(t('common.error', { message: error.message }), 'error'),
      },
    );
  };

  return (
    <form className="settings-section" onSubmit={submit}>
      <Switch
        label={t('personalization.enabled')}
        hint={t('personalization.enabledHint')}
        checked={enabled}
        onChange={setEnabled}
      />
      <TextArea
        label={t('personalization.aboutMe')}
        placeholder={t('personalization.aboutMePlaceholder')}
        value={aboutMe}
        maxLength={MAX}
        rows={5}
        disabled={!enabled}
        counter={t('personalization.count', { count: aboutMe.length, max: MAX })}
        onChange={(event) => setAboutMe(event.target.value)}
      />
      <TextArea
        label={t('personalization.responseStyle')}
        placeholder={t('personalization.responseStylePlaceholder')}
        value={responseStyle}
        maxLength={MAX}
        rows={5}
        disabled={!enabled}
        counter={t('personalization.count', { count: responseStyle.length, max: MAX })}
        onChange={(event) => setResponseStyle(event.target.value)}
      />
      <div className="settings-actions">
        <Button type="submit" variant="primary" disabled={!changed} busy={save.isPending}>
          {t('common.save')}
        </Button>
      </div>
    </form>
  );
}
