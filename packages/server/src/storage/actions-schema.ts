// The tables of GPT actions (migration 007) as Kysely sees them; `DatabaseSchema` extends this.
// Secrets (API keys, OAuth client secrets, tokens, PKCE verifiers) are only ever stored sealed
// (secret-box.ts); booleans are 0/1 integers and JSON values TEXT, the same on both dialects.

import type { UnixSeconds } from './schema.js';

export interface ActionsTable {
  readonly id: string;
  readonly workspace_id: string;
  /** The builder who added it; null once their account is gone (the action stays with the GPT). */
  readonly owner_account_id: string | null;
  /** The GPT (assistant) it belongs to, when it is attached to one. */
  readonly gpt_id: string | null;
  readonly title: string;
  /** The host every operation calls, as consent is asked for. */
  readonly domain: string;
  readonly source_kind: 'openapi' | 'plugin_manifest';
  /** The OpenAPI document as imported (JSON or YAML text). */
  readonly document: string;
  /** Where the OpenAPI document was fetched from (relative server URLs resolve against it). */
  readonly document_url: string | null;
  /** JSON of the plugin manifest's fields, for a plugin. */
  readonly manifest: string | null;
  readonly manifest_url: string | null;
  /** JSON of the auth settings, without any secret. */
  readonly auth: string;
  /** The sealed API key or OAuth client secret. */
  readonly auth_secret: string | null;
  readonly privacy_policy_url: string | null;
  readonly created_at: UnixSeconds;
  readonly updated_at: UnixSeconds;
}

export interface ActionConsentsTable {
  readonly account_id: string;
  /** The GPT the consent is for, or the action's id when it belongs to none. */
  readonly scope_id: string;
  readonly domain: string;
  readonly always_allowed: number;
  readonly last_decision: 'allow_once' | 'always_allow' | 'decline';
  readonly decided_at: UnixSeconds;
}

/** One-time "Allow" answers given before the call is made again (migration 009). */
export interface ActionConsentGrantsTable {
  readonly account_id: string;
  /** As in `action_consents`: the GPT, or the action without one. */
  readonly scope_id: string;
  readonly domain: string;
  /** The operation allowed; '' allows the next call of any operation of the domain. */
  readonly operation: string;
  readonly expires_at: UnixSeconds;
  readonly created_at: UnixSeconds;
}

export interface ActionOAuthTokensTable {
  readonly action_id: string;
  readonly account_id: string;
  readonly access_token: string;
  readonly refresh_token: string | null;
  readonly token_type: string;
  readonly scope: string | null;
  readonly expires_at: UnixSeconds | null;
  readonly updated_at: UnixSeconds;
}

export interface ActionOAuthStatesTable {
  /** SHA-256 of the state parameter, lower-case hex. */
  readonly state_hash: string;
  readonly action_id: string;
  readonly account_id: string;
  /** The sealed PKCE code verifier. */
  readonly code_verifier: string;
  readonly redirect_uri: string;
  readonly created_at: UnixSeconds;
  readonly expires_at: UnixSeconds;
}

export interface ActionsSchema {
  readonly actions: ActionsTable;
  readonly action_consents: ActionConsentsTable;
  readonly action_consent_grants: ActionConsentGrantsTable;
  readonly action_oauth_tokens: ActionOAuthTokensTable;
  readonly action_oauth_states: ActionOAuthStatesTable;
}
