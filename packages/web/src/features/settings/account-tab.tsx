// The account: who is signed in, signing out, and deleting the account (password required).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, api, setCsrfToken } from '../../api/http';
import type { SignedInSession } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button } from '../../ui/button';
import { TextField } from '../../ui/text-field';
import { SESSION_KEY, useSignOut } from '../auth/use-session';

export function AccountTab({ session }: { session: SignedInSession; onShowShortcuts: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const signOut = useSignOut();
  const [password, setPassword] = useState('');
  const remove = useMutation({
    mutationFn: () => api<void>('/api/account', { method: 'DELETE', body: { password } }),
    onSuccess: async () => {
      setCsrfToken(null);
      queryClient.clear();
      await queryClient.invalidateQueries({ queryKey: SESSION_KEY });
      navigate('/sign-up', { replace: true });
    },
  });
  const error =
    remove.error instanceof ApiError
      ? remove.error.code === 'invalid_credentials'
        ? t('account.wrongPassword')
        : remove.error.code === 'last_owner'
          ? t('account.lastOwner')
          : remove.error.message
      : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password) remove.mutate();
  };

  return (
    <div className="settings-section">
      <dl className="account-facts">
        <div>
          <dt>{t('account.name')}</dt>
          <dd>{session.account.name}</dd>
        </div>
        <div>
          <dt>{t('account.email')}</dt>
          <dd>{session.account.email}</dd>
        </div>
      </dl>
      <div className="settings-actions settings-actions-start">
        <Button icon="sign-out" onClick={() => signOut.mutate()} busy={signOut.isPending}>
          {t('account.signOut')}
        </Button>
      </div>
      <form className="danger-zone" onSubmit={submit}>
        <h3>{t('account.delete')}</h3>
        <p>{t('account.deleteHint')}</p>
        <TextField
          label={t('account.deletePassword')}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={error}
        />
        <Button type="submit" variant="danger" icon="trash" disabled={!password} busy={remove.isPending}>
          {t('account.deleteButton')}
        </Button>
      </form>
    </div>
  );
}
