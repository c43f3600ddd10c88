// GPT actions as the product uses them: builders import, configure and delete actions in their
// workspace; the run engine (and the web chat) turns them into function tools and calls them for
// a person — asking that person first (consent per GPT and domain), signing them in with OAuth
// when the action needs it, and handing the model the response as labelled, untrusted data.
// Secrets are sealed with the SecretBox on the way in and opened only to make a request.

import { createHash } from 'node:crypto';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { ToolDefinition } from '../inference/spec.js';
import type { Clock } from '../storage/clock.js';
import { systemClock } from '../storage/clock.js';
import {
  type ActionRecord,
  type ActionsRepository,
  type ConsentRow,
  newActionId,
  type OAuthTokenRow,
} from '../storage/repositories/actions-repository.js';
import { type SealedSecret, type SecretBox, SecretUnreadableError } from '../storage/secret-box.js';
import {
  type ActionAuthInput,
  type ActionAuthSettings,
  apiKeyHeader,
  validateAuthInput,
} from '../tools/actions/action-auth.js';
import { ActionArgumentsError } from '../tools/actions/action-errors.js';
import {
  actionErrorOutput,
  actionResponseOutput,
  DEFAULT_MAX_OUTPUT_CHARS,
  declinedOutput,
} from '../tools/actions/action-tool-output.js';
import { type ActionRequest, buildActionRequest } from '../tools/actions/build-action-request.js';
import {
  applyConsentDecision,
  CONSENT_DECISIONS,
  type ConsentCheck,
  type ConsentDecision,
  type ConsentState,
  decideConsent,
} from '../tools/actions/consent.js';
import {
  type ActionSource,
  createDocumentFetcher,
  type ImportedAction,
  importAction,
  readStoredDocument,
} from '../tools/actions/import-action.js';
import {
  authorizeUrl,
  createOAuthState,
  createPkce,
  exchangeCode,
  type OAuthSettings,
  OAuthTokenError,
  type OAuthTokens,
  refreshTokens,
} from '../tools/actions/oauth-client.js';
import type { PluginManifest } from '../tools/actions/plugin-manifest.js';
import type { ActionOperation, ActionSpec } from '../tools/actions/read-openapi.js';
import { MAX_TOOL_NAME_LENGTH } from '../tools/actions/read-openapi.js';
import type { OutboundPolicy } from '../tools/outbound/outbound-policy.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  type HostResolver,
  OutboundRequestError,
  type SafeFetchResponse,
  safeFetch,
} from '../tools/outbound/safe-fetch.js';

