// A ChatGPT plugin manifest (`/.well-known/ai-plugin.json`): the names and descriptions it gives
// the model and people, its logo and legal page, the kind of authentication it expects, and the
// URL of its OpenAPI document (`api.url`), which becomes the action.

import { z } from 'zod';
import type { ApiKeyScheme } from './action-auth.js';
import { ActionDocumentError } from './action-errors.js';
import { isPlainObject } from './parse-document.js';

export interface PluginManifest {
  readonly schemaVersion: string;
  readonly nameForHuman: string;
  readonly nameForModel: string;
  readonly descriptionForHuman: string;
  readonly descriptionForModel: string;
  /** What the plugin expects; the builder supplies the secrets (and an OAuth client id). */
  readonly auth: PluginAuthHint;
  /** The OpenAPI document. */
  readonly apiUrl: string;
  readonly logoUrl: string | null;
  readonly contactEmail: string | null;
  readonly legalInfoUrl: string | null;
}

export type PluginAuthHint =
  | { readonly type: 'none' }
  | { readonly type: 'api_key'; readonly scheme: ApiKeyScheme; readonly perUser: boolean }
  | {
      readonly type: 'oauth';
      readonly authorizationUrl: string;
      readonly tokenUrl: string;
      readonly scope: string;
      readonly tokenContentType: 'form' | 'json';
    };

const Text = z.string().trim().min(1);

const Auth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.enum(['user_http', 'service_http']),
    authorization_type: z.enum(['bearer', 'basic']),
  }),
  z.object({
    type: z.literal('oauth'),
    client_url: Text,
    authorization_url: Text,
    scope: z.string().optional(),
    authorization_content_type: z.string().optional(),
  }),
]);

const Manifest = z.object({
  schema_version: z.string().optional(),
  name_for_human: Text,
  name_for_model: z.string().regex(/^[a-zA-Z0-9_]{1,64}$/, 'must be 1-64 letters, digits or underscores'),
  description_for_human: Text,
  description_for_model: Text,
  auth: Auth,
  api: z.object({ type: z.literal('openapi'), url: Text }),
  logo_url: z.string().optional(),
  contact_email: z.string().optional(),
  legal_info_url: z.string().optional(),
});

/** Whether a parsed document looks like a plugin manifest rather than an OpenAPI document. */
export function isPluginManifest(document: unknown): boolean {
  return (
    isPlainObject(document) &&
    !('openapi' in document) &&
    ('name_for_model' in document || 'schema_version' in document) &&
    'api' in document
  );
}

/** Reads a manifest; `sourceUrl` (where it was fetched) resolves relative URLs in it. */
export function readPluginManifest(
  document: unknown,
  { sourceUrl = undefined }: { sourceUrl?: string | undefined } = {},
): PluginManifest {
  const parsed = Manifest.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ActionDocumentError(
      `The plugin manifest is invalid: ${issue.path.join('.') || '(root)'}: ${issue.message}.`,
      { code: 'invalid_plugin_manifest' },
    );
  }
  const manifest = parsed.data;
  const url = (value: string | undefined, field: string, required = false): string | null => {
    if (value === undefined || value.trim() === '') {
      if (required) throw manifestError(`${field} is missing.`);
      return null;
    }
    let resolved: URL;
    try {
      resolved = sourceUrl === undefined ? new URL(value) : new URL(value, sourceUrl);
    } catch {
      throw manifestError(
        sourceUrl === undefined
          ? `${field} "${value}" is not an absolute URL (the manifest was pasted, so there is nothing to resolve it against).`
          : `${field} "${value}" is not a valid URL.`,
      );
    }
    if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:') {
      throw manifestError(`${field} must be an http:// or https:// URL.`);
    }
    return resolved.href;
  };
  const auth = manifest.auth;
  let hint: PluginAuthHint;
  if (auth.type === 'none') hint = { type: 'none' };
  else if (auth.type === 'oauth') {
    hint = {
      type: 'oauth',
      authorizationUrl: url(auth.client_url, 'auth.client_url', true)!,
      tokenUrl: url(auth.authorization_url, 'auth.authorization_url', true)!,
      scope: auth.scope?.trim() ?? '',
      tokenContentType: /json/i.test(auth.authorization_content_type ?? '') ? 'json' : 'form',
    };
  } else {
    hint = { type: 'api_key', scheme: auth.authorization_type, perUser: auth.type === 'user_http' };
  }
  return {
    schemaVersion: manifest.schema_version ?? 'v1',
    nameForHuman: manifest.name_for_human,
    nameForModel: manifest.name_for_model,
    descriptionForHuman: manifest.description_for_human,
    descriptionForModel: manifest.description_for_model,
    auth: hint,
    apiUrl: url(manifest.api.url, 'api.url', true)!,
    logoUrl: url(manifest.logo_url, 'logo_url'),
    contactEmail: manifest.contact_email?.trim() || null,
    legalInfoUrl: url(manifest.legal_info_url, 'legal_info_url'),
  };
}

function manifestError(message: string): ActionDocumentError {
  return new ActionDocumentError(`The plugin manifest is invalid: ${message}`, {
    code: 'invalid_plugin_manifest',
  });
}
