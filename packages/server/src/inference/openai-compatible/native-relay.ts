// The native relay (native/relay.c, built at install on Linux by scripts/build-native.mjs): it
// relays a chunked upstream answer from the upstream's socket to the client's on a thread of its
// own, with no JavaScript per chunk, and calls back once at the end. Used by http1-pool.ts when
// the addon was built, unless ATELIER_NATIVE_RELAY=off; otherwise the JavaScript relay is used.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';

/** How a native relay ended: the body's end, a failure (`reason`), or stopped by `abort`. */
export type NativeRelayOutcome = 'end' | 'failed' | 'aborted';

/**
 * Why it failed: `closed` (the upstream closed or reset), `timeout` (silence), `client` (the client's
 * socket refused a write), or `framing:<what>` (bad chunk framing).
 */
export type NativeRelayDone = (
  outcome: NativeRelayOutcome,
  reason: string,
  /** The content's last 1 MiB (framing removed); empty unless asked for. */
  tail: Buffer,
  /** The content's whole length. */
  total: number,
  /** Bytes read past the body's end (none, for a connection that can carry another request). */
  leftover: Buffer,
  /** At the end: framed bytes the client had not taken yet, for the caller to send on. */
  unsent: Buffer,
) => void;

/** The addon's two functions. */
export interface NativeRelay {
  /**
   * Relays a chunked body from `upstreamFd` (read from the start of a chunk-size line) to
   * `clientFd`, as the upstream framed it, less the last chunk and trailers (left for whoever ends
   * the body). `timeoutMs`: the longest silence from the upstream (0: none), not counted while the
   * client is behind. Throws when it cannot start (nothing was read then).
   */
  relay(
    upstreamFd: number,
    clientFd: number,
    timeoutMs: number,
    keepTail: boolean,
    done: NativeRelayDone,
  ): unknown;
  /**
   * Stops a relay still running: its descriptors are closed and `done` hears 'aborted' before
   * this returns. A relay that already ended is left alone: `done` hears how it ended, soon after.
   */
  abort(handle: unknown): void;
}

let loaded: NativeRelay | null | undefined;

/** The addon, or undefined when it was not built (or cannot be loaded here). */
export function loadNativeRelay(): NativeRelay | undefined {
  if (loaded === undefined) {
    try {
      // The same path from src/ (tests) and dist/: both are one level under the package.
      const path = fileURLToPath(new URL('../../../native/build/relay.node', import.meta.url));
      loaded = createRequire(import.meta.url)(path) as NativeRelay;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * The descriptor of a plain TCP socket, which the native relay may read or write directly;
 * undefined for TLS (the bytes on the wire are not the answer's) and for a socket without one.
 */
export function plainSocketFd(socket: Socket): number | undefined {
  if (socket instanceof TLSSocket || socket.destroyed) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Stops or restarts Node's own reading of a socket while the native relay reads it. Node has no
 * public way to do this (`pause()` only stops the 'data' events: Node reads on into its buffer), so
 * this uses the socket's internal handle, in this one place. `reading` stays true on the handle
 * either way: it is what Node's `_read` checks before starting to read again by itself.
 */
export function setNodeReading(socket: Socket, reading: boolean): boolean {
  const handle = (
    socket as unknown as {
      _handle?: { reading?: boolean; readStart?: () => number; readStop?: () => number } | null;
    }
  )._handle;
  if (!handle?.readStart || !handle.readStop) return false;
  handle.reading = true;
  return (reading ? handle.readStart() : handle.readStop()) === 0;
}
