// Password hashing with scrypt (node:crypto): a random salt per password, the parameters stored
// beside the hash so they can be raised later (needsRehash), and a constant-time comparison.
//
// Why N = 2^15, r = 8: 32 MiB and roughly 50-100 ms per hash on a server core, costly for an
// offline guesser yet cheap enough that sign-ins cannot tie up the machine (hashes run on libuv's
// four-thread pool, so at most ~128 MiB is in use at once, however many requests arrive).

import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const SCHEME = 'scrypt';
const DEFAULT_PARAMS = Object.freeze({ cost: 2 ** 15, blockSize: 8, parallelization: 1 });
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

type Params = { readonly cost: number; readonly blockSize: number; readonly parallelization: number };

/** `scrypt$N=32768,r=8,p=1$<salt>$<hash>` with base64url salt and hash. */
export async function hashPassword(password: string, params: Params = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, params);
  return [
    SCHEME,
    `N=${params.cost},r=${params.blockSize},p=${params.parallelization}`,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** Whether `password` matches `stored`; false (never an exception) for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/** True when `stored` was made with weaker parameters than today's: re-hash at the next sign-in. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return (
    !parsed ||
    parsed.params.cost < DEFAULT_PARAMS.cost ||
    parsed.params.blockSize < DEFAULT_PARAMS.blockSize ||
    parsed.hash.length < KEY_LENGTH
  );
}

function derive(password: string, salt: Buffer, params: Params, keyLength = KEY_LENGTH): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.cost,
    r: params.blockSize,
    p: params.parallelization,
    // Node refuses more than 32 MiB by default; allow what these parameters need, and a margin.
    maxmem: 256 * params.cost * params.blockSize * params.parallelization,
  };
  // NFKC: the same password typed on different systems (composed or decomposed Hangul, full-width
  // forms) gives the same bytes, as NIST SP 800-63B recommends.
  const bytes = Buffer.from(password.normalize('NFKC'), 'utf8');
  return new Promise((resolve, reject) => {
    scrypt(bytes, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function parse(stored: string): { params: Params; salt: Buffer; hash: Buffer } | null {
  const [scheme, paramText, saltText, hashText, ...rest] = stored.split('$');
  if (scheme !== SCHEME || !paramText || !saltText || !hashText || rest.length > 0) return null;
  const match = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(paramText);
  if (!match) return null;
  const params = { cost: Number(match[1]), blockSize: Number(match[2]), parallelization: Number(match[3]) };
  // Bounds keep a corrupted or hostile row from asking for gigabytes of memory.
  const valid =
    params.cost >= 2 &&
    params.cost <= 2 ** 20 &&
    (params.cost & (params.cost - 1)) === 0 &&
    params.blockSize >= 1 &&
    params.blockSize <= 32 &&
    params.parallelization >= 1 &&
    params.parallelization <= 16;
  if (!valid) return null;
  const salt = Buffer.from(saltText, 'base64url');
  const hash = Buffer.from(hashText, 'base64url');
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return null;
  return { params, salt, hash };
}
