// The Configure tab's Actions section: the GPT's actions (from /api/actions) with Edit and
// Remove, and the editor that creates or changes one: an OpenAPI schema pasted or imported from
// a URL, previewed live as its operations (or its problems), its authentication and its privacy
// policy. Saving stores the action and adds its id to the draft's `action_ids`. Secrets are
// write-only: a stored one shows as "saved" and is kept unless something new is typed.
import { useQueries, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { TextArea, TextField } from '../../ui/text-field';
import {
  type Action,
  type ActionAuthParams,
  type ActionPreview,
  type ActionSource,
  type ApiKeyScheme,
  createAction,
  deleteAction,
  getAction,
  oauthCallbackUrl,
  previewAction,
  updateAction,
} from './actions-api';
import { GPT_LIMITS } from './gpts-api';
import { type GptsTranslate, useGptsI18n } from './gpts-i18n';
import type { GptDraft } from './use-gpt-draft';

const actionKey = (actionId: string) => ['gpts', 'action', actionId] as const;

export function ActionsSection({ draft }: { draft: GptDraft }) {
  const { t } = useGptsI18n();
  const id = useId();
  const queryClient = useQueryClient();
  const actionIds = draft.fields.action_ids;
  const actions = useQueries({
    queries: actionIds.map((actionId) => ({
      queryKey: actionKey(actionId),
      queryFn: () => getAction(actionId),
    })),
  });
  // null: closed; 'new': a new action; else the action being edited.
  const [editing, setEditing] = useState<'new' | Action | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const remove = async (actionId: string) => {
    setRemoving(actionId);
    setError(null);
    try {
      draft.change({ action_ids: actionIds.filter((other) => other !== actionId) }, { immediate: true });
      // The GPT lets go of it first; then the action, made for this GPT, goes.
      await draft.flush();
      await deleteAction(actionId);
      queryClient.removeQueries({ queryKey: actionKey(actionId) });
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setRemoving(null);
    }
  };

  return (
    <section className="gpt-fieldset gpt-actions" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="gpt-legend">
        {t('actions.title')}
      </h3>
      <p className="field-hint">{t('actions.hint')}</p>
      {actionIds.length > 0 ? (
        <ul className="gpt-action-list" aria-label={t('actions.ids')}>
          {actionIds.map((actionId, index) => {
            const query = actions[index];
            const action = query?.data;
            const title = action ? action.title || action.domain : actionId;
            return (
              <li key={actionId} className="gpt-action-row">
                <div className="gpt-action-row-text">
                  <span className="gpt-action-title">{title}</span>
                  {action ? (
                    <span className="field-hint">
                      {t('actions.summary', { domain: action.domain, count: action.operations.length })}
                    </span>
                  ) : query?.error ? (
                    <span className="gpt-message-error">{t('actions.loadFailed')}</span>
                  ) : null}
                </div>
                <Button
                  size="small"
                  disabled={!action}
                  aria-label={t('actions.editNamed', { name: title })}
                  onClick={() => action && setEditing(action)}
                >
                  {t('actions.edit')}
                </Button>
                <Button
                  size="small"
                  variant="danger"
                  disabled={removing !== null}
                  aria-label={t('actions.removeNamed', { name: title })}
                  onClick={() => void remove(actionId)}
                >
                  {t('actions.remove')}
                </Button>
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="field-hint">{t('actions.none')}</p>
      )}
      {error ? (
        <p className="gpt-message-error" role="alert">
          {t('common.error', { message: error })}
        </p>
      ) : null}
      {draft.gpt ? (
        <Button
          size="small"
          variant="secondary"
          disabled={actionIds.length >= GPT_LIMITS.actions}
          onClick={() => setEditing('new')}
        >
          {t('actions.create')}
        </Button>
      ) : (
        <p className="field-hint">{t('actions.saveFirst')}</p>
      )}
      {editing !== null ? (
        <ActionEditor
          key={editing === 'new' ? 'new' : editing.id}
          action={editing === 'new' ? null : editing}
          t={t}
          onClose={() => setEditing(null)}
          onSave={async (saved) => {
            queryClient.setQueryData(actionKey(saved.id), saved);
            if (!actionIds.includes(saved.id)) {
              draft.change({ action_ids: [...actionIds, saved.id] }, { immediate: true });
              await draft.flush();
            }
            setEditing(null);
          }}
          create={(params) => {
            const gpt = draft.gpt;
            if (!gpt) throw new Error(t('actions.saveFirst'));
            return createAction({ ...params, gpt_id: gpt.id, workspace_id: gpt.workspace_id });
          }}
        />
      ) : null}
    </section>
  );
}

type AuthKind = 'none' | 'api_key' | 'oauth';

interface EditorProps {
  readonly action: Action | null;
  readonly t: GptsTranslate;
  readonly onClose: () => void;
  readonly onSave: (action: Action) => Promise<void>;
  readonly create: (params: ActionSource & SaveFields) => Promise<Action>;
}

interface SaveFields {
  auth: ActionAuthParams;
  privacy_policy_url: string | null;
}

function ActionEditor({ action, t, onClose, onSave, create }: EditorProps) {
  const ids = useId();
  const [text, setText] = useState(action?.document ?? '');
  const [url, setUrl] = useState(action?.document_url ?? '');
  // Where the schema comes from: the text typed, or the URL imported (kept as a URL, so the
  // server fetches it itself and knows where relative servers point).
  const [source, setSource] = useState<'text' | 'url' | 'stored'>(action ? 'stored' : 'text');
  const [preview, setPreview] = useState<ActionPreview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const stored = action?.auth;
  const [authKind, setAuthKind] = useState<AuthKind>(stored?.type ?? 'none');
  const [scheme, setScheme] = useState<ApiKeyScheme>(stored?.type === 'api_key' ? stored.scheme : 'bearer');
  const [headerName, setHeaderName] = useState(stored?.type === 'api_key' ? (stored.header_name ?? '') : '');
  const [apiKey, setApiKey] = useState('');
  const [clientId, setClientId] = useState(stored?.type === 'oauth' ? stored.client_id : '');
  const [clientSecret, setClientSecret] = useState('');
  const [authorizationUrl, setAuthorizationUrl] = useState(
    stored?.type === 'oauth' ? stored.authorization_url : '',
  );
  const [tokenUrl, setTokenUrl] = useState(stored?.type === 'oauth' ? stored.token_url : '');
  const [scope, setScope] = useState(stored?.type === 'oauth' ? (stored.scope ?? '') : '');
  const [privacy, setPrivacy] = useState(action?.privacy_policy_url ?? '');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);

  // The pasted schema is previewed a moment after typing stops; an import previews at once.
  useEffect(() => {
    if (source === 'url') return;
    if (text.trim() === '') {
      setPreview(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setPreviewing(true);
      previewAction({ text }, controller.signal).then(
        (found) => {
          setPreview(found);
          setPreviewError(null);
          setPreviewing(false);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          setPreviewError(error instanceof Error ? error.message : String(error));
          setPreviewing(false);
        },
      );
    }, 400);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text, source]);

  const importUrl = async () => {
    setPreviewing(true);
    setPreviewError(null);
    try {
      const found = await previewAction({ url: url.trim() });
      setSource('url');
      setPreview(found);
      if (!privacy && found.privacy_policy_url) setPrivacy(found.privacy_policy_url);
    } catch (error) {
      setPreviewError(error instanceof Error ? error.message : String(error));
    } finally {
      setPreviewing(false);
    }
  };

  const auth = (): ActionAuthParams => {
    if (authKind === 'api_key') {
      return {
        type: 'api_key',
        scheme,
        ...(scheme === 'custom' ? { header_name: headerName.trim() } : {}),
        ...(apiKey ? { api_key: apiKey } : {}),
      };
    }
    if (authKind === 'oauth') {
      return {
        type: 'oauth',
        client_id: clientId.trim(),
        authorization_url: authorizationUrl.trim(),
        token_url: tokenUrl.trim(),
        ...(scope.trim() ? { scope: scope.trim() } : {}),
        ...(clientSecret ? { client_secret: clientSecret } : {}),
      };
    }
    return { type: 'none' };
  };

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const fields: SaveFields = { auth: auth(), privacy_policy_url: privacy.trim() || null };
      const from: ActionSource | null =
        source === 'url' ? { url: url.trim() } : source === 'text' ? { text } : null;
      const saved = action
        ? await updateAction(action.id, { ...fields, ...(from ?? {}) })
        : await create({ ...fields, ...(from ?? { text }) });
      await onSave(saved);
    } catch (error) {
      setSaveError(error instanceof Error ? error.message : String(error));
    } finally {
      setSaving(false);
    }
  };

  const operations = preview?.operations ?? (source === 'stored' ? (action?.operations ?? []) : []);
  const problems = preview?.problems ?? [];
  const hasSchema =
    source === 'stored' || (preview !== null && problems.length === 0 && operations.length > 0);
  const savedSecret =
    stored?.type === 'api_key'
      ? stored.has_api_key
      : stored?.type === 'oauth'
        ? stored.has_client_secret
        : false;

  return (
    <Dialog
      open
      size="large"
      title={action ? t('actions.editTitle') : t('actions.newTitle')}
      closeLabel={t('common.close')}
      className="gpt-action-editor"
      onClose={onClose}
    >
      <div className="dialog-body gpt-action-editor-body">
        <div className="gpt-action-import">
          <TextField
            label={t('actions.importUrl')}
            type="url"
            placeholder="https://api.example.com/openapi.json"
            value={url}
            onChange={(event) => setUrl(event.target.value)}
          />
          <Button size="small" disabled={!url.trim() || previewing} onClick={() => void importUrl()}>
            {t('actions.import')}
          </Button>
        </div>
        <TextArea
          label={t('actions.schema')}
          hint={source === 'url' ? t('actions.importedFrom', { url }) : t('actions.schemaHint')}
          rows={8}
          spellCheck={false}
          className="gpt-action-schema"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setSource('text');
          }}
        />
        <div className="gpt-action-preview" aria-live="polite" aria-busy={previewing || undefined}>
          {previewError ? (
            <p className="gpt-message-error" role="alert">
              {t('common.error', { message: previewError })}
            </p>
          ) : null}
          {problems.length > 0 ? (
            <ul className="gpt-action-problems" aria-label={t('actions.problems')}>
              {problems.map((problem) => (
                <li key={`${problem.code}-${problem.param ?? ''}`} className="gpt-message-error">
                  {problem.message}
                </li>
              ))}
            </ul>
          ) : null}
          {operations.length > 0 ? (
            <table className="gpt-action-operations" aria-label={t('actions.operations')}>
              <thead>
                <tr>
                  <th scope="col">{t('actions.name')}</th>
                  <th scope="col">{t('actions.method')}</th>
                  <th scope="col">{t('actions.path')}</th>
                  <th scope="col">{t('actions.consequential')}</th>
                </tr>
              </thead>
              <tbody>
                {operations.map((operation) => (
                  <tr key={operation.name}>
                    <td>
                      <code>{operation.name}</code>
                    </td>
                    <td>{operation.method}</td>
                    <td>
                      <code>{operation.path}</code>
                    </td>
                    <td>{operation.consequential ? t('actions.asksEveryTime') : t('actions.no')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>

        <fieldset className="gpt-fieldset">
          <legend>{t('actions.auth')}</legend>
          <div className="gpt-action-radios" role="radiogroup" aria-label={t('actions.auth')}>
            {(['none', 'api_key', 'oauth'] as const).map((kind) => (
              <label key={kind}>
                <input
                  type="radio"
                  name={`${ids}-auth`}
                  checked={authKind === kind}
                  onChange={() => setAuthKind(kind)}
                />{' '}
                {t(`actions.auth.${kind}`)}
              </label>
            ))}
          </div>
          {authKind === 'api_key' ? (
            <>
              <TextField
                label={t('actions.apiKey')}
                type="password"
                autoComplete="off"
                placeholder={savedSecret && stored?.type === 'api_key' ? t('actions.secretSaved') : ''}
                hint={savedSecret && stored?.type === 'api_key' ? t('actions.secretSavedHint') : undefined}
                value={apiKey}
                onChange={(event) => setApiKey(event.target.value)}
              />
              <div className="gpt-action-radios" role="radiogroup" aria-label={t('actions.authType')}>
                {(['basic', 'bearer', 'custom'] as const).map((kind) => (
                  <label key={kind}>
                    <input
                      type="radio"
                      name={`${ids}-scheme`}
                      checked={scheme === kind}
                      onChange={() => setScheme(kind)}
                    />{' '}
                    {t(`actions.scheme.${kind}`)}
                  </label>
                ))}
              </div>
              {scheme === 'custom' ? (
                <TextField
                  label={t('actions.headerName')}
                  placeholder="X-Api-Key"
                  value={headerName}
                  onChange={(event) => setHeaderName(event.target.value)}
                />
              ) : null}
            </>
          ) : null}
          {authKind === 'oauth' ? (
            <>
              <TextField
                label={t('actions.clientId')}
                value={clientId}
                onChange={(e) => setClientId(e.target.value)}
              />
              <TextField
                label={t('actions.clientSecret')}
                type="password"
                autoComplete="off"
                placeholder={savedSecret && stored?.type === 'oauth' ? t('actions.secretSaved') : ''}
                hint={savedSecret && stored?.type === 'oauth' ? t('actions.secretSavedHint') : undefined}
                value={clientSecret}
                onChange={(event) => setClientSecret(event.target.value)}
              />
              <TextField
                label={t('actions.authorizationUrl')}
                type="url"
                value={authorizationUrl}
                onChange={(event) => setAuthorizationUrl(event.target.value)}
              />
              <TextField
                label={t('actions.tokenUrl')}
                type="url"
                value={tokenUrl}
                onChange={(event) => setTokenUrl(event.target.value)}
              />
              <TextField
                label={t('actions.scope')}
                value={scope}
                onChange={(e) => setScope(e.target.value)}
              />
              <TextField
                label={t('actions.callbackUrl')}
                hint={t('actions.callbackUrlHint')}
                value={oauthCallbackUrl()}
                readOnly
                onFocus={(event) => event.currentTarget.select()}
              />
            </>
          ) : null}
        </fieldset>

        <TextField
          label={t('actions.privacy')}
          hint={t('actions.privacyHint')}
          type="url"
          placeholder="https://example.com/privacy"
          value={privacy}
          onChange={(event) => setPrivacy(event.target.value)}
        />
        {saveError ? (
          <p className="gpt-message-error" role="alert">
            {t('common.error', { message: saveError })}
          </p>
        ) : null}
      </div>
      <footer className="dialog-footer">
        <Button onClick={onClose}>{t('common.cancel')}</Button>
        <Button variant="primary" disabled={!hasSchema || saving} onClick={() => void save()}>
          {t('actions.save')}
        </Button>
      </footer>
    </Dialog>
  );
}
