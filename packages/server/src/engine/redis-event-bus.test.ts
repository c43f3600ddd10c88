// The Redis bus against the real Redis (127.0.0.1:6379, or ATELIER_TEST_REDIS_URL): what one
// node publishes reaches subscribers on another, in order, and only on the same prefix.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { EventBus } from './event-bus.js';
import { createRedisEventBus } from './redis-event-bus.js';

const url = process.env['ATELIER_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

const opened: EventBus[] = [];
async function bus(prefix: string): Promise<EventBus> {
  const created = await createRedisEventBus({ url, prefix });
  opened.push(created);
  return created;
}

function collector() {
  const seen: unknown[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    listener: (event: unknown) => {
      seen.push(event);
      wake?.();
    },
    async until(count: number, timeoutMs = 5_000): Promise<unknown[]> {
      const deadline = Date.now() + timeoutMs;
      while (seen.length < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return seen;
    },
  };
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((each) => each.close()));
});

describe('the Redis event bus', () => {
  it('carries JSON events from one node to subscribers on another, in publish order', async () => {
    const prefix = `atelier-test-${randomBytes(4).toString('hex')}:`;
    const [one, two] = [await bus(prefix), await bus(prefix)];
    const onTwo = collector();
    const alsoOnOne = collector();
    await two.subscribe('run:1', onTwo.listener);
    await one.subscribe('run:1', alsoOnOne.listener);
    const events = Array.from({ length: 50 }, (_, index) => ({
      index,
      text: `é ${index}`,
      nested: [index, null],
    }));
    for (const event of events) await one.publish('run:1', event);
    expect(await onTwo.until(50)).toEqual(events);
    expect(await alsoOnOne.until(50)).toEqual(events);
  });

  it('stops delivering after unsubscribe, and keeps other channels and prefixes apart', async () => {
    const prefix = `atelier-test-${randomBytes(4).toString('hex')}:`;
    const publisher = await bus(prefix);
    const listener = await bus(prefix);
    const otherDeployment = await bus(`${prefix}other:`);
    const first = collector();
    const second = collector();
    const elsewhere = collector();
    const unsubscribeFirst = await listener.subscribe('chat:a', first.listener);
    await listener.subscribe('chat:a', second.listener);
    await otherDeployment.subscribe('chat:a', elsewhere.listener);
    const otherChannel = collector();
    await listener.subscribe('chat:b', otherChannel.listener);

    await publisher.publish('chat:a', { n: 1 });
    expect(await second.until(1)).toEqual([{ n: 1 }]);
    unsubscribeFirst();
    unsubscribeFirst(); // twice is harmless
    await publisher.publish('chat:a', { n: 2 });
    await publisher.publish('chat:b', { n: 3 });
    expect(await second.until(2)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await otherChannel.until(1)).toEqual([{ n: 3 }]);
    expect(first.seen).toEqual([{ n: 1 }]);
    expect(elsewhere.seen).toEqual([]);
  });

  it('subscribes again after every listener of a channel left', async () => {
    const prefix = `atelier-test-${randomBytes(4).toString('hex')}:`;
    const [publisher, listener] = [await bus(prefix), await bus(prefix)];
    const before = collector();
    (await listener.subscribe('c', before.listener))();
    const after = collector();
    await listener.subscribe('c', after.listener);
    await publisher.publish('c', 'back');
    expect(await after.until(1)).toEqual(['back']);
    expect(before.seen).toEqual([]);
  });

  it('fails to start with a clear error when Redis cannot be reached', async () => {
    const attempt = createRedisEventBus({ url: 'redis://127.0.0.1:1', prefix: 'x:' });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      /Redis at redis:\/\/127\.0\.0\.1:1 cannot be reached .*ATELIER_REDIS_URL/,
    );
  });
});
