// Publish/subscribe between the parts of Atelier that do work and those that watch it: a run
// executed by a worker is streamed by the HTTP request that asked for it, possibly on another
// node. Payloads are plain JSON values, so a Redis-backed bus (ATELIER_REDIS_URL, later) can
// carry them unchanged; within one process the in-process bus does.

export type Unsubscribe = () => void;

export interface EventBus {
  /** Delivers `event` to every current subscriber of `channel`, in publish order. */
  publish(channel: string, event: unknown): Promise<void>;
  /**
   * Calls `listener` for each event published on `channel` from now on. Resolves once the
   * subscription is live, so nothing published after that is missed.
   */
  subscribe(channel: string, listener: (event: unknown) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
