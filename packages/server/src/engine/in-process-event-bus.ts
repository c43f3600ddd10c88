// The event bus of a single node: synchronous fan-out to the listeners of a channel.
import type { EventBus, Unsubscribe } from './event-bus.js';

export function createInProcessEventBus(): EventBus {
  const channels = new Map<string, Set<(event: unknown) => void>>();
  return {
    async publish(channel, event) {
      const listeners = channels.get(channel);
      if (!listeners) return;
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          // One failing watcher must not stop the others or the publisher.
        }
      }
    },
    async subscribe(channel, listener): Promise<Unsubscribe> {
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
      }
      listeners.add(listener);
      return () => {
        const current = channels.get(channel);
        if (!current) return;
        current.delete(listener);
        if (current.size === 0) channels.delete(channel);
      };
    },
    async close() {
      channels.clear();
    },
  };
}
