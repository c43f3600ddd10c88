// Slows down password guessing: after too many failed sign-ins for one email address, or from
// one client address, within a window, further attempts are refused with a 429 until the window
// has passed. The address limit is far higher: many people may share one address (an office, a
// proxy), and one of them must not lock out the rest. In memory, per process: a restart
// forgets, which only helps the person locked out.

import { RateLimitError } from '../errors.js';

export interface SignInAttempt {
  readonly email: string;
  readonly address: string;
}

export interface SignInThrottle {
  /** Throws RateLimitError (with retry-after) when the email or the address is locked out. */
  check(attempt: SignInAttempt): void;
  recordFailure(attempt: SignInAttempt): void;
  /** A successful sign-in clears the email's failures (not the address's). */
  recordSuccess(attempt: SignInAttempt): void;
}

export interface SignInThrottleOptions {
  readonly maxFailuresPerEmail?: number;
  readonly maxFailuresPerAddress?: number;
  readonly windowSeconds?: number;
  readonly now?: () => number;
  /** Entries kept at most; the oldest are dropped beyond it (bounded memory under attack). */
  readonly maxEntries?: number;
}

interface Entry {
  failures: number;
  /** When the window that started with the first failure ends. */
  resetAt: number;
}

export function createSignInThrottle({
  maxFailuresPerEmail = 10,
  maxFailuresPerAddress = 100,
  windowSeconds = 15 * 60,
  now = () => Date.now() / 1000,
  maxEntries = 100_000,
}: SignInThrottleOptions = {}): SignInThrottle {
  const entries = new Map<string, Entry>();
  const keysOf = ({ email, address }: SignInAttempt) =>
    [
      { key: `email:${email.trim().toLowerCase()}`, limit: maxFailuresPerEmail },
      { key: `address:${address}`, limit: maxFailuresPerAddress },
    ] as const;

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.resetAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  return {
    check(attempt) {
      for (const { key, limit } of keysOf(attempt)) {
        const entry = live(key);
        if (entry && entry.failures >= limit) {
          const retryAfterSeconds = Math.max(1, Math.ceil(entry.resetAt - now()));
          throw new RateLimitError(
            `Too many failed sign-in attempts. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
            { retryAfterSeconds },
          );
        }
      }
    },

    recordFailure(attempt) {
      for (const { key } of keysOf(attempt)) {
        const entry = live(key);
        if (entry) entry.failures += 1;
        else entries.set(key, { failures: 1, resetAt: now() + windowSeconds });
      }
      // Maps iterate in insertion order: the first keys are the oldest windows.
      for (const key of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(key);
      }
    },

    recordSuccess(attempt) {
      entries.delete(keysOf(attempt)[0].key);
    },
  };
}
