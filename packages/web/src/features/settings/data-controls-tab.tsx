// Data controls: "chat history & training". Off, every new chat is temporary: not listed in the
// history on any device, never used for training, deleted 30 days after it was created. And
// "Export data": everything the person keeps here as one JSON file (GET /api/account/export).
import { useId } from 'react';
import type { SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { Icon } from '../../ui/icons';
import { Switch } from '../../ui/switch';
import { useToast } from '../../ui/toast';
import { useSavePreferences } from './use-preferences';

export function DataControlsTab({ session }: { session: SignedInSession; onShowShortcuts: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const save = useSavePreferences();
  const exportId = useId();
  return (
    <div className="settings-section">
      <Switch
        label={t('dataControls.history')}
        hint={t('dataControls.historyHint')}
        checked={
          save.isPending ? !!save.variables?.chat_history_enabled : session.preferences.chat_history_enabled
        }
        disabled={save.isPending}
        onChange={(enabled) =>
          save.mutate(
            { chat_history_enabled: enabled },
            {
              onSuccess: () => toast(t('dataControls.saved')),
              onError: (error) => toast(t('common.error', { message: error.message }), 'error'),
            },
          )
        }
      />
      <div className="switch-row">
        <div className="switch-text">
          <span id={`${exportId}-label`} className="settings-row-label">
            {t('dataControls.export')}
          </span>
          <p id={`${exportId}-hint`} className="field-hint">
            {t('dataControls.exportHint')}
          </p>
        </div>
        {/* A plain download: the server names the file (atelier-export-<date>.json). */}
        <a
          className="button button-secondary button-medium"
          href="/api/account/export"
          download
          aria-describedby={`${exportId}-hint`}
        >
          <Icon name="download" size={18} />
          {t('dataControls.exportButton')}
        </a>
      </div>
    </div>
  );
}
