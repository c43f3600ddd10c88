// How an action authenticates: none, an API key (sent as Basic, Bearer or a custom header) or
// OAuth 2 authorization code. Settings are what may be stored and shown; the secret (the API key
// or the OAuth client secret) travels separately so that it is only ever stored sealed.

import { InvalidRequestError } from '../../errors.js';

export type ApiKeyScheme = 'basic' | 'bearer' | 'custom';

/** How the token endpoint receives the client's credentials. */
export type TokenExchangeMethod = 'post_body' | 'basic_header';

export type ActionAuthSettings =
  | { readonly type: 'none' }
  | {
      readonly type: 'api_key';
      readonly scheme: ApiKeyScheme;
      /** The header of a `custom` key (e.g. `X-Api-Key`); null for basic and bearer. */
      readonly headerName: string | null;
    }
  | {
      readonly type: 'oauth';
      readonly clientId: string;
      /** Where the user's browser goes to sign in and allow access. */
      readonly authorizationUrl: string;
      /** Where the server exchanges the code (and refresh tokens) for tokens. */
      readonly tokenUrl: string;
      /** Space-separated scopes; empty for none. */
      readonly scope: string;
      readonly tokenExchange: TokenExchangeMethod;
      /** The body of token requests: form-encoded (RFC 6749) or JSON (some plugin servers). */
      readonly tokenContentType: 'form' | 'json';
    };

/** Settings plus the secret, as a builder enters them. */
export type ActionAuthInput =
  | { readonly type: 'none' }
  | {
      readonly type: 'api_key';
      readonly scheme: ApiKeyScheme;
      readonly headerName?: string | null;
      /** Omitted on an update: the stored key stays. */
      readonly apiKey?: string;
    }
  | {
      readonly type: 'oauth';
      readonly clientId: string;
      /** Omitted on an update: the stored secret stays. Empty: a public client (PKCE only). */
      readonly clientSecret?: string;
      readonly authorizationUrl: string;
      readonly tokenUrl: string;
      readonly scope?: string;
      readonly tokenExchange?: TokenExchangeMethod;
      readonly tokenContentType?: 'form' | 'json';
    };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers a custom API key may not take over: they shape the request itself. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'cookie',
  'accept-encoding',
]);

/**
 * Checks what a builder entered; returns the settings to store and the secret to seal (undefined:
 * none was given, keep the stored one; null: the kind of auth has no secret).
 */
export function validateAuthInput(input: ActionAuthInput): {
  settings: ActionAuthSettings;
  secret: string | null | undefined;
} {
  switch (input.type) {
    case 'none':
      return { settings: { type: 'none' }, secret: null };
    case 'api_key': {
      if (!['basic', 'bearer', 'custom'].includes(input.scheme)) {
        throw authError(
          `Unknown API key scheme ${JSON.stringify(input.scheme)}: use basic, bearer or custom.`,
        );
      }
      let headerName: string | null = null;
      if (input.scheme === 'custom') {
        const name = input.headerName?.trim() ?? '';
        if (!TOKEN.test(name)) throw authError('A custom API key needs a valid header name, e.g. X-Api-Key.');
        if (RESERVED_HEADERS.has(name.toLowerCase()) || name.toLowerCase().startsWith('proxy-')) {
          throw authError(`The header ${name} cannot carry an API key: it shapes the request itself.`);
        }
        headerName = name;
      }
      if (input.apiKey !== undefined) checkHeaderValue(input.apiKey, 'The API key');
      return { settings: { type: 'api_key', scheme: input.scheme, headerName }, secret: input.apiKey };
    }
    case 'oauth': {
      const clientId = input.clientId?.trim() ?? '';
      if (clientId === '') throw authError('OAuth needs a client id.');
      if (input.clientSecret !== undefined)
        checkHeaderValue(input.clientSecret, 'The client secret', { allowEmpty: true });
      return {
        settings: {
          type: 'oauth',
          clientId,
          authorizationUrl: httpUrl(input.authorizationUrl, 'authorization URL'),
          tokenUrl: httpUrl(input.tokenUrl, 'token URL'),
          scope: (input.scope ?? '').trim(),
          tokenExchange: input.tokenExchange ?? 'post_body',
          tokenContentType: input.tokenContentType ?? 'form',
        },
        secret: input.clientSecret,
      };
    }
    default:
      throw authError(
        `Unknown authentication type ${JSON.stringify((input as { type?: unknown }).type)}: use none, api_key or oauth.`,
      );
  }
}

/**
 * The header an API key becomes. Basic keys are sent as given (ChatGPT's convention: the
 * base64 of `user:password`), except that a raw `user:password` — which base64 never contains —
 * is encoded first.
 */
export function apiKeyHeader({
  settings,
  apiKey,
}: {
  settings: Extract<ActionAuthSettings, { type: 'api_key' }>;
  apiKey: string;
}): { readonly name: string; readonly value: string } {
  if (settings.scheme === 'bearer') return { name: 'authorization', value: `Bearer ${apiKey}` };
  if (settings.scheme === 'basic') {
    const credentials = apiKey.includes(':') ? Buffer.from(apiKey, 'utf8').toString('base64') : apiKey;
    return { name: 'authorization', value: `Basic ${credentials}` };
  }
  return { name: settings.headerName!.toLowerCase(), value: apiKey };
}

function checkHeaderValue(value: string, what: string, { allowEmpty = false } = {}): void {
  if (!allowEmpty && value.trim() === '') throw authError(`${what} is empty.`);
  // A line break would let the value start a header of its own.
  if (/[\r\n\0]/.test(value)) throw authError(`${what} contains a line break or NUL character.`);
}

function httpUrl(value: unknown, what: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw authError(`The OAuth ${what} is not a valid URL.`);
  }
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw authError(`The OAuth ${what} must be an http:// or https:// URL.`);
  }
  return url.href;
}

function authError(message: string): InvalidRequestError {
  return new InvalidRequestError(message, { param: 'auth', code: 'invalid_action_auth' });
}
