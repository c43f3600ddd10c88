// Sign in and sign up: one centred card, the two forms a link apart. Errors the server names by
// code are shown in the person's language, next to the field they concern.
import { type FormEvent, useState } from 'react';
import { ApiError } from '../../api/http';
import { type Translate, useI18n } from '../../i18n/i18n';
import { navigate } from '../../router';
import { Button } from '../../ui/button';
import { Icon } from '../../ui/icons';
import { TextField } from '../../ui/text-field';
import { useSignIn, useSignUp } from './use-session';

export function AuthPage({
  mode,
  signUpOpen,
  firstPerson,
}: {
  mode: 'sign-in' | 'sign-up';
  signUpOpen: boolean;
  firstPerson: boolean;
}) {
  const { t } = useI18n();
  const signIn = useSignIn();
  const signUp = useSignUp();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [showPassword, setShowPassword] = useState(false);
  const signingUp = mode === 'sign-up';
  const mutation = signingUp ? signUp : signIn;
  const error = mutation.error ? describe(mutation.error, t) : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (signingUp) signUp.mutate({ name: name.trim(), email: email.trim(), password });
    else signIn.mutate({ email: email.trim(), password });
  };

  const switchTo = (next: 'sign-in' | 'sign-up') => {
    signIn.reset();
    signUp.reset();
    navigate(next === 'sign-in' ? '/sign-in' : '/sign-up');
  };

  return (
    <main className="auth">
      <div className="auth-card">
        <img className="auth-logo" src="/favicon.svg" alt="" width={48} height={48} />
        <h1>{signingUp ? t('auth.signUp.title') : t('auth.signIn.title')}</h1>
        <p className="auth-subtitle">{signingUp ? t('auth.signUp.subtitle') : t('auth.signIn.subtitle')}</p>
        {signingUp && !signUpOpen ? (
          <p className="auth-note" role="note">
            {t('auth.signUp.closed')}
          </p>
        ) : (
          <form className="auth-form" onSubmit={submit}>
            {signingUp && firstPerson ? (
              <p className="auth-note" role="note">
                {t('auth.signUp.firstUser')}
              </p>
            ) : null}
            {signingUp ? (
              <TextField
                label={t('auth.name')}
                name="name"
                autoComplete="name"
                required
                maxLength={100}
                value={name}
                onChange={(event) => setName(event.target.value)}
                error={error?.param === 'name' ? error.message : null}
              />
            ) : null}
            <TextField
              label={t('auth.email')}
              name="email"
              type="email"
              autoComplete={signingUp ? 'email' : 'username'}
              required
              maxLength={254}
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              error={error?.param === 'email' ? error.message : null}
            />
            <div className="password-field">
              <TextField
                label={t('auth.password')}
                name="password"
                type={showPassword ? 'text' : 'password'}
                autoComplete={signingUp ? 'new-password' : 'current-password'}
                required
                minLength={signingUp ? 8 : undefined}
                value={password}
                onChange={(event) => setPassword(event.target.value)}
                hint={signingUp ? t('auth.passwordHint') : undefined}
                error={error?.param === 'password' ? error.message : null}
              />
              <button
                type="button"
                className="password-toggle"
                aria-pressed={showPassword}
                aria-label={showPassword ? t('auth.hidePassword') : t('auth.showPassword')}
                title={showPassword ? t('auth.hidePassword') : t('auth.showPassword')}
                onClick={() => setShowPassword((value) => !value)}
              >
                <Icon name={showPassword ? 'eye-off' : 'eye'} size={18} />
              </button>
            </div>
            {error && !error.param ? (
              <p className="form-error" role="alert">
                {error.message}
              </p>
            ) : null}
            <Button type="submit" variant="primary" size="large" busy={mutation.isPending}>
              {signingUp ? t('auth.signUp.submit') : t('auth.signIn.submit')}
            </Button>
          </form>
        )}
        <p className="auth-switch">
          {signingUp ? t('auth.toSignIn') : t('auth.toSignUp')}{' '}
          <a
            href={signingUp ? '/sign-in' : '/sign-up'}
            onClick={(event) => {
              event.preventDefault();
              switchTo(signingUp ? 'sign-in' : 'sign-up');
            }}
          >
            {signingUp ? t('auth.toSignInLink') : t('auth.toSignUpLink')}
          </a>
        </p>
      </div>
    </main>
  );
}

function describe(error: Error, t: Translate): { message: string; param: string | null } {
  if (!(error instanceof ApiError))
    return { message: t('common.error', { message: error.message }), param: null };
  switch (error.code) {
    case 'invalid_credentials':
      return { message: t('auth.error.invalidCredentials'), param: null };
    case 'email_taken':
      return { message: t('auth.error.emailTaken'), param: 'email' };
    case 'sign_up_closed':
      return { message: t('auth.error.signUpClosed'), param: null };
    case 'rate_limit_exceeded':
      return { message: t('auth.error.tooMany'), param: null };
    case 'password_too_short':
      return { message: t('auth.error.passwordTooShort'), param: 'password' };
    default:
      if (error.param === 'email') return { message: t('auth.error.invalidEmail'), param: 'email' };
      return { message: error.message, param: null };
  }
}
