// Reads the text of an OpenAPI document or plugin manifest: JSON, or YAML (1.2 core schema, with
// aliases bounded so a small document cannot expand into a huge one).

import { createRequire } from 'node:module';

// The YAML parser (a few MB) loads with the first document, not with the server.
const require = createRequire(import.meta.url);
let yaml: typeof import('yaml') | undefined;

import { ActionDocumentError } from './action-errors.js';

/** The largest document accepted, pasted or fetched. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export function parseDocumentText(text: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_DOCUMENT_BYTES) {
    throw new ActionDocumentError(`The document is larger than ${MAX_DOCUMENT_BYTES / (1024 * 1024)} MB.`, {
      code: 'document_too_large',
    });
  }
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new ActionDocumentError('The document is empty.');
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch (error) {
      throw new ActionDocumentError(`The document is not valid JSON: ${(error as Error).message}`, {
        code: 'invalid_document_syntax',
      });
    }
  }
  yaml ??= require('yaml') as typeof import('yaml');
  const document = yaml.parseDocument(trimmed, { prettyErrors: true, uniqueKeys: true });
  const problem = document.errors[0];
  if (problem) {
    throw new ActionDocumentError(
      `The document is not valid YAML or JSON: ${problem.message.split('\n')[0]}`,
      {
        code: 'invalid_document_syntax',
      },
    );
  }
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ActionDocumentError(`The document cannot be read: ${(error as Error).message}`, {
      code: 'invalid_document_syntax',
    });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
