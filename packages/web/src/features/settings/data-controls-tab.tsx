// Data controls: "chat history & training". Off, every new chat is temporary: not listed in the
// history on any device, never used for training, deleted 30 days after it was created.
import type { SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { Switch } from '../../ui/switch';
import { useToast } from '../../ui/toast';
import { useSavePreferences } from './use-preferences';

export function DataControlsTab({ session }: { session: SignedInSession; onShowShortcuts: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const save = useSavePreferences();
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
    </div>
  );
}
