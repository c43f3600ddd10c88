// Importing an action: pasted or uploaded text, or a URL fetched through safeFetch, holding an
// OpenAPI document or a ChatGPT plugin manifest (whose api.url is then fetched too). The result
// is the OpenAPI text to store and the operations read from it.

import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { bodyText, formatBytes } from '../outbound/response-text.js';
import { type HostResolver, OutboundRequestError, safeFetch } from '../outbound/safe-fetch.js';
import { ActionDocumentError } from './action-errors.js';
import { MAX_DOCUMENT_BYTES, parseDocumentText } from './parse-document.js';
import { isPluginManifest, type PluginManifest, readPluginManifest } from './plugin-manifest.js';
import { type ActionSpec, readOpenApi } from './read-openapi.js';

export type ActionSource =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'url'; readonly url: string };

export interface ImportedAction {
  readonly spec: ActionSpec;
  /** The OpenAPI document as text: what is stored, and read again when the action is used. */
  readonly documentText: string;
  /** Where the OpenAPI document was fetched from (relative server URLs resolve against it). */
  readonly documentUrl: string | null;
  readonly manifest: PluginManifest | null;
  /** Where the manifest was fetched from, when it was. */
  readonly manifestUrl: string | null;
}

/** Fetches a document's text; errors say what went wrong in words for the builder. */
export type DocumentFetcher = (url: string) => Promise<string>;

export async function importAction({
  source,
  fetchDocument,
}: {
  source: ActionSource;
  fetchDocument: DocumentFetcher;
}): Promise<ImportedAction> {
  const sourceUrl = source.type === 'url' ? source.url : null;
  const text = source.type === 'url' ? await fetchDocument(source.url) : source.text;
  const document = parseDocumentText(text);
  if (!isPluginManifest(document)) {
    return {
      spec: readOpenApi(document, { sourceUrl: sourceUrl ?? undefined }),
      documentText: text,
      documentUrl: sourceUrl,
      manifest: null,
      manifestUrl: null,
    };
  }
  const manifest = readPluginManifest(document, { sourceUrl: sourceUrl ?? undefined });
  const openApiText = await fetchDocument(manifest.apiUrl);
  const openApi = parseDocumentText(openApiText);
  if (isPluginManifest(openApi)) {
    throw new ActionDocumentError(
      `The manifest's api.url (${manifest.apiUrl}) is another manifest, not an OpenAPI document.`,
      {
        code: 'invalid_plugin_manifest',
      },
    );
  }
  return {
    spec: readOpenApi(openApi, { sourceUrl: manifest.apiUrl }),
    documentText: openApiText,
    documentUrl: manifest.apiUrl,
    manifest,
    manifestUrl: sourceUrl,
  };
}

/** Reads a stored action's document again (the code reading it may be newer than the row). */
export function readStoredDocument({
  documentText,
  documentUrl,
}: {
  documentText: string;
  documentUrl: string | null;
}): ActionSpec {
  return readOpenApi(parseDocumentText(documentText), { sourceUrl: documentUrl ?? undefined });
}

/** Fetches documents through the outbound policy: 2xx only, at most MAX_DOCUMENT_BYTES. */
export function createDocumentFetcher({
  policy,
  resolve = undefined,
  timeoutMs = 15_000,
}: {
  policy: OutboundPolicy;
  resolve?: HostResolver | undefined;
  timeoutMs?: number;
}): DocumentFetcher {
  return async (url) => {
    let response: Awaited<ReturnType<typeof safeFetch>>;
    try {
      response = await safeFetch({
        url,
        policy,
        headers: { accept: 'application/json, application/yaml, text/yaml, text/plain;q=0.9, */*;q=0.5' },
        maxBytes: MAX_DOCUMENT_BYTES,
        timeoutMs,
        ...(resolve ? { resolve } : {}),
      });
    } catch (error) {
      if (error instanceof OutboundRequestError) {
        throw new ActionDocumentError(`Could not fetch ${url}: ${error.message}`, {
          code: error.code ?? 'fetch_failed',
        });
      }
      throw error;
    }
    if (response.status < 200 || response.status > 299) {
      throw new ActionDocumentError(
        `Could not fetch ${url}: the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`,
        { code: 'fetch_failed' },
      );
    }
    if (response.truncated) {
      throw new ActionDocumentError(
        `The document at ${url} is larger than ${formatBytes(MAX_DOCUMENT_BYTES)}.`,
        {
          code: 'document_too_large',
        },
      );
    }
    return bodyText(response.body, response.contentType);
  };
}