/** An action as its builder sees it. Its secret never leaves this service: only `hasSecret`. */
export interface Action {
  readonly id: string;
  readonly workspaceId: string;
  readonly ownerAccountId: string | null;
  readonly gptId: string | null;
  readonly title: string;
  /** The one host its operations call: what people are asked to allow. */
  readonly domain: string;
  readonly sourceKind: 'openapi' | 'plugin_manifest';
  /** The OpenAPI document as imported. */
  readonly document: string;
  readonly documentUrl: string | null;
  readonly manifest: PluginManifest | null;
  readonly manifestUrl: string | null;
  readonly auth: ActionAuthSettings;
  /** Whether an API key or client secret is stored (sealed). */
  readonly hasSecret: boolean;
  readonly privacyPolicyUrl: string | null;
  /** The operations and their function tools, as read from the document. */
  readonly spec: ActionSpec;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One function tool of a GPT's actions, and where a call to it goes. */
export interface ActionTool {
  /** The function name the model calls (unique across the GPT's actions). */
  readonly name: string;
  readonly actionId: string;
  /** The operation's name within its action (`invoke`'s `operation`). */
  readonly operation: string;
  readonly domain: string;
  readonly consequential: boolean;
  readonly definition: ToolDefinition;
}

/** A call a model asked for: which action, operation and arguments, for whom, in which GPT. */
export interface ActionCall {
  /** The person the call is made for (consent and OAuth tokens are theirs). */
  readonly accountId: string;
  /** The workspace of the GPT making the call: the action must belong to it (else 404). */
  readonly workspaceId: string;
  readonly actionId: string;
  /** The operation's name (ActionTool.operation). */
  readonly operation: string;
  /** The tool call's arguments: JSON text or the parsed object. */
  readonly arguments: unknown;
  /** The GPT the call is made in: consent is remembered per GPT (default: the action's GPT, else the action). */
  readonly gptId?: string | null | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type ActionCallResult =
  | {
      readonly type: 'completed';
      /** The tool output for the model: JSON that labels the response as untrusted data. */
      readonly output: string;
      /** False when the request could not be made or the API answered 4xx/5xx. */
      readonly ok: boolean;
      readonly status: number | null;
      readonly domain: string;
      readonly declined: boolean;
    }
  | { readonly type: 'consent_required'; readonly consent: Extract<ConsentCheck, { needed: true }> }
  | {
      readonly type: 'oauth_required';
      readonly actionId: string;
      readonly domain: string;
      /** For the person: why they are asked to sign in. */
      readonly message: string;
    };

export interface ActionCreateParams {
  readonly workspaceId: string;
  readonly ownerAccountId: string | null;
  readonly gptId?: string | null;
  readonly source: ActionSource;
  /** Default: none. */
  readonly auth?: ActionAuthInput;
  /** Default: the plugin manifest's legal_info_url, if any. */
  readonly privacyPolicyUrl?: string | null;
}

export interface ActionUpdateParams {
  readonly workspaceId: string;
  readonly actionId: string;
  readonly gptId?: string | null;
  readonly source?: ActionSource;
  /** Without `apiKey`/`clientSecret`, the stored one stays (same kind of auth only). */
  readonly auth?: ActionAuthInput;
  readonly privacyPolicyUrl?: string | null;
}

export interface ConsentSummary {
  readonly scopeId: string;
  readonly domain: string;
  readonly alwaysAllowed: boolean;
  readonly lastDecision: ConsentDecision;
  readonly decidedAt: number;
}

export interface ActionsService {
  /** Reads a document (text or URL, OpenAPI or plugin manifest) without storing it: the builder's preview. */
  preview(source: ActionSource): Promise<ImportedAction>;
  create(params: ActionCreateParams): Promise<Action>;
  update(params: ActionUpdateParams): Promise<Action>;
  /** 404 unless the action is in this workspace. */
  get(params: { workspaceId: string; actionId: string }): Promise<Action>;
  list(params: { workspaceId: string; gptId?: string }): Promise<Action[]>;
  delete(params: { workspaceId: string; actionId: string }): Promise<void>;

  /** Null when the action may be shared beyond its builder, else why not (a privacy policy URL is missing). */
  sharingProblem(action: Action): string | null;
  /** Throws a 400 naming the actions that keep a GPT private (no privacy policy URL). */
  assertShareable(actions: readonly Action[]): void;
  /**
   * The function tools of a GPT's actions (by id, in order), names made unique across them.
   * Ids that name no action of `workspaceId` (deleted since) are skipped.
   */
  tools(params: { workspaceId: string; actionIds: readonly string[] }): Promise<ActionTool[]>;
  /** Instructions a plugin gives the model (its description_for_model), for the system prompt. */
  instructions(actions: readonly Action[]): string | null;

  /** Whether this call needs the person's consent first, and what they would be shown. */
  checkConsent(call: ActionCall): Promise<ConsentCheck>;
  /**
   * Makes the call: unless `approved` (the person just allowed it), a call that needs consent
   * returns `consent_required` and sends nothing; an OAuth action without a signed-in person
   * returns `oauth_required`. `heldSince` (Unix seconds) marks a call held back earlier for the
   * person's answer: declined since then, it returns the declined output instead of asking again.
   */
  invoke(
    call: ActionCall & { readonly approved?: boolean; readonly heldSince?: number },
  ): Promise<ActionCallResult>;
  /** Records the person's answer to a consent request, then makes the call or tells the model it was declined. */
  answerConsent(call: ActionCall & { readonly decision: ConsentDecision }): Promise<ActionCallResult>;
  /**
   * Records the person's answer without making the call, for a conversation that makes it
   * again (chat completions and the web chat ask the model again; a run's next run makes the call
   * it held back): `always_allow` and `decline` are stored as by `answerConsent`; `allow_once`
   * becomes a one-time grant, stored, that exactly one matching `invoke` (same person, GPT,
   * domain and, when given, operation) consumes within `grantTtlSeconds`, on any node.
   */
  rememberConsent(params: {
    accountId: string;
    workspaceId: string;
    actionId: string;
    /** The operation asked about; without it, the answer covers the action's domain (allow_once, decline, or always_allow for its non-consequential operations). */
    operation?: string | undefined;
    gptId?: string | null | undefined;
    decision: ConsentDecision;
  }): Promise<{
    readonly domain: string;
    readonly alwaysAllowed: boolean;
    readonly grantExpiresAt: number | null;
  }>;
  listConsents(accountId: string): Promise<ConsentSummary[]>;
  revokeConsent(params: { accountId: string; scopeId: string; domain: string }): Promise<boolean>;

