// GPT actions and what each person keeps about them: consent per (person, GPT or action,
// domain), one-time grants, OAuth tokens, OAuth sign-ins in progress. Secrets arrive here already sealed
// (SealedSecret) and leave sealed: this file never sees a plaintext secret.

import { randomBase62 } from '@atelier/protocol';
import type { Kysely, Selectable } from 'kysely';
import { NotFoundError } from '../../errors.js';
import type {
  ActionConsentsTable,
  ActionOAuthStatesTable,
  ActionOAuthTokensTable,
  ActionsTable,
} from '../actions-schema.js';
import { type Clock, systemClock } from '../clock.js';
import { constraintViolation } from '../constraint-violation.js';
import { inTransaction } from '../in-transaction.js';
import type { DatabaseSchema } from '../schema.js';
import type { SealedSecret } from '../secret-box.js';

export const ACTION_ID_PREFIX = 'act_';

export interface ActionRecord {
  readonly id: string;
  readonly workspaceId: string;
  readonly ownerAccountId: string | null;
  readonly gptId: string | null;
  readonly title: string;
  readonly domain: string;
  readonly sourceKind: 'openapi' | 'plugin_manifest';
  readonly document: string;
  readonly documentUrl: string | null;
  /** The plugin manifest's fields as JSON text, for a plugin. */
  readonly manifest: string | null;
  readonly manifestUrl: string | null;
  /** The auth settings as JSON text (no secret in it). */
  readonly auth: string;
  readonly authSecret: SealedSecret | null;
  readonly privacyPolicyUrl: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** `id` comes from `newActionId()`: callers seal secrets bound to it before the row exists. */
export type ActionCreateParams = Omit<ActionRecord, 'createdAt' | 'updatedAt'>;

export function newActionId(): string {
  return ACTION_ID_PREFIX + randomBase62(24);
}

export type ActionUpdateParams = Partial<
  Pick<
    ActionRecord,
    | 'gptId'
    | 'title'
    | 'domain'
    | 'sourceKind'
    | 'document'
    | 'documentUrl'
    | 'manifest'
    | 'manifestUrl'
    | 'auth'
    | 'authSecret'
    | 'privacyPolicyUrl'
  >
>;

export type ConsentDecisionValue = ActionConsentsTable['last_decision'];

export interface ConsentRow {
  readonly accountId: string;
  readonly scopeId: string;
  readonly domain: string;
  readonly alwaysAllowed: boolean;
  readonly lastDecision: ConsentDecisionValue;
  readonly decidedAt: number;
}

/** A one-time "Allow": the next matching call goes, once. */
export interface ConsentGrant {
  readonly accountId: string;
  readonly scopeId: string;
  readonly domain: string;
  /** '' for any operation of the domain. */
  readonly operation: string;
  readonly expiresAt: number;
}

export interface OAuthTokenRow {
  readonly actionId: string;
  readonly accountId: string;
  readonly accessToken: SealedSecret;
  readonly refreshToken: SealedSecret | null;
  readonly tokenType: string;
  readonly scope: string | null;
  readonly expiresAt: number | null;
  readonly updatedAt: number;
}

export interface OAuthStateRow {
  readonly stateHash: string;
  readonly actionId: string;
  readonly accountId: string;
  readonly codeVerifier: SealedSecret;
  readonly redirectUri: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface ActionsRepository {
  create(params: ActionCreateParams): Promise<ActionRecord>;
  get(id: string): Promise<ActionRecord | null>;
  /** A workspace's actions, oldest first; only one GPT's when `gptId` is given. */
  list(params: { workspaceId: string; gptId?: string | undefined }): Promise<ActionRecord[]>;
  /** Null when there is no such action. */
  update(id: string, params: ActionUpdateParams): Promise<ActionRecord | null>;
  /** Deletes the action with its tokens, sign-ins in progress and the consents scoped to it. */
  delete(id: string): Promise<boolean>;

  findConsent(key: { accountId: string; scopeId: string; domain: string }): Promise<ConsentRow | null>;
  /** Inserts or replaces the consent for this key. */
  saveConsent(row: ConsentRow): Promise<ConsentRow>;
  listConsents(accountId: string): Promise<ConsentRow[]>;
  deleteConsent(key: { accountId: string; scopeId: string; domain: string }): Promise<boolean>;

  /** Stores a one-time grant (a second one for the same operation moves its expiry). */
  saveGrant(grant: ConsentGrant): Promise<void>;
  /**
   * Takes the grant for this operation, else the one for any operation of the domain, unless
   * expired by `at`: true when one was taken. Atomic: of concurrent calls, one takes a grant.
   */
  takeGrant(key: {
    accountId: string;
    scopeId: string;
    domain: string;
    operation: string;
    at: number;
  }): Promise<boolean>;
  /** Forgets every grant for this person, GPT (or action) and domain (they declined). */
  deleteGrants(key: { accountId: string; scopeId: string; domain: string }): Promise<number>;

  findTokens(key: { actionId: string; accountId: string }): Promise<OAuthTokenRow | null>;
  /** Inserts or replaces the tokens for this action and person. */
  saveTokens(row: Omit<OAuthTokenRow, 'updatedAt'>): Promise<OAuthTokenRow>;
  deleteTokens(key: { actionId: string; accountId: string }): Promise<boolean>;
  /** Everyone's tokens for an action (its OAuth settings changed); returns how many went. */
  deleteTokensForAction(actionId: string): Promise<number>;

  createOAuthState(row: Omit<OAuthStateRow, 'createdAt'>): Promise<OAuthStateRow>;
  /** Removes and returns the sign-in with this state hash (each state works once), unless expired by `at`. */
  takeOAuthState(stateHash: string, at: number): Promise<OAuthStateRow | null>;
  deleteExpiredOAuthStates(at: number): Promise<number>;
}

export function createActionsRepository(
  db: Kysely<DatabaseSchema>,
  { now = systemClock }: { now?: Clock } = {},
): ActionsRepository {
  const foreignKeys = async <Result>(work: () => Promise<Result>, what: string): Promise<Result> => {
    try {
      return await work();
    } catch (error) {
      if (constraintViolation(error) === 'foreign_key') throw new NotFoundError(`${what} no longer exists.`);
      throw error;
    }
  };

  /** Deletes a person's rows for one GPT (or action) and domain; returns how many went. */
  const deleteByConsentKey = async (
    table: 'action_consents' | 'action_consent_grants',
    { accountId, scopeId, domain }: { accountId: string; scopeId: string; domain: string },
  ): Promise<number> => {
    const result = await db
      .deleteFrom(table)
      .where('account_id', '=', accountId)
      .where('scope_id', '=', scopeId)
      .where('domain', '=', domain)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  };

  const get = async (id: string): Promise<ActionRecord | null> => {
    const row = await db.selectFrom('actions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAction(row) : null;
  };

  return {
    get,

    async create(params) {
      const at = now();
      const row: Selectable<ActionsTable> = {
        id: params.id,
        workspace_id: params.workspaceId,
        owner_account_id: params.ownerAccountId,
        gpt_id: params.gptId,
        title: params.title,
        domain: params.domain,
        source_kind: params.sourceKind,
        document: params.document,
        document_url: params.documentUrl,
        manifest: params.manifest,
        manifest_url: params.manifestUrl,
        auth: params.auth,
        auth_secret: params.authSecret,
        privacy_policy_url: params.privacyPolicyUrl,
        created_at: at,
        updated_at: at,
      };
      await foreignKeys(() => db.insertInto('actions').values(row).execute(), 'The workspace or account');
      return toAction(row);
    },

    async list({ workspaceId, gptId = undefined }) {
      let query = db.selectFrom('actions').selectAll().where('workspace_id', '=', workspaceId);
      if (gptId !== undefined) query = query.where('gpt_id', '=', gptId);
      const rows = await query.orderBy('created_at').orderBy('id').execute();
      return rows.map(toAction);
    },

    async update(id, params) {
      const set: Record<string, unknown> = { updated_at: now() };
      const columns: Record<keyof ActionUpdateParams, keyof ActionsTable> = {
        gptId: 'gpt_id',
        title: 'title',
        domain: 'domain',
        sourceKind: 'source_kind',
        document: 'document',
        documentUrl: 'document_url',
        manifest: 'manifest',
        manifestUrl: 'manifest_url',
        auth: 'auth',
        authSecret: 'auth_secret',
        privacyPolicyUrl: 'privacy_policy_url',
      };
      for (const [key, column] of Object.entries(columns) as [
        keyof ActionUpdateParams,
        keyof ActionsTable,
      ][]) {
        if (params[key] !== undefined) set[column] = params[key];
      }
      const result = await db
        .updateTable('actions')
        .set(set as Partial<Selectable<ActionsTable>>)
        .where('id', '=', id)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return null;
      return get(id);
    },

    async delete(id) {
      return inTransaction(db, async (trx) => {
        await trx.deleteFrom('action_consents').where('scope_id', '=', id).execute();
        await trx.deleteFrom('action_consent_grants').where('scope_id', '=', id).execute();
        const result = await trx.deleteFrom('actions').where('id', '=', id).executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },

    async findConsent({ accountId, scopeId, domain }) {
      const row = await db
        .selectFrom('action_consents')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('scope_id', '=', scopeId)
        .where('domain', '=', domain)
        .executeTakeFirst();
      return row ? toConsent(row) : null;
    },

    async saveConsent(consent) {
      const row = {
        account_id: consent.accountId,
        scope_id: consent.scopeId,
        domain: consent.domain,
        always_allowed: consent.alwaysAllowed ? 1 : 0,
        last_decision: consent.lastDecision,
        decided_at: consent.decidedAt,
      };
      await foreignKeys(
        () =>
          db
            .insertInto('action_consents')
            .values(row)
            .onConflict((conflict) =>
              conflict.columns(['account_id', 'scope_id', 'domain']).doUpdateSet({
                always_allowed: row.always_allowed,
                last_decision: row.last_decision,
                decided_at: row.decided_at,
              }),
            )
            .execute(),
        'The account',
      );
      return toConsent(row);
    },

    async listConsents(accountId) {
      const rows = await db
        .selectFrom('action_consents')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('decided_at', 'desc')
        .orderBy('domain')
        .execute();
      return rows.map(toConsent);
    },

    async deleteConsent(key) {
      return (await deleteByConsentKey('action_consents', key)) > 0;
    },

    async saveGrant(grant) {
      const row = {
        account_id: grant.accountId,
        scope_id: grant.scopeId,
        domain: grant.domain,
        operation: grant.operation,
        expires_at: grant.expiresAt,
        created_at: now(),
      };
      await inTransaction(db, async (trx) => {
        // The person's grants that ran out are of no use to anyone: they go as new ones come.
        await trx
          .deleteFrom('action_consent_grants')
          .where('account_id', '=', grant.accountId)
          .where('expires_at', '<=', now())
          .execute();
        await foreignKeys(
          () =>
            trx
              .insertInto('action_consent_grants')
              .values(row)
              .onConflict((conflict) =>
                conflict
                  .columns(['account_id', 'scope_id', 'domain', 'operation'])
                  .doUpdateSet({ expires_at: row.expires_at, created_at: row.created_at }),
              )
              .execute(),
          'The account',
        );
      });
    },

    async takeGrant({ accountId, scopeId, domain, operation, at }) {
      // One DELETE … RETURNING per candidate: the row goes to whichever statement deletes it
      // first (Postgres makes a concurrent second one re-check the row and find it gone).
      for (const candidate of operation === '' ? [''] : [operation, '']) {
        const taken = await db
          .deleteFrom('action_consent_grants')
          .where('account_id', '=', accountId)
          .where('scope_id', '=', scopeId)
          .where('domain', '=', domain)
          .where('operation', '=', candidate)
          .where('expires_at', '>', at)
          .returning('operation')
          .executeTakeFirst();
        if (taken) return true;
      }
      return false;
    },

    deleteGrants: (key) => deleteByConsentKey('action_consent_grants', key),

    async findTokens({ actionId, accountId }) {
      const row = await db
        .selectFrom('action_oauth_tokens')
        .selectAll()
        .where('action_id', '=', actionId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row ? toTokens(row) : null;
    },

    async saveTokens(tokens) {
      const row: Selectable<ActionOAuthTokensTable> = {
        action_id: tokens.actionId,
        account_id: tokens.accountId,
        access_token: tokens.accessToken,
        refresh_token: tokens.refreshToken,
        token_type: tokens.tokenType,
        scope: tokens.scope,
        expires_at: tokens.expiresAt,
        updated_at: now(),
      };
      const { action_id: _action, account_id: _account, ...changes } = row;
      await foreignKeys(
        () =>
          db
            .insertInto('action_oauth_tokens')
            .values(row)
            .onConflict((conflict) => conflict.columns(['action_id', 'account_id']).doUpdateSet(changes))
            .execute(),
        'The action or account',
      );
      return toTokens(row);
    },

    async deleteTokens({ actionId, accountId }) {
      const result = await db
        .deleteFrom('action_oauth_tokens')
        .where('action_id', '=', actionId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async deleteTokensForAction(actionId) {
      const result = await db
        .deleteFrom('action_oauth_tokens')
        .where('action_id', '=', actionId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async createOAuthState(state) {
      const row: Selectable<ActionOAuthStatesTable> = {
        state_hash: state.stateHash,
        action_id: state.actionId,
        account_id: state.accountId,
        code_verifier: state.codeVerifier,
        redirect_uri: state.redirectUri,
        created_at: now(),
        expires_at: state.expiresAt,
      };
      await foreignKeys(
        () => db.insertInto('action_oauth_states').values(row).execute(),
        'The action or account',
      );
      return toState(row);
    },

    async takeOAuthState(stateHash, at) {
      // DELETE … RETURNING on both dialects: of two callbacks with one state, one gets it.
      const row = await db
        .deleteFrom('action_oauth_states')
        .where('state_hash', '=', stateHash)
        .returningAll()
        .executeTakeFirst();
      if (!row || Number(row.expires_at) <= at) return null;
      return toState(row);
    },

    async deleteExpiredOAuthStates(at) {
      const result = await db
        .deleteFrom('action_oauth_states')
        .where('expires_at', '<=', at)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toAction(row: Selectable<ActionsTable>): ActionRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    ownerAccountId: row.owner_account_id,
    gptId: row.gpt_id,
    title: row.title,
    domain: row.domain,
    sourceKind: row.source_kind,
    document: row.document,
    documentUrl: row.document_url,
    manifest: row.manifest,
    manifestUrl: row.manifest_url,
    auth: row.auth,
    authSecret: row.auth_secret as SealedSecret | null,
    privacyPolicyUrl: row.privacy_policy_url,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toConsent(row: Selectable<ActionConsentsTable>): ConsentRow {
  return {
    accountId: row.account_id,
    scopeId: row.scope_id,
    domain: row.domain,
    alwaysAllowed: Number(row.always_allowed) === 1,
    lastDecision: row.last_decision,
    decidedAt: Number(row.decided_at),
  };
}

function toTokens(row: Selectable<ActionOAuthTokensTable>): OAuthTokenRow {
  return {
    actionId: row.action_id,
    accountId: row.account_id,
    accessToken: row.access_token as SealedSecret,
    refreshToken: row.refresh_token as SealedSecret | null,
    tokenType: row.token_type,
    scope: row.scope,
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    updatedAt: Number(row.updated_at),
  };
}

function toState(row: Selectable<ActionOAuthStatesTable>): OAuthStateRow {
  return {
    stateHash: row.state_hash,
    actionId: row.action_id,
    accountId: row.account_id,
    codeVerifier: row.code_verifier as SealedSecret,
    redirectUri: row.redirect_uri,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
