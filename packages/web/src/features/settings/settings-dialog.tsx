// Settings in a dialog with tabs (WAI-ARIA tabs: arrow keys move between them), reachable at
// /settings/<tab> so a tab can be linked to. Loaded on first use, not with the app.
import { type ComponentType, type KeyboardEvent, useRef } from 'react';
import type { SignedInSession } from '../../api/types';
import type { MessageKey } from '../../i18n/en';
import { useI18n } from '../../i18n/i18n';
import { Dialog } from '../../ui/dialog';
import { Icon, type IconName } from '../../ui/icons';
import { AccountTab } from './account-tab';
import { ApiKeysTab } from './api-keys-tab';
import { DataControlsTab } from './data-controls-tab';
import { GeneralTab } from './general-tab';
import { PersonalizationTab } from './personalization-tab';

const TABS = [
  { id: 'general', icon: 'settings', label: 'settings.general', Panel: GeneralTab },
  { id: 'personalization', icon: 'sparkle', label: 'settings.personalization', Panel: PersonalizationTab },
  { id: 'data-controls', icon: 'database', label: 'settings.dataControls', Panel: DataControlsTab },
  { id: 'api-keys', icon: 'key', label: 'settings.apiKeys', Panel: ApiKeysTab },
  { id: 'account', icon: 'user', label: 'settings.account', Panel: AccountTab },
] as const satisfies ReadonlyArray<{
  id: string;
  icon: IconName;
  label: MessageKey;
  Panel: ComponentType<{ session: SignedInSession; onShowShortcuts: () => void }>;
}>;

export default function SettingsDialog({
  tab,
  session,
  onSelectTab,
  onClose,
  onShowShortcuts,
}: {
  tab: string;
  session: SignedInSession;
  onSelectTab: (tab: string) => void;
  onClose: () => void;
  onShowShortcuts: () => void;
}) {
  const { t } = useI18n();
  const current = TABS.find((candidate) => candidate.id === tab) ?? TABS[0];
  const tabList = useRef<HTMLDivElement>(null);

  const onKeyDown = (event: KeyboardEvent) => {
    const index = TABS.findIndex((candidate) => candidate.id === current.id);
    const step =
      event.key === 'ArrowDown' || event.key === 'ArrowRight'
        ? 1
        : event.key === 'ArrowUp' || event.key === 'ArrowLeft'
          ? -1
          : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length]!;
    onSelectTab(next.id);
    requestAnimationFrame(() =>
      tabList.current?.querySelector<HTMLElement>(`#settings-tab-${next.id}`)?.focus(),
    );
  };

  const Panel = current.Panel;
  return (
    <Dialog open title={t('settings.title')} onClose={onClose} closeLabel={t('common.close')} size="large">
      <div className="settings">
        <div
          className="settings-tabs"
          role="tablist"
          aria-orientation="vertical"
          ref={tabList}
          onKeyDown={onKeyDown}
        >
          {TABS.map((candidate) => (
            <button
              key={candidate.id}
              id={`settings-tab-${candidate.id}`}
              type="button"
              role="tab"
              aria-selected={candidate.id === current.id}
              aria-controls="settings-panel"
              tabIndex={candidate.id === current.id ? 0 : -1}
              className="settings-tab"
              onClick={() => onSelectTab(candidate.id)}
            >
              <Icon name={candidate.icon} size={18} />
              <span>{t(candidate.label)}</span>
            </button>
          ))}
        </div>
        <div
          className="settings-panel"
          id="settings-panel"
          role="tabpanel"
          aria-labelledby={`settings-tab-${current.id}`}
        >
          <Panel key={current.id} session={session} onShowShortcuts={onShowShortcuts} />
        </div>
      </div>
    </Dialog>
  );
}
