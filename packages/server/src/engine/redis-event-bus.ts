// The event bus of several nodes (ATELIER_REDIS_URL): Redis pub/sub carries each event, as JSON,
// to every node with a subscriber on its channel, so a run executed by a worker on one node is
// streamed by a request on another. Redis keeps the order of one connection's publishes; each
// node publishes on one connection and listens on another (a subscribed connection can do
// nothing else). Redis pub/sub does not keep events for nodes that were away: whatever must
// survive a lost connection lives in the database (runs, messages), and the bus only says
// "look again".

import type { Redis } from 'ioredis';
import { ConfigError } from '../errors.js';
import type { EventBus, Unsubscribe } from './event-bus.js';

export interface RedisEventBusOptions {
  readonly url: string;
  /** Prepended to every channel, so deployments (or test servers) sharing a Redis stay apart. */
  readonly prefix: string;
  /** Called when a connection fails after start (it reconnects by itself). */
  readonly onError?: (error: Error) => void;
}

const CONNECT_TIMEOUT_MS = 5_000;

/** Connects both connections, or fails with a clear ConfigError when Redis cannot be reached. */
export async function createRedisEventBus({ url, prefix, onError }: RedisEventBusOptions): Promise<EventBus> {
  // Loaded here, not at start: a single node without Redis never pays for the client.
  const { Redis: RedisClient } = await import('ioredis');
  const connect = async (role: string): Promise<Redis> => {
    const redis = new RedisClient(url, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Publishes wait for a reconnect rather than failing at once; subscriptions come back by
      // themselves after one (ioredis re-subscribes).
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      connectionName: `atelier-events-${role}`,
    });
    let started = false;
    redis.on('error', (error: Error) => {
      if (started) onError?.(error);
    });
    try {
      await redis.connect();
      started = true;
    } catch (error) {
      redis.disconnect();
      throw new ConfigError(
        `Redis at ${redactUrl(url)} cannot be reached (${(error as Error).message}). Start Redis or fix ATELIER_REDIS_URL; unset it to run a single node without Redis.`,
      );
    }
    return redis;
  };
  const publisher = await connect('publish');
  let subscriber: Redis;
  try {
    subscriber = await connect('subscribe');
  } catch (error) {
    publisher.disconnect();
    throw error;
  }

  const listeners = new Map<string, Set<(event: unknown) => void>>();
  /** Per channel, Redis's confirmation of this node's subscription to it. */
  const subscribed = new Map<string, Promise<unknown>>();
  // Subscribe and unsubscribe commands go out on one connection in the order they are issued, so
  // the last one sent for a channel decides whether this node listens to it.
  subscriber.on('message', (channel: string, payload: string) => {
    const current = listeners.get(channel);
    if (!current) return;
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch {
      return; // Not ours: someone else published on our prefix.
    }
    for (const listener of [...current]) {
      try {
        listener(event);
      } catch {
        // One failing watcher must not stop the others.
      }
    }
  });

  let closed = false;
  return {
    async publish(channel, event) {
      if (closed) return;
      await publisher.publish(prefix + channel, JSON.stringify(event));
    },
    async subscribe(channel, listener): Promise<Unsubscribe> {
      const key = prefix + channel;
      let current = listeners.get(key);
      if (!current) {
        current = new Set();
        listeners.set(key, current);
        subscribed.set(key, subscriber.subscribe(key));
      }
      current.add(listener);
      let done = false;
      const unsubscribe = () => {
        if (done) return;
        done = true;
        const now = listeners.get(key);
        if (!now) return;
        now.delete(listener);
        if (now.size === 0) {
          listeners.delete(key);
          subscribed.delete(key);
          if (!closed) void subscriber.unsubscribe(key).catch(() => {});
        }
      };
      // Resolves once Redis confirms: nothing published after that is missed.
      try {
        await subscribed.get(key);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return unsubscribe;
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      subscribed.clear();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

/** The URL without its password, for messages and logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}
