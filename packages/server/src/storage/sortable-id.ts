// Ids that sort by creation: OpenAI's prefix, nine base62 characters of a monotonic microsecond
// sequence, then fifteen random ones (24 after the prefix, like every other id). Lists page by
// that sequence, so a cursor stays meaningful after its object was deleted: the SDK's
// auto-pagination passes the last id of a page as `after`, and "list, then delete what you see"
// is a common loop.

import { ID_PREFIXES, type IdKind, randomBase62 } from '@atelier/protocol';
import { InvalidRequestError } from '../errors.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SEQUENCE_LENGTH = 9;
const RANDOM_LENGTH = 15;

let last = 0;

/**
 * Microseconds since the epoch, strictly increasing within this process (about 1.7e15, well
 * inside a double's exact range). Two processes may rarely produce the same value; lists then
 * order those two by id.
 */
export function nextSequence(): number {
  const candidate = Date.now() * 1000;
  last = candidate > last ? candidate : last + 1;
  return last;
}

export interface SortableId {
  readonly id: string;
  readonly seq: number;
}

export function newSortableId(kind: IdKind): SortableId {
  const seq = nextSequence();
  return { id: ID_PREFIXES[kind] + encode(seq) + randomBase62(RANDOM_LENGTH), seq };
}

/** The sequence inside an id made by `newSortableId`, or null when it is not one of those. */
export function sequenceOfId(kind: IdKind, id: string): number | null {
  const prefix = ID_PREFIXES[kind];
  if (!id.startsWith(prefix) || id.length !== prefix.length + SEQUENCE_LENGTH + RANDOM_LENGTH) return null;
  let value = 0;
  for (const character of id.slice(prefix.length, prefix.length + SEQUENCE_LENGTH)) {
    const digit = ALPHABET.indexOf(character);
    if (digit < 0) return null;
    value = value * 62 + digit;
  }
  return Number.isSafeInteger(value) ? value : null;
}

/** The position of a list cursor (`after`/`before`); a 400 naming the parameter when it is not an id of that kind. */
export function cursorSequence(kind: IdKind, id: string | undefined, param: string): number | undefined {
  if (id === undefined) return undefined;
  const seq = sequenceOfId(kind, id);
  if (seq === null) {
    throw new InvalidRequestError(`Invalid '${param}': '${id}' is not an id from this list.`, { param });
  }
  return seq;
}

function encode(value: number): string {
  let out = '';
  let rest = value;
  for (let index = 0; index < SEQUENCE_LENGTH; index++) {
    out = ALPHABET[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}
