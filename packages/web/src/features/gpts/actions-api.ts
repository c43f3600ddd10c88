// What the actions editor and the consent dialog ask of the server: /api/actions (import
// preview, create, read, update, delete) and /api/gpts/{id}/consents, signed in by the session.
// Shapes mirror docs/architecture/actions.md; secrets go in and never come back (`has_*`).
import { api } from '../../api/http';

export interface ActionOperation {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly summary: string | null;
  readonly consequential: boolean;
}

export interface ActionProblem {
  readonly code: string;
  readonly message: string;
  readonly param: string | null;
}

export interface ActionPreview {
  readonly title: string | null;
  readonly domain: string | null;
  readonly privacy_policy_url: string | null;
  readonly operations: readonly ActionOperation[];
  readonly warnings: readonly string[];
  readonly problems: readonly ActionProblem[];
}

export type ApiKeyScheme = 'basic' | 'bearer' | 'custom';

export type ActionAuth =
  | { readonly type: 'none' }
  | {
      readonly type: 'api_key';
      readonly scheme: ApiKeyScheme;
      readonly header_name: string | null;
      readonly has_api_key: boolean;
    }
  | {
      readonly type: 'oauth';
      readonly client_id: string;
      readonly authorization_url: string;
      readonly token_url: string;
      readonly scope: string | null;
      readonly has_client_secret: boolean;
    };

/** What a save sends: the same, with the secrets when typed (left out: the stored one stays). */
export type ActionAuthParams =
  | { type: 'none' }
  | { type: 'api_key'; scheme: ApiKeyScheme; header_name?: string; api_key?: string }
  | {
      type: 'oauth';
      client_id: string;
      client_secret?: string;
      authorization_url: string;
      token_url: string;
      scope?: string;
    };

export interface Action {
  readonly id: string;
  readonly object: 'action';
  readonly workspace_id: string;
  readonly gpt_id: string | null;
  readonly title: string;
  readonly domain: string;
  readonly document: string;
  readonly document_url: string | null;
  readonly auth: ActionAuth;
  readonly privacy_policy_url: string | null;
  readonly operations: readonly ActionOperation[];
}

export type ActionSource = { text: string } | { url: string };

export interface ActionSaveParams {
  auth: ActionAuthParams;
  privacy_policy_url: string | null;
}

const actionPath = (actionId: string, ...rest: readonly string[]) =>
  ['/api/actions', ...[actionId, ...rest].map(encodeURIComponent)].join('/');

export const previewAction = (source: ActionSource, signal?: AbortSignal) =>
  api<ActionPreview>('/api/actions/preview', { method: 'POST', body: source, ...(signal ? { signal } : {}) });

export const getAction = (actionId: string) => api<Action>(actionPath(actionId));

export const createAction = (
  params: ActionSource & ActionSaveParams & { gpt_id: string; workspace_id: string },
) => api<Action>('/api/actions', { method: 'POST', body: params });

export const updateAction = (actionId: string, params: Partial<ActionSource> & ActionSaveParams) =>
  api<Action>(actionPath(actionId), { method: 'PATCH', body: params });

export const deleteAction = (actionId: string) =>
  api<{ deleted: boolean }>(actionPath(actionId), { method: 'DELETE' });

/**
 * Where an OAuth action's sign-in starts (a popup; it answers with `atelier.action_oauth`). From a
 * GPT's chat the GPT is named: its users sign in to its actions wherever the action is kept.
 */
export const oauthStartUrl = (actionId: string, gptId: string | null = null) =>
  `${actionPath(actionId, 'oauth', 'start')}${gptId ? `?gpt_id=${encodeURIComponent(gptId)}` : ''}`;

/** The address OAuth providers send people back to: builders register it as the redirect URI. */
export const oauthCallbackUrl = () => `${window.location.origin}/api/actions/oauth/callback`;

/** One call the server held back until the person answers (a chat completion's extra field). */
export interface PendingAction {
  readonly type: 'consent_required' | 'oauth_required';
  readonly action_id: string;
  readonly operation: string;
  readonly domain: string;
  readonly can_always_allow: boolean;
  readonly preview: {
    readonly domain: string;
    readonly method: string;
    readonly url: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: unknown;
  } | null;
  readonly message: string;
  /** In a run's (and a web chat's) held calls: the call's id in the run steps. */
  readonly tool_call_id?: string;
}

export type ConsentDecision = 'allow_once' | 'always_allow' | 'decline';

export const answerConsent = (gptId: string, pending: PendingAction, decision: ConsentDecision) =>
  api<{ decision: ConsentDecision }>(`/api/gpts/${encodeURIComponent(gptId)}/consents`, {
    method: 'POST',
    body: {
      action_id: pending.action_id,
      domain: pending.domain,
      operation: pending.operation,
      decision,
    },
  });
