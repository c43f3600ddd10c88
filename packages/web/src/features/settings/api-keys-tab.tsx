// API keys of the workspaces the person belongs to: a new key's secret is shown once, with a
// copy button; keys are listed by name and redacted value, and can be revoked.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from '../../api/http';
import type { ApiKey, SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { Button, IconButton } from '../../ui/button';
import { copyText } from '../../ui/copy-text';
import { ConfirmDialog } from '../../ui/dialog';
import { TextField } from '../../ui/text-field';
import { useToast } from '../../ui/toast';

export function ApiKeysTab({ session }: { session: SignedInSession; onShowShortcuts: () => void }) {
  const { t, language } = useI18n();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [workspaceId, setWorkspaceId] = useState(session.workspace_id);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const path = `/api/workspaces/${encodeURIComponent(workspaceId)}/api-keys`;
  const keys = useQuery({
    queryKey: ['api-keys', workspaceId],
    queryFn: () => api<{ data: ApiKey[] }>(path).then((page) => page.data),
  });
  const create = useMutation({
    mutationFn: (keyName: string) =>
      api<ApiKey & { secret: string }>(path, { method: 'POST', body: { name: keyName } }),
    onSuccess: (key) => {
      setCreated({ name: key.name, secret: key.secret });
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['api-keys', workspaceId] });
    },
    onError: (error) => toast(t('common.error', { message: error.message }), 'error'),
  });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => api<ApiKey>(`${path}/${encodeURIComponent(key.id)}`, { method: 'DELETE' }),
    onSuccess: () => {
      setRevoking(null);
      void queryClient.invalidateQueries({ queryKey: ['api-keys', workspaceId] });
    },
    onError: (error) => toast(t('common.error', { message: error.message }), 'error'),
  });
  const date = new Intl.DateTimeFormat(language, { dateStyle: 'medium' });
  const baseUrl = `${window.location.origin}/v1`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate(name.trim());
  };

  return (
    <div className="settings-section">
      <p className="settings-intro">{t('apiKeys.intro', { url: baseUrl })}</p>
      {session.workspaces.length > 1 ? (
        <div className="setting-row">
          <label htmlFor="api-keys-workspace">{t('apiKeys.workspace')}</label>
          <select
            id="api-keys-workspace"
            value={workspaceId}
            onChange={(event) => {
              setWorkspaceId(event.target.value);
              setCreated(null);
            }}
          >
            {session.workspaces.map((workspace) => (
              <option key={workspace.id} value={workspace.id}>
                {workspace.kind === 'personal'
                  ? t('apiKeys.personal')
                  : t('apiKeys.team', { name: workspace.name })}
              </option>
            ))}
          </select>
        </div>
      ) : null}

      {created ? (
        <div className="secret-box" role="status">
          <strong>{t('apiKeys.createdTitle')}</strong>
          <p>{t('apiKeys.createdHint')}</p>
          <div className="secret-row">
            <code className="secret" data-testid="new-api-key">
              {created.secret}
            </code>
            <IconButton
              icon="copy"
              label={t('common.copy')}
              onClick={() => void copyText(created.secret).then(() => toast(t('common.copied')))}
            />
          </div>
        </div>
      ) : null}

      <form className="inline-form" onSubmit={submit}>
        <TextField
          label={t('apiKeys.name')}
          placeholder={t('apiKeys.namePlaceholder')}
          value={name}
          maxLength={100}
          onChange={(event) => setName(event.target.value)}
        />
        <Button type="submit" variant="primary" icon="key" busy={create.isPending} disabled={!name.trim()}>
          {t('apiKeys.create')}
        </Button>
      </form>

      {keys.data && keys.data.length === 0 ? <p className="muted">{t('apiKeys.empty')}</p> : null}
      {keys.data && keys.data.length > 0 ? (
        <div className="table-wrap">
          <table className="keys-table">
            <thead>
              <tr>
                <th scope="col">{t('apiKeys.name')}</th>
                <th scope="col">{t('apiKeys.key')}</th>
                <th scope="col" className="hide-narrow">
                  {t('apiKeys.createdAt')}
                </th>
                <th scope="col" className="hide-narrow">
                  {t('apiKeys.lastUsed')}
                </th>
                <th scope="col">
                  <span className="sr-only">{t('apiKeys.revoke')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.redacted_value}</code>
                  </td>
                  <td className="hide-narrow">{date.format(key.created_at * 1000)}</td>
                  <td className="hide-narrow">
                    {key.last_used_at ? date.format(key.last_used_at * 1000) : t('apiKeys.never')}
                  </td>
                  <td>
                    <IconButton
                      icon="trash"
                      size="small"
                      label={t('apiKeys.revokeLabel', { name: key.name })}
                      onClick={() => setRevoking(key)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title={t('apiKeys.revokeTitle')}
        body={<p>{t('apiKeys.revokeBody', { name: revoking?.name ?? '' })}</p>}
        confirmLabel={t('apiKeys.revoke')}
        cancelLabel={t('common.cancel')}
        busy={revoke.isPending}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking)}
      />
    </div>
  );
}
