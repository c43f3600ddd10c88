import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../errors.js';
import { createSignInThrottle } from './sign-in-throttle.js';

describe('sign-in throttle', () => {
  const setup = () => {
    let time = 1000;
    const throttle = createSignInThrottle({
      maxFailuresPerEmail: 3,
      maxFailuresPerAddress: 5,
      windowSeconds: 60,
      now: () => time,
    });
    return { throttle, advance: (seconds: number) => (time += seconds) };
  };

  it('locks an email after its limit of failures, until the window passes', () => {
    const { throttle, advance } = setup();
    const attempt = { email: 'Ada@Example.com', address: '10.0.0.1' };
    for (let index = 0; index < 3; index++) {
      throttle.check(attempt);
      throttle.recordFailure(attempt);
    }
    expect(() => throttle.check({ ...attempt, email: 'ada@example.com', address: '10.0.0.2' })).toThrow(
      RateLimitError,
    );
    try {
      throttle.check(attempt);
    } catch (error) {
      expect((error as RateLimitError).headers['retry-after']).toBe('60');
    }
    advance(61);
    expect(() => throttle.check(attempt)).not.toThrow();
  });

  it('locks an address only at its own, higher limit, and success clears only the email', () => {
    const { throttle } = setup();
    for (let index = 0; index < 5; index++)
      throttle.recordFailure({ email: `user${index}@x`, address: '10.0.0.9' });
    expect(() => throttle.check({ email: 'fresh@x', address: '10.0.0.9' })).toThrow(RateLimitError);
    expect(() => throttle.check({ email: 'fresh@x', address: '10.0.0.8' })).not.toThrow();

    const attempt = { email: 'bob@x', address: '10.0.0.7' };
    throttle.recordFailure(attempt);
    throttle.recordFailure(attempt);
    throttle.recordSuccess(attempt);
    throttle.recordFailure(attempt);
    throttle.recordFailure(attempt);
    expect(() => throttle.check(attempt)).not.toThrow();
  });

  it('keeps a bounded number of entries', () => {
    const throttle = createSignInThrottle({ maxEntries: 10, maxFailuresPerEmail: 1 });
    for (let index = 0; index < 100; index++)
      throttle.recordFailure({ email: `u${index}@x`, address: `a${index}` });
    // The oldest were dropped: the first email is no longer locked.
    expect(() => throttle.check({ email: 'u0@x', address: 'a0' })).not.toThrow();
    expect(() => throttle.check({ email: 'u99@x', address: 'a99' })).toThrow(RateLimitError);
  });
});
