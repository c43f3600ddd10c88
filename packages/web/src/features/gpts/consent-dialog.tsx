// Asks the person before a GPT's action sends data to another domain: what would be sent
// (method, URL, body) in a collapsible, then Allow / Always allow (when the server says it may be
// remembered) / Decline; or, for an OAuth action not signed in yet, a button that signs in.
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import type { ConsentDecision, PendingAction } from './actions-api';
import { useGptsI18n } from './gpts-i18n';

export interface ConsentDialogProps {
  readonly gptName: string;
  readonly pending: PendingAction | null;
  readonly busy: boolean;
  readonly error: string | null;
  readonly onDecide: (decision: ConsentDecision) => void;
  readonly onSignIn: () => void;
}

export function ConsentDialog({ gptName, pending, busy, error, onDecide, onSignIn }: ConsentDialogProps) {
  const { t } = useGptsI18n();
  const preview = pending?.preview ?? null;
  const body =
    preview?.body === undefined || preview.body === null
      ? null
      : typeof preview.body === 'string'
        ? preview.body
        : JSON.stringify(preview.body, null, 2);
  return (
    <Dialog
      open={pending !== null}
      title={t('consent.title', { name: gptName, domain: pending?.domain ?? '' })}
      closeLabel={t('common.close')}
      className="gpt-consent-dialog"
      onClose={() => {
        if (!busy) onDecide('decline');
      }}
    >
      {pending ? (
        <>
          <div className="dialog-body gpt-consent">
            <p>
              {pending.type === 'oauth_required'
                ? t('consent.oauthIntro', { domain: pending.domain })
                : t('consent.intro', { domain: pending.domain })}
            </p>
            {preview ? (
              <details className="gpt-consent-preview">
                <summary>{t('consent.details')}</summary>
                <dl>
                  <dt>{t('consent.method')}</dt>
                  <dd>
                    <code>{preview.method.toUpperCase()}</code>
                  </dd>
                  <dt>{t('consent.url')}</dt>
                  <dd>
                    <code>{preview.url}</code>
                  </dd>
                  {body !== null ? (
                    <>
                      <dt>{t('consent.body')}</dt>
                      <dd>
                        <pre>{body}</pre>
                      </dd>
                    </>
                  ) : null}
                </dl>
              </details>
            ) : null}
            {error ? (
              <p className="gpt-message-error" role="alert">
                {t('common.error', { message: error })}
              </p>
            ) : null}
          </div>
          <footer className="dialog-footer gpt-consent-actions">
            <Button variant="secondary" disabled={busy} onClick={() => onDecide('decline')}>
              {t('consent.decline')}
            </Button>
            {pending.type === 'oauth_required' ? (
              <Button variant="primary" disabled={busy} onClick={onSignIn}>
                {t('consent.signIn', { domain: pending.domain })}
              </Button>
            ) : (
              <>
                {pending.can_always_allow ? (
                  <Button variant="secondary" disabled={busy} onClick={() => onDecide('always_allow')}>
                    {t('consent.alwaysAllow')}
                  </Button>
                ) : null}
                <Button variant="primary" disabled={busy} onClick={() => onDecide('allow_once')}>
                  {t('consent.allow')}
                </Button>
              </>
            )}
          </footer>
        </>
      ) : null}
    </Dialog>
  );
}
