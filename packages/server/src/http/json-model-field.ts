// Finds the top-level `"model"` of a JSON request body without parsing it: requests to upstream
// models are forwarded as the bytes the client sent, with only the model's name swapped, so the
// body is never decoded and re-encoded. Strings are skipped with Buffer#indexOf (native memchr),
// so a long prompt costs little more than its length in memory reads.

export type ModelField =
  /** `start`/`end` span the string token, quotes included. */
  | { readonly kind: 'string'; readonly value: string; readonly start: number; readonly end: number }
  /** Present but not usable as is (not a string, or given twice): the full parser decides. */
  | { readonly kind: 'other' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
// "model" as bytes, the common case of the key, compared without decoding.
const MODEL = [0x6d, 0x6f, 0x64, 0x65, 0x6c] as const;

/**
 * The body's top-level `model` member, or undefined when the body is not a JSON object this scan
 * can read (then the full JSON parser runs and reports what is wrong) or has no such member.
 */
export function findModelField(body: Uint8Array): ModelField | undefined {
  const bytes = body as Buffer;
  const length = bytes.length;
  let index = skipSpace(bytes, 0);
  if (bytes[index] !== OPEN_BRACE) return undefined;
  index = skipSpace(bytes, index + 1);
  let found: ModelField | undefined;
  if (bytes[index] === CLOSE_BRACE) return trailingOnlySpace(bytes, index + 1) ? found : undefined;
  for (;;) {
    if (bytes[index] !== QUOTE) return undefined;
    const keyEnd = stringEnd(bytes, index);
    if (keyEnd < 0) return undefined;
    const isModel = isModelKey(bytes, index, keyEnd);
    index = skipSpace(bytes, keyEnd);
    if (bytes[index] !== COLON) return undefined;
    index = skipSpace(bytes, index + 1);
    const valueStart = index;
    index = valueEnd(bytes, index);
    if (index < 0 || index > length) return undefined;
    if (isModel) {
      const value = bytes[valueStart] === QUOTE ? decodeString(bytes, valueStart, index) : null;
      if (value === undefined) return undefined;
      // Twice is refused rather than guessed: parsers disagree on which one wins, and the
      // upstream must never see another model than the one Atelier routed.
      found =
        found === undefined && value !== null
          ? { kind: 'string', value, start: valueStart, end: index }
          : { kind: 'other' };
    }
    index = skipSpace(bytes, index);
    if (bytes[index] === COMMA) {
      index = skipSpace(bytes, index + 1);
      continue;
    }
    if (bytes[index] === CLOSE_BRACE) return trailingOnlySpace(bytes, index + 1) ? found : undefined;
    return undefined;
  }
}

/** `body` with the `model` string replaced by `model`; the same buffer when nothing changes. */
export function withModel(
  body: Buffer,
  field: Extract<ModelField, { kind: 'string' }>,
  model: string,
): Buffer {
  if (model === field.value) return body;
  const encoded = Buffer.from(JSON.stringify(model), 'utf8');
  return Buffer.concat([body.subarray(0, field.start), encoded, body.subarray(field.end)]);
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(bytes: Buffer, index: number): number {
  while (isSpace(bytes[index])) index++;
  return index;
}

function trailingOnlySpace(bytes: Buffer, index: number): boolean {
  return skipSpace(bytes, index) === bytes.length;
}

/** Index just past the closing quote of the string opening at `start`, or -1. */
function stringEnd(bytes: Buffer, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Index just past the value starting at `start` (structure only; scalars are not checked). */
function valueEnd(bytes: Buffer, start: number): number {
  const first = bytes[start];
  if (first === QUOTE) return stringEnd(bytes, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let index = start;
    while (index < bytes.length) {
      const byte = bytes[index]!;
      if (byte === QUOTE) {
        index = stringEnd(bytes, index);
        if (index < 0) return -1;
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return index + 1;
      }
      index++;
    }
    return -1;
  }
  let index = start;
  while (index < bytes.length) {
    const byte = bytes[index];
    if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte)) break;
    index++;
  }
  return index === start ? -1 : index;
}

function isModelKey(bytes: Buffer, start: number, end: number): boolean {
  if (end - start === MODEL.length + 2) {
    for (let offset = 0; offset < MODEL.length; offset++) {
      if (bytes[start + 1 + offset] !== MODEL[offset]) return false;
    }
    return true;
  }
  // An escaped spelling (`"mod\u0065l"`) is still the key `model` to every JSON parser.
  return bytes.indexOf(BACKSLASH, start) < end && decodeString(bytes, start, end) === 'model';
}

/** The string token's value, or undefined when its escapes are invalid. */
function decodeString(bytes: Buffer, start: number, end: number): string | undefined {
  const backslash = bytes.indexOf(BACKSLASH, start + 1);
  if (backslash < 0 || backslash >= end) return bytes.toString('utf8', start + 1, end - 1);
  try {
    return JSON.parse(bytes.toString('utf8', start, end)) as string;
  } catch {
    return undefined;
  }
}
