// The model menu in the chat's header: the models this server serves, the chosen one ticked.
import type { Model } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { Icon } from '../../ui/icons';
import { Menu } from '../../ui/menu';

export function ModelMenu({
  models,
  model,
  onChange,
}: {
  models: readonly Model[];
  model: string | null;
  onChange: (model: string) => void;
}) {
  const { t } = useI18n();
  if (models.length === 0) return <span className="model-menu-empty">{t('chat.noModels')}</span>;
  return (
    <Menu
      label={t('chat.modelMenu', { model: model ?? '' })}
      triggerClassName="model-menu"
      trigger={
        <>
          <span className="model-menu-name">{model}</span>
          <Icon name="chevron-down" size={16} />
        </>
      }
      items={models.map((entry) => ({
        key: entry.id,
        label: entry.id,
        description: entry.atelier?.provider
          ? `${entry.atelier.provider}${entry.atelier.context_length ? ` · ${Math.round(entry.atelier.context_length / 1024)}K` : ''}`
          : undefined,
        checked: entry.id === model,
        onSelect: () => onChange(entry.id),
      }))}
    />
  );
}
