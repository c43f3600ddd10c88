// Turns a fetched body into text a model can read: decoded with its charset, cut cleanly (never
// in the middle of a character), and recognised as binary when it is not text at all.

const TEXTUAL =
  /^(text\/|application\/([\w.+-]*\+)?(json|xml|yaml|x-yaml|javascript|ecmascript|x-www-form-urlencoded|csv|graphql|problem\+json|ld\+json|x-ndjson|ndjson))/i;

/** Whether a body of this content type (or, without one, these bytes) is text. */
export function isTextBody(contentType: string | null, body: Uint8Array): boolean {
  if (contentType) {
    const type = contentType.split(';')[0]!.trim();
    if (TEXTUAL.test(type) || /[+/](json|xml)$/i.test(type)) return true;
    if (type !== '' && type !== 'application/octet-stream') return false;
  }
  // No usable type: text unless it holds NUL bytes (binary formats nearly always do).
  return !body.subarray(0, 4096).includes(0);
}

/** The body as text, in its declared charset (UTF-8 by default), without a broken last character. */
export function bodyText(body: Uint8Array, contentType: string | null): string {
  const charset = /;\s*charset="?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  const bytes = decoder.encoding === 'utf-8' ? withoutPartialUtf8(body) : body;
  return decoder.decode(bytes);
}

/** `body` without a UTF-8 sequence cut off at its end (what a size cap may leave). */
export function withoutPartialUtf8(body: Uint8Array): Uint8Array {
  // Walk back over continuation bytes (10xxxxxx) to the last lead byte, at most 3.
  let index = body.length - 1;
  let continuation = 0;
  while (index >= 0 && continuation < 3 && (body[index]! & 0xc0) === 0x80) {
    index--;
    continuation++;
  }
  if (index < 0) return body;
  const lead = body[index]!;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return length > continuation + 1 ? body.subarray(0, index) : body;
}

/** "1 MB", "512 KB", "10.5 MB": sizes in messages people and models read. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${trimmed(bytes / 1024)} KB`;
  return `${trimmed(bytes / (1024 * 1024))} MB`;
}

function trimmed(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
}
