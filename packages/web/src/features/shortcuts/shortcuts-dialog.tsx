// The list of keyboard shortcuts (Ctrl+/ or ⌘/).
import { useI18n } from '../../i18n/i18n';
import { Dialog } from '../../ui/dialog';
import { keysOf, SHORTCUTS } from './shortcuts';

export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const rows = [
    ...SHORTCUTS.map((shortcut) => ({ label: t(shortcut.label), keys: keysOf(shortcut) })),
    { label: t('shortcuts.send'), keys: ['Enter'] },
    { label: t('shortcuts.newline'), keys: ['Shift', 'Enter'] },
  ];
  return (
    <Dialog open={open} title={t('shortcuts.title')} onClose={onClose} closeLabel={t('common.close')}>
      <dl className="shortcuts">
        {rows.map((row) => (
          <div key={row.label} className="shortcut-row">
            <dt>{row.label}</dt>
            <dd>
              {row.keys.map((key) => (
                <kbd key={key}>{key}</kbd>
              ))}
            </dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