  /** Starts an OAuth sign-in: the URL to send the person's browser to (state and PKCE inside). */
  startOAuth(params: {
    accountId: string;
    /** The workspace of the GPT (the action's), as for calls. */
    workspaceId: string;
    actionId: string;
    redirectUri: string;
  }): Promise<{ authorizeUrl: string; expiresAt: number }>;
  /** Finishes it from the callback's `state` and `code`: exchanges the code, stores the tokens sealed. */
  completeOAuth(params: { accountId: string; state: string; code: string }): Promise<{ actionId: string }>;
  oauthStatus(params: {
    accountId: string;
    actionId: string;
  }): Promise<{ connected: boolean; expiresAt: number | null; scope: string | null }>;
  disconnectOAuth(params: { accountId: string; actionId: string }): Promise<void>;
  /** Forgets OAuth sign-ins that were never finished. */
  deleteExpiredOAuthStates(): Promise<number>;
}

export interface CreateActionsServiceOptions {
  readonly repository: ActionsRepository;
  readonly secrets: SecretBox;
  readonly policy: OutboundPolicy;
  /** DNS for outbound requests (tests map names to addresses). */
  readonly resolve?: HostResolver;
  /** One call to an API, all in. */
  readonly timeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Bytes of an API's response read at most. */
  readonly maxResponseBytes?: number;
  /** Characters of output the model gets at most. */
  readonly maxOutputChars?: number;
  readonly oauthStateTtlSeconds?: number;
  /** How long an `allow_once` given ahead of the call (rememberConsent) waits for it. */
  readonly grantTtlSeconds?: number;
  readonly now?: Clock;
}

const USER_AGENT = 'Atelier-Actions/1.0';
/** Refresh a little before expiry, so a token does not lapse in flight. */
const EXPIRY_MARGIN_SECONDS = 60;
const SPEC_CACHE_SIZE = 128;

export function createActionsService({
  repository,
  secrets,
  policy,
  resolve = undefined,
  timeoutMs = 30_000,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
  maxOutputChars = DEFAULT_MAX_OUTPUT_CHARS,
  oauthStateTtlSeconds = 600,
  grantTtlSeconds = 600,
  now = systemClock,
}: CreateActionsServiceOptions): ActionsService {
  const fetchDocument = createDocumentFetcher({ policy, resolve });
  const specCache = new Map<string, ActionSpec>();
  const refreshing = new Map<string, Promise<string | null>>();

  const secretContext = (actionId: string) => `action:${actionId}:auth`;
  const tokenContext = (row: { actionId: string; accountId: string }, kind: 'access' | 'refresh') =>
    `action-token:${row.actionId}:${row.accountId}:${kind}`;

  const specOf = (record: ActionRecord): ActionSpec => {
    const key = `${record.id}:${record.updatedAt}:${record.document.length}`;
    let spec = specCache.get(key);
    if (!spec) {
      spec = readStoredDocument({ documentText: record.document, documentUrl: record.documentUrl });
      if (specCache.size >= SPEC_CACHE_SIZE) specCache.delete(specCache.keys().next().value!);
      specCache.set(key, spec);
    }
    return spec;
  };

  const toAction = (record: ActionRecord): Action => ({
    id: record.id,
    workspaceId: record.workspaceId,
    ownerAccountId: record.ownerAccountId,
    gptId: record.gptId,
    title: record.title,
    domain: record.domain,
    sourceKind: record.sourceKind,
    document: record.document,
    documentUrl: record.documentUrl,
    manifest: parseManifest(record.manifest),
    manifestUrl: record.manifestUrl,
    auth: parseAuth(record.auth),
    hasSecret: record.authSecret !== null,
    privacyPolicyUrl: record.privacyPolicyUrl,
    spec: specOf(record),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });

  const recordOf = async (actionId: string): Promise<ActionRecord> => {
    const record = await repository.get(actionId);
    if (!record) throw new NotFoundError(`No action with id '${actionId}'.`, { param: 'action_id' });
    return record;
  };

  const inWorkspace = async (workspaceId: string, actionId: string): Promise<ActionRecord> => {
    const record = await repository.get(actionId);
    // Another workspace's action reads as missing: its existence is not ours to reveal.
    if (!record || record.workspaceId !== workspaceId) {
      throw new NotFoundError(`No action with id '${actionId}'.`, { param: 'action_id' });
    }
    return record;
  };

  const operationOf = (record: ActionRecord, name: string): ActionOperation => {
    const operation = specOf(record).operations.find((candidate) => candidate.name === name);
    if (!operation) {
      throw new NotFoundError(`The action '${record.id}' has no operation '${name}'.`, {
        param: 'operation',
      });
    }
    return operation;
  };

  const scopeOf = (record: ActionRecord, gptId: string | null | undefined) =>
    gptId ?? record.gptId ?? record.id;

  const openSecret = (record: ActionRecord): string | null =>
    record.authSecret === null
      ? null
      : secrets.open(record.authSecret, { context: secretContext(record.id) });

  const tokenOptions = ({ record, settings }: { record: ActionRecord; settings: OAuthSettings }) => ({
    settings,
    clientSecret: openSecret(record) ?? '',
    policy,
    now: now(),
    ...(resolve ? { resolve } : {}),
  });

  const storeTokens = async ({
    record,
    accountId,
    tokens,
  }: {
    record: ActionRecord;
    accountId: string;
    tokens: OAuthTokens;
  }) => {
    const key = { actionId: record.id, accountId };
    await repository.saveTokens({
      ...key,
      accessToken: secrets.seal(tokens.accessToken, { context: tokenContext(key, 'access') }),
      refreshToken:
        tokens.refreshToken === null
          ? null
          : secrets.seal(tokens.refreshToken, { context: tokenContext(key, 'refresh') }),
      tokenType: tokens.tokenType,
      scope: tokens.scope,
      expiresAt: tokens.expiresAt,
    });
  };

  /** Refreshes once per action and person at a time: rotating refresh tokens allow one use. */
  const refreshOnce = ({
    record,
    settings,
    row,
  }: {
    record: ActionRecord;
    settings: OAuthSettings;
    row: OAuthTokenRow;
  }): Promise<string | null> => {
    const key = `${row.actionId}:${row.accountId}`;
    const running = refreshing.get(key);
    if (running) return running;
    const work = (async () => {
      const forget = async () => {
        await repository.deleteTokens({ actionId: row.actionId, accountId: row.accountId });
        return null;
      };
      if (row.refreshToken === null) return forget();
      try {
        const refreshToken = secrets.open(row.refreshToken, { context: tokenContext(row, 'refresh') });
        const tokens = await refreshTokens({ ...tokenOptions({ record, settings }), refreshToken });
        await storeTokens({ record, accountId: row.accountId, tokens });
        return tokens.accessToken;
      } catch (error) {
        // A refused or unreadable refresh token means signing in again.
        if (error instanceof OAuthTokenError || error instanceof SecretUnreadableError) return forget();
        throw error;
      }
    })().finally(() => refreshing.delete(key));
    refreshing.set(key, work);
    return work;
  };

  /** The person's access token for an OAuth action (refreshed when it expired), or null: sign in. */
  const accessToken = async ({
    record,
    settings,
    accountId,
    forceRefresh = false,
  }: {
    record: ActionRecord;
    settings: OAuthSettings;
    accountId: string;
    forceRefresh?: boolean;
  }): Promise<string | null> => {
    const row = await repository.findTokens({ actionId: record.id, accountId });
    if (!row) return null;
    const expired = row.expiresAt !== null && row.expiresAt - EXPIRY_MARGIN_SECONDS <= now();
    if (expired || forceRefresh) return refreshOnce({ record, settings, row });
    try {
      return secrets.open(row.accessToken, { context: tokenContext(row, 'access') });
    } catch (error) {
      if (error instanceof SecretUnreadableError) return refreshOnce({ record, settings, row });
      throw error;
    }
  };

  const consentState = async ({
    record,
    call,
  }: {
    record: ActionRecord;
    call: ActionCall;
  }): Promise<ConsentState | null> => {
    const row = await repository.findConsent({
      accountId: call.accountId,
      scopeId: scopeOf(record, call.gptId),
      domain: record.domain,
    });
    return row
      ? { alwaysAllowed: row.alwaysAllowed, lastDecision: row.lastDecision, decidedAt: row.decidedAt }
      : null;
  };

  const completed = (
    fields: Omit<Extract<ActionCallResult, { type: 'completed' }>, 'type' | 'declined'> & {
      declined?: boolean;
    },
  ): ActionCallResult => ({ type: 'completed', declined: false, ...fields });

  const send = async ({
    request,
    authHeader,
    signal,
  }: {
    request: ActionRequest;
    authHeader: { name: string; value: string } | null;
    signal: AbortSignal | undefined;
  }): Promise<SafeFetchResponse> =>
    safeFetch({
      url: request.url,
      method: request.method,
      headers: {
        ...request.headers,
        'user-agent': USER_AGENT,
        ...(authHeader ? { [authHeader.name]: authHeader.value } : {}),
      },
      ...(request.body !== null ? { body: request.body } : {}),
      policy,
      maxBytes: maxResponseBytes,
      timeoutMs,
      connectTimeoutMs,
      // A custom API-key header is a credential too: it never follows a redirect elsewhere.
      sensitiveHeaders: authHeader ? [authHeader.name] : [],
      ...(signal ? { signal } : {}),
      ...(resolve ? { resolve } : {}),
    });

  const invoke: ActionsService['invoke'] = async (call) => {
    const record = await inWorkspace(call.workspaceId, call.actionId);
    const operation = operationOf(record, call.operation);
    const domain = record.domain;
    const failed = (message: string) =>
      completed({
        output: actionErrorOutput({ domain, operation: operation.name, message }),
        ok: false,
        status: null,
        domain,
      });
    let request: ActionRequest;
    try {
      request = buildActionRequest({ operation, arguments: call.arguments });
    } catch (error) {
      if (error instanceof ActionArgumentsError) return failed(error.message);
      throw error;
    }
    const settings = parseAuth(record.auth);
    let token: string | null = null;
    if (settings.type === 'oauth') {
      token = await accessToken({ record, settings, accountId: call.accountId });
      if (token === null) {
        return {
          type: 'oauth_required',
          actionId: record.id,
          domain,
          message: `Sign in to ${domain} to let this GPT use it on your behalf.`,
        };
      }
    }
    if (!call.approved) {
      const state = await consentState({ record, call });
      const consent = decideConsent({ operation, domain, state, request });
      if (consent.needed) {
        // A one-time "Allow" (stored, so any node may take it) lets exactly one call through.
        const granted = await repository.takeGrant({
          accountId: call.accountId,
          scopeId: scopeOf(record, call.gptId),
          domain,
          operation: operation.name,
          at: now(),
        });
        if (!granted) {
          if (
            call.heldSince !== undefined &&
            state?.lastDecision === 'decline' &&
            state.decidedAt >= call.heldSince
          ) {
            return completed({
              output: declinedOutput({ domain, operation: operation.name }),
              ok: false,
              status: null,
              domain,
              declined: true,
            });
          }
          return { type: 'consent_required', consent };
        }
      }
    }
    let authHeader: { name: string; value: string } | null = null;
    try {
      if (settings.type === 'api_key') {
        const key = openSecret(record);
        if (key === null)
          return failed('The action has no API key configured: ask the GPT builder to add it.');
        authHeader = apiKeyHeader({ settings, apiKey: key });
      } else if (settings.type === 'oauth') {
        authHeader = { name: 'authorization', value: `Bearer ${token}` };
      }
    } catch (error) {
      if (error instanceof SecretUnreadableError) {
        return failed(
          "The action's credentials cannot be read on this server any more: ask the GPT builder to enter them again.",
        );
      }
      throw error;
    }
    try {
      let response = await send({ request, authHeader, signal: call.signal });
      if (response.status === 401 && settings.type === 'oauth') {
        // The token was revoked or expired early: refresh once and try again.
        const fresh = await accessToken({
          record,
          settings,
          accountId: call.accountId,
          forceRefresh: true,
        });
        if (fresh === null) {
          return {
            type: 'oauth_required',
            actionId: record.id,
            domain,
            message: `Your sign-in to ${domain} is no longer accepted: sign in again.`,
          };
        }
        response = await send({
          request,
          authHeader: { name: 'authorization', value: `Bearer ${fresh}` },
          signal: call.signal,
        });
      }
      return completed({
        output: actionResponseOutput({
          domain,
          operation: operation.name,
          response,
          maxBytes: maxResponseBytes,
          maxChars: maxOutputChars,
        }),
        ok: response.status < 400,
        status: response.status,
        domain,
      });
    } catch (error) {
      if (error instanceof OutboundRequestError || error instanceof OAuthTokenError)
        return failed(error.message);
      throw error;
    }
  };

  const recordConsent = async ({
    record,
    call,
    decision,
  }: {
    record: ActionRecord;
    call: ActionCall;
    decision: ConsentDecision;
  }) => {
    const operation = operationOf(record, call.operation);
    if (decision === 'always_allow' && operation.consequential) {
      throw new InvalidRequestError(
        `${operation.name} is marked consequential: it asks every time and cannot be always allowed. Allow it once or decline.`,
        { param: 'decision', code: 'consent_not_rememberable' },
      );
    }
    const key = { accountId: call.accountId, scopeId: scopeOf(record, call.gptId), domain: record.domain };
    const previous = await repository.findConsent(key);
    const state = applyConsentDecision({ state: previous, decision, at: now() });
    await repository.saveConsent({ ...key, ...state });
    return operation;
  };

  return {
    preview: (source) => importAction({ source, fetchDocument }),

    async create({
      workspaceId,
      ownerAccountId,
      gptId = null,
      source,
      auth = { type: 'none' },
      privacyPolicyUrl = undefined,
    }) {
      const imported = await importAction({ source, fetchDocument });
      const { settings, secret } = validateAuthInput(auth);
      if (settings.type === 'api_key' && !secret) {
        throw new InvalidRequestError('An API key action needs the API key.', {
          param: 'auth',
          code: 'invalid_action_auth',
        });
      }
      const id = newActionId();
      const sealed =
        settings.type === 'none' || (settings.type === 'oauth' && !secret)
          ? null
          : secrets.seal(secret!, { context: secretContext(id) });
      const record = await repository.create({
        id,
        workspaceId,
        ownerAccountId,
        gptId,
        title: imported.manifest?.nameForHuman ?? imported.spec.title,
        domain: imported.spec.domain,
        sourceKind: imported.manifest ? 'plugin_manifest' : 'openapi',
        document: imported.documentText,
        documentUrl: imported.documentUrl,
        manifest: imported.manifest ? JSON.stringify(imported.manifest) : null,
        manifestUrl: imported.manifestUrl,
        auth: JSON.stringify(settings),
        authSecret: sealed,
        privacyPolicyUrl: checkedPolicyUrl(
          privacyPolicyUrl === undefined ? (imported.manifest?.legalInfoUrl ?? null) : privacyPolicyUrl,
        ),
      });
      return toAction(record);
    },

    async update({
      workspaceId,
      actionId,
      gptId = undefined,
      source = undefined,
      auth = undefined,
      privacyPolicyUrl = undefined,
    }) {
      const record = await inWorkspace(workspaceId, actionId);
      const imported = source ? await importAction({ source, fetchDocument }) : null;
      let authJson: string | undefined;
      let authSecret: SealedSecret | null | undefined;
      if (auth) {
        const before = parseAuth(record.auth);
        const { settings, secret } = validateAuthInput(auth);
        if (secret === undefined) {
          // No new secret: the stored one still fits only the same kind of auth.
          const sameKind =
            before.type === settings.type &&
            (settings.type !== 'api_key' || (before.type === 'api_key' && before.scheme === settings.scheme));
          if (settings.type === 'api_key' && (!sameKind || record.authSecret === null)) {
            throw new InvalidRequestError('Enter the API key: the kind of authentication changed.', {
              param: 'auth',
              code: 'invalid_action_auth',
            });
          }
          authSecret = sameKind ? undefined : null;
        } else {
          authSecret =
            secret === null || secret === ''
              ? null
              : secrets.seal(secret, { context: secretContext(record.id) });
        }
        authJson = JSON.stringify(settings);
        if (before.type === 'oauth' && authJson !== record.auth) {
          // Tokens from another client or server are of no use now.
          await repository.deleteTokensForAction(record.id);
        }
      }
      const updated = await repository.update(record.id, {
        ...(gptId !== undefined ? { gptId } : {}),
        ...(imported
          ? {
              title: imported.manifest?.nameForHuman ?? imported.spec.title,
              domain: imported.spec.domain,
              sourceKind: imported.manifest ? ('plugin_manifest' as const) : ('openapi' as const),
              document: imported.documentText,
              documentUrl: imported.documentUrl,
              manifest: imported.manifest ? JSON.stringify(imported.manifest) : null,
              manifestUrl: imported.manifestUrl,
            }
          : {}),
        ...(authJson !== undefined ? { auth: authJson } : {}),
        ...(authSecret !== undefined ? { authSecret } : {}),
        ...(privacyPolicyUrl !== undefined ? { privacyPolicyUrl: checkedPolicyUrl(privacyPolicyUrl) } : {}),
      });
      if (!updated) throw new NotFoundError(`No action with id '${actionId}'.`, { param: 'action_id' });
      return toAction(updated);
    },

    async get({ workspaceId, actionId }) {
      return toAction(await inWorkspace(workspaceId, actionId));
    },

    async list({ workspaceId, gptId = undefined }) {
      return (await repository.list({ workspaceId, gptId })).map(toAction);
    },

    async delete({ workspaceId, actionId }) {
      await inWorkspace(workspaceId, actionId);
      await repository.delete(actionId);
    },

    sharingProblem(action) {
      return action.privacyPolicyUrl
        ? null
        : `The action "${action.title}" (${action.domain}) has no privacy policy URL: add one to share this GPT beyond yourself.`;
    },

    assertShareable(actions) {
      const missing = actions.filter((action) => !action.privacyPolicyUrl);
      if (missing.length === 0) return;
      throw new InvalidRequestError(
        `A GPT with actions can only be shared once every action has a privacy policy URL; missing for ${missing
          .map((action) => `"${action.title}" (${action.domain})`)
          .join(', ')}.`,
        { param: 'visibility', code: 'privacy_policy_required' },
      );
    },

    async tools({ workspaceId, actionIds }) {
      const used = new Set<string>();
      const tools: ActionTool[] = [];
      for (const actionId of actionIds) {
        const record = await repository.get(actionId);
        // A GPT may still list an action deleted since: its tools are simply gone.
        if (!record || record.workspaceId !== workspaceId) continue;
        for (const operation of specOf(record).operations) {
          // Two actions may both have a `search`: the later one's becomes `search_2`.
          let name = operation.name;
          for (let suffix = 2; used.has(name); suffix++) {
            name = `${operation.name.slice(0, MAX_TOOL_NAME_LENGTH - `_${suffix}`.length)}_${suffix}`;
          }
          used.add(name);
          tools.push({
            name,
            actionId: record.id,
            operation: operation.name,
            domain: record.domain,
            consequential: operation.consequential,
            definition: { ...operation.tool, name },
          });
        }
      }
      return tools;
    },

    instructions(actions) {
      const parts = actions
        .filter((action) => action.manifest)
        .map((action) => `## ${action.manifest!.nameForModel}\n${action.manifest!.descriptionForModel}`);
      return parts.length > 0 ? parts.join('\n\n') : null;
    },

    async checkConsent(call) {
      const record = await inWorkspace(call.workspaceId, call.actionId);
      const operation = operationOf(record, call.operation);
      const request = buildActionRequest({ operation, arguments: call.arguments });
      return decideConsent({
        operation,
        domain: record.domain,
        state: await consentState({ record, call }),
        request,
      });
    },

    invoke,

    async answerConsent({ decision, ...call }) {
      if (!CONSENT_DECISIONS.includes(decision)) {
        throw new InvalidRequestError(
          `Unknown decision ${JSON.stringify(decision)}: use allow_once, always_allow or decline.`,
          {
            param: 'decision',
          },
        );
      }
      const record = await inWorkspace(call.workspaceId, call.actionId);
      const operation = await recordConsent({ record, call, decision });
      if (decision === 'decline') {
        return completed({
          output: declinedOutput({ domain: record.domain, operation: operation.name }),
          ok: false,
          status: null,
          domain: record.domain,
          declined: true,
        });
      }
      return invoke({ ...call, approved: true });
    },

    async rememberConsent({
      accountId,
      workspaceId,
      actionId,
      operation = undefined,
      gptId = undefined,
      decision,
    }) {
      if (!CONSENT_DECISIONS.includes(decision)) {
        throw new InvalidRequestError(
          `Unknown decision ${JSON.stringify(decision)}: use allow_once, always_allow or decline.`,
          { param: 'decision' },
        );
      }
      const record = await inWorkspace(workspaceId, actionId);
      const operationName = operation === undefined ? '' : operationOf(record, operation).name;
      const consentKey = { accountId, scopeId: scopeOf(record, gptId), domain: record.domain };
      if (decision === 'allow_once') {
        const expiresAt = now() + grantTtlSeconds;
        await repository.saveGrant({ ...consentKey, operation: operationName, expiresAt });
        return { domain: record.domain, alwaysAllowed: false, grantExpiresAt: expiresAt };
      }
      if (decision === 'decline') await repository.deleteGrants(consentKey);
      if (operation !== undefined) {
        await recordConsent({
          record,
          call: { accountId, workspaceId, actionId, operation, arguments: {}, gptId },
          decision,
        });
      } else {
        const previous = await repository.findConsent(consentKey);
        await repository.saveConsent({
          ...consentKey,
          ...applyConsentDecision({ state: previous, decision, at: now() }),
        });
      }
      const saved = await repository.findConsent(consentKey);
      return { domain: record.domain, alwaysAllowed: saved?.alwaysAllowed ?? false, grantExpiresAt: null };
    },

    async listConsents(accountId) {
      return (await repository.listConsents(accountId)).map(
        ({ accountId: _account, ...consent }: ConsentRow) => consent,
      );
    },

    revokeConsent: (key) => repository.deleteConsent(key),

    async startOAuth({ accountId, workspaceId, actionId, redirectUri }) {
      const record = await inWorkspace(workspaceId, actionId);
      const settings = parseAuth(record.auth);
      if (settings.type !== 'oauth') {
        throw new InvalidRequestError(`The action '${actionId}' does not use OAuth.`, { param: 'action_id' });
      }
      if (!URL.canParse(redirectUri) || !/^https?:$/.test(new URL(redirectUri).protocol)) {
        throw new InvalidRequestError('The redirect URI must be an http:// or https:// URL.', {
          param: 'redirect_uri',
        });
      }
      const state = createOAuthState();
      const pkce = createPkce();
      const stateHash = hashState(state);
      const expiresAt = now() + oauthStateTtlSeconds;
      await repository.createOAuthState({
        stateHash,
        actionId,
        accountId,
        codeVerifier: secrets.seal(pkce.verifier, { context: `action-oauth-state:${stateHash}` }),
        redirectUri,
        expiresAt,
      });
      return {
        authorizeUrl: authorizeUrl({ settings, redirectUri, state, codeChallenge: pkce.challenge }),
        expiresAt,
      };
    },

    async completeOAuth({ accountId, state, code }) {
      const stateHash = hashState(state);
      const pending = await repository.takeOAuthState(stateHash, now());
      if (!pending || pending.accountId !== accountId) {
        throw new InvalidRequestError(
          'This sign-in link is unknown, was already used, or has expired: start the sign-in again.',
          { param: 'state', code: 'invalid_oauth_state' },
        );
      }
      if (typeof code !== 'string' || code === '') {
        throw new InvalidRequestError('The sign-in returned no authorization code.', { param: 'code' });
      }
      const record = await recordOf(pending.actionId);
      const settings = parseAuth(record.auth);
      if (settings.type !== 'oauth') {
        throw new InvalidRequestError(`The action '${record.id}' no longer uses OAuth.`, {
          param: 'action_id',
        });
      }
      const codeVerifier = secrets.open(pending.codeVerifier, { context: `action-oauth-state:${stateHash}` });
      const tokens = await exchangeCode({
        ...tokenOptions({ record, settings }),
        code,
        redirectUri: pending.redirectUri,
        codeVerifier,
      });
      await storeTokens({ record, accountId, tokens });
      return { actionId: record.id };
    },

    async oauthStatus({ accountId, actionId }) {
      const row = await repository.findTokens({ actionId, accountId });
      return { connected: row !== null, expiresAt: row?.expiresAt ?? null, scope: row?.scope ?? null };
    },

    async disconnectOAuth({ accountId, actionId }) {
      await repository.deleteTokens({ actionId, accountId });
    },

    deleteExpiredOAuthStates: () => repository.deleteExpiredOAuthStates(now()),
  };
}

/** The state parameter is a bearer secret until used: only its hash is stored. */
function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

function checkedPolicyUrl(value: string | null): string | null {
  if (value === null || value.trim() === '') return null;
  const url = URL.canParse(value.trim()) ? new URL(value.trim()) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new InvalidRequestError('The privacy policy URL must be an http:// or https:// URL.', {
      param: 'privacy_policy_url',
    });
  }
  return url.href;
}

function parseAuth(text: string): ActionAuthSettings {
  try {
    const parsed = JSON.parse(text) as ActionAuthSettings;
    if (parsed && (parsed.type === 'none' || parsed.type === 'api_key' || parsed.type === 'oauth'))
      return parsed;
  } catch {
    // fall through
  }
  // A row this version cannot read sends no credentials rather than failing every call.
  return { type: 'none' };
}

function parseManifest(text: string | null): PluginManifest | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as PluginManifest;
  } catch {
    return null;
  }
}
