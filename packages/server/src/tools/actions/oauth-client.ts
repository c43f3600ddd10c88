// OAuth 2 authorization code with PKCE (RFC 6749, RFC 7636) for actions: the URL that sends a
// person to sign in, and the token requests (code exchange, refresh) made from the server through
// safeFetch. Token endpoint answers are read defensively: only the fields RFC 6749 names.

import { createHash, randomBytes } from 'node:crypto';
import { InvalidRequestError } from '../../errors.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { bodyText } from '../outbound/response-text.js';
import { type HostResolver, OutboundRequestError, safeFetch } from '../outbound/safe-fetch.js';
import type { ActionAuthSettings } from './action-auth.js';
import { isPlainObject } from './parse-document.js';

export type OAuthSettings = Extract<ActionAuthSettings, { type: 'oauth' }>;

export interface OAuthTokens {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  readonly tokenType: string;
  readonly scope: string | null;
  /** Unix seconds; null when the server did not say. */
  readonly expiresAt: number | null;
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

/** A random code verifier (64 characters) and its S256 challenge. */
export function createPkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A random state value (43 characters): it ties the callback to the request that started it. */
export function createOAuthState(): string {
  return randomBytes(32).toString('base64url');
}

export function authorizeUrl({
  settings,
  redirectUri,
  state,
  codeChallenge,
}: {
  settings: OAuthSettings;
  redirectUri: string;
  state: string;
  codeChallenge: string;
}): string {
  const url = new URL(settings.authorizationUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  if (settings.scope) url.searchParams.set('scope', settings.scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.href;
}

/** The token endpoint refused, or answered something that is not a token. */
export class OAuthTokenError extends InvalidRequestError {
  /** The OAuth error code (`invalid_grant`, …) when the server gave one. */
  readonly oauthError: string | null;
  constructor(message: string, { oauthError = null }: { oauthError?: string | null } = {}) {
    super(message, { code: 'oauth_token_error', param: 'code' });
    this.oauthError = oauthError;
  }
}

export interface TokenRequestOptions {
  readonly settings: OAuthSettings;
  /** The client secret, or '' for a public client. */
  readonly clientSecret: string;
  readonly policy: OutboundPolicy;
  readonly resolve?: HostResolver | undefined;
  readonly timeoutMs?: number;
  /** Unix seconds now, for `expires_in`. */
  readonly now: number;
}

export function exchangeCode({
  code,
  redirectUri,
  codeVerifier,
  ...options
}: TokenRequestOptions & { code: string; redirectUri: string; codeVerifier: string }): Promise<OAuthTokens> {
  return requestTokens(options, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: codeVerifier,
  });
}

export async function refreshTokens({
  refreshToken,
  ...options
}: TokenRequestOptions & { refreshToken: string }): Promise<OAuthTokens> {
  const tokens = await requestTokens(options, { grant_type: 'refresh_token', refresh_token: refreshToken });
  // A server that does not rotate refresh tokens omits it: the old one stays valid.
  return tokens.refreshToken ? tokens : { ...tokens, refreshToken };
}

async function requestTokens(
  { settings, clientSecret, policy, resolve = undefined, timeoutMs = 15_000, now }: TokenRequestOptions,
  grant: Record<string, string>,
): Promise<OAuthTokens> {
  const fields: Record<string, string> = { ...grant };
  const headers: Record<string, string> = { accept: 'application/json' };
  if (settings.tokenExchange === 'basic_header' && clientSecret !== '') {
    // RFC 6749 §2.3.1: both parts form-encoded before base64.
    const user = encodeURIComponent(settings.clientId);
    const password = encodeURIComponent(clientSecret);
    headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  } else {
    fields['client_id'] = settings.clientId;
    if (clientSecret !== '') fields['client_secret'] = clientSecret;
  }
  let body: string;
  if (settings.tokenContentType === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(fields);
  } else {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(fields).toString();
  }
  const host = new URL(settings.tokenUrl).host;
  let response: Awaited<ReturnType<typeof safeFetch>>;
  try {
    response = await safeFetch({
      url: settings.tokenUrl,
      method: 'POST',
      headers,
      body,
      policy,
      timeoutMs,
      maxBytes: 64 * 1024,
      // A token endpoint that redirects a POST of secrets is not followed anywhere.
      maxRedirects: 0,
      ...(resolve ? { resolve } : {}),
    });
  } catch (error) {
    if (error instanceof OutboundRequestError) {
      throw new OAuthTokenError(`The token endpoint could not be reached: ${error.message}`);
    }
    throw error;
  }
  const text = bodyText(response.body, response.contentType);
  const fieldsOut = parseTokenResponse(text);
  if (response.status < 200 || response.status > 299 || typeof fieldsOut['error'] === 'string') {
    const code = typeof fieldsOut['error'] === 'string' ? fieldsOut['error'].slice(0, 100) : null;
    const description =
      typeof fieldsOut['error_description'] === 'string'
        ? `: ${fieldsOut['error_description'].slice(0, 300)}`
        : '';
    throw new OAuthTokenError(
      `The token endpoint of ${host} refused the request (${response.status}${code ? ` ${code}` : ''}${description}).`,
      { oauthError: code },
    );
  }
  const accessToken = fieldsOut['access_token'];
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new OAuthTokenError(`The token endpoint of ${host} answered without an access_token.`);
  }
  const expiresIn = Number(fieldsOut['expires_in']);
  const refreshToken = fieldsOut['refresh_token'];
  const tokenType = fieldsOut['token_type'];
  const scope = fieldsOut['scope'];
  return {
    accessToken,
    refreshToken: typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : null,
    tokenType: typeof tokenType === 'string' && tokenType !== '' ? tokenType : 'Bearer',
    scope: typeof scope === 'string' ? scope : null,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? now + Math.floor(expiresIn) : null,
  };
}

/** JSON, or form-encoded (some servers answer so unless asked for JSON). */
function parseTokenResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // not JSON
  }
  if (/^[\w.~%+-]+=/.test(text.trim())) return Object.fromEntries(new URLSearchParams(text.trim()));
  return {};
}
