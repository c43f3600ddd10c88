// Theme and language, applied at once and saved to the account.
import type { SignedInSession, Theme } from '../../api/types';
import { LANGUAGES, type Language, useI18n } from '../../i18n/i18n';
import { setTheme, useTheme } from '../../theme/theme';
import { Button } from '../../ui/button';
import { Icon, type IconName } from '../../ui/icons';
import { useSavePreferences } from './use-preferences';

const THEMES: ReadonlyArray<{ value: Theme; icon: IconName }> = [
  { value: 'system', icon: 'monitor' },
  { value: 'light', icon: 'sun' },
  { value: 'dark', icon: 'moon' },
];

export function GeneralTab({ onShowShortcuts }: { session: SignedInSession; onShowShortcuts: () => void }) {
  const { t, choice, setChoice } = useI18n();
  const theme = useTheme();
  const save = useSavePreferences();

  return (
    <div className="settings-section">
      <fieldset className="setting-row">
        <legend>{t('settings.theme')}</legend>
        <div className="segmented">
          {THEMES.map(({ value, icon }) => (
            <label key={value} className={`segment${theme === value ? ' segment-checked' : ''}`}>
              <input
                type="radio"
                name="theme"
                value={value}
                checked={theme === value}
                onChange={() => {
                  setTheme(value);
                  save.mutate({ theme: value });
                }}
              />
              <Icon name={icon} size={16} />
              <span>{t(`settings.theme.${value}`)}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="setting-row">
        <label htmlFor="settings-language">{t('settings.language')}</label>
        <select
          id="settings-language"
          value={choice ?? ''}
          onChange={(event) => {
            const next = (event.target.value || null) as Language | null;
            setChoice(next);
            save.mutate({ language: next });
          }}
        >
          <option value="">{t('settings.language.auto')}</option>
          {LANGUAGES.map((language) => (
            <option key={language.code} value={language.code} lang={language.code}>
              {language.name}
            </option>
          ))}
        </select>
      </div>
      <div className="setting-row">
        <span id="settings-shortcuts">{t('settings.shortcuts')}</span>
        <Button size="small" icon="keyboard" aria-describedby="settings-shortcuts" onClick={onShowShortcuts}>
          {t('settings.shortcutsShow')}
        </Button>
      </div>
    </div>
  );
}
