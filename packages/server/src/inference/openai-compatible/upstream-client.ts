// HTTP to one OpenAI-compatible upstream. Requests go through undici's Pool: keep-alive
// connections, and per request about half the CPU of node:http's client (measured: the client was
// the largest part of what a pass-through request costs the gateway). The answer's body is handed
// over as a plain Readable, fed chunk by chunk with backpressure. Retries 429/5xx answers and
// failed connections with backoff, always before any byte of the answer has been relayed; the
// caller sees either the final answer or UpstreamUnavailableError. undici is loaded with the first
// request, not at start: a server that never asks an upstream never pays for it.
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import { AtelierError } from '../../errors.js';
import type { PassThroughCall, PassThroughResponse } from '../spec.js';

export interface UpstreamClientOptions {
  readonly name: string;
  /** e.g. `http://host:8000/v1` (no trailing slash). */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Longest wait for the first byte of an answer, and between two of its bytes. */
  readonly timeoutMs: number;
  /** Requests in flight at once; more wait for a connection (undefined: no limit). */
  readonly maxConcurrency: number | undefined;
  readonly maxRetries: number;
  /** First backoff; doubles with each retry (± 25% jitter), up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A `retry-after` longer than this is not waited for: the answer goes to the client. */
  readonly maxRetryAfterMs?: number;
}

/** No answer from the upstream at all (refused, reset, timed out), after the retries. */
export class UpstreamUnavailableError extends AtelierError {
  constructor(upstream: string, reason: string, { cause = undefined }: { cause?: unknown } = {}) {
    super(`The upstream \`${upstream}\` did not answer (${reason}). Please try again later.`, {
      status: 503,
      type: 'service_unavailable_error',
      code: reason === 'timeout' ? 'upstream_timeout' : 'upstream_unavailable',
      cause,
    });
  }
}

export class UpstreamClient {
  readonly name: string;
  private readonly url: URL;
  private readonly pathPrefix: string;
  private readonly authorization: string | undefined;
  /** Every POST's headers (undici adds host and content-length); undici only reads them. */
  private readonly postHeaders: string[];
  private readonly timeoutMs: number;
  private readonly maxConcurrency: number | undefined;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private pool: Pool | undefined;
  private opening: Promise<Pool> | undefined;
  private closed = false;
  /** Discovery's GETs (rare, and at start, before undici is loaded): node:http. */
  private discoveryAgent: http.Agent | undefined;

  constructor({
    name,
    baseUrl,
    apiKey,
    timeoutMs,
    maxConcurrency,
    maxRetries,
    backoffMs = 200,
    maxBackoffMs = 4_000,
    maxRetryAfterMs = 10_000,
  }: UpstreamClientOptions) {
    this.name = name;
    this.url = new URL(baseUrl);
    this.pathPrefix = this.url.pathname.replace(/\/+$/, '');
    this.authorization = apiKey ? `Bearer ${apiKey}` : undefined;
    this.postHeaders = [
      'content-type',
      'application/json',
      ...(this.authorization ? ['authorization', this.authorization] : []),
    ];
    this.timeoutMs = timeoutMs;
    this.maxConcurrency = maxConcurrency;
    this.maxRetries = maxRetries;
    this.backoffMs = backoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.maxRetryAfterMs = maxRetryAfterMs;
  }

  /**
   * POSTs `body` to `<base>/<endpoint>` with retries (see the module comment); `cancel()` gives
   * up at any point before the answer is handed over.
   */
  start({ endpoint, body }: { endpoint: string; body: Uint8Array }): PassThroughCall {
    const call: CallState = { cancelled: false, abort: undefined, fail: undefined, wake: undefined };
    return {
      response: this.post(`${this.pathPrefix}/${endpoint}`, body, call),
      cancel: () => {
        if (call.cancelled) return;
        call.cancelled = true;
        const cancelled = new UpstreamCancelled();
        // Sent: the connection is closed. Still waiting for a connection: the caller hears now,
        // and the request is dropped when its turn comes, unsent.
        call.abort?.(cancelled);
        call.fail?.(cancelled);
        call.wake?.();
      },
    };
  }

  /** `start` for callers that hold an AbortSignal (the engine). */
  send({
    endpoint,
    body,
    signal,
  }: {
    endpoint: string;
    body: Uint8Array;
    signal: AbortSignal;
  }): Promise<PassThroughResponse> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const call = this.start({ endpoint, body });
    const abort = () => call.cancel();
    signal.addEventListener('abort', abort, { once: true });
    return call.response.finally(() => signal.removeEventListener('abort', abort));
  }

  /** GETs `<base>/<endpoint>` once and parses its JSON (discovery); rejects on anything else. */
  async getJson(endpoint: string, { signal }: { signal: AbortSignal }): Promise<unknown> {
    let request: ClientRequest | undefined;
    const abort = () => request?.destroy(new UpstreamTimeout());
    signal.addEventListener('abort', abort, { once: true });
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const secure = this.url.protocol === 'https:';
        this.discoveryAgent ??= secure
          ? new https.Agent({ keepAlive: true })
          : new http.Agent({ keepAlive: true });
        request = (secure ? https : http).request({
          method: 'GET',
          hostname: this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.url.port || undefined,
          path: `${this.pathPrefix}/${endpoint}`,
          headers: this.authorization ? { authorization: this.authorization } : {},
          agent: this.discoveryAgent,
          timeout: this.timeoutMs,
        });
        request.once('response', resolve);
        request.once('error', reject);
        request.once('timeout', () => request?.destroy(new UpstreamTimeout()));
        if (signal.aborted) abort();
        request.end();
      });
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      if (response.statusCode !== 200) {
        throw new AtelierError(
          `GET ${endpoint} answered HTTP ${response.statusCode}: ${text.slice(0, 200)}`,
          {
            status: 503,
            type: 'service_unavailable_error',
            code: 'upstream_unavailable',
          },
        );
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new AtelierError(`GET ${endpoint} did not answer JSON`, {
          status: 503,
          type: 'service_unavailable_error',
          code: 'upstream_unavailable',
        });
      }
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  close(): void {
    this.closed = true;
    void this.pool?.destroy().catch(() => {});
    this.discoveryAgent?.destroy();
  }

  private async post(path: string, body: Uint8Array, call: CallState): Promise<PassThroughResponse> {
    const pool = this.pool ?? (await this.openPool());
    let brokenRetried = false;
    for (let attempt = 0; ; attempt++) {
      let response: PassThroughResponse;
      try {
        response = await this.request({ pool, path, body, call });
      } catch (error) {
        if (call.cancelled) throw error;
        // The connection broke before any answer (typically a kept-alive one the upstream had
        // just closed): not the upstream's fault, so once, and at once.
        if (isBrokenConnection(error) && !brokenRetried) {
          brokenRetried = true;
          attempt--;
          continue;
        }
        if (attempt >= this.maxRetries) throw this.unavailable(error);
        await this.wait(this.backoff(attempt), call);
        continue;
      }
      const status = response.status;
      if ((status === 429 || status >= 500) && attempt < this.maxRetries) {
        const wait = this.retryWait(response.rawHeaders, attempt);
        if (wait !== undefined) {
          response.body.resume(); // read to the end so the connection goes back to the pool
          await this.wait(wait, call);
          continue;
        }
      }
      return response;
    }
  }

  private openPool(): Promise<Pool> {
    this.opening ??= import('undici').then(({ Pool }) => {
      this.pool = new Pool(this.url.origin, { connections: this.maxConcurrency ?? null });
      if (this.closed) void this.pool.destroy().catch(() => {});
      return this.pool;
    });
    return this.opening;
  }

  /** One attempt: settles with the answer once its headers arrived. */
  private request({
    pool,
    path,
    body,
    call,
  }: {
    pool: Pool;
    path: string;
    body: Uint8Array;
    call: CallState;
  }): Promise<PassThroughResponse> {
    if (call.cancelled) return Promise.reject(new UpstreamCancelled());
    return new Promise((resolve, reject) => {
      call.fail = reject;
      pool.dispatch(
        {
          method: 'POST',
          path,
          headers: this.postHeaders,
          body,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        },
        new AnswerHandler({ call, resolve, reject }),
      );
    });
  }

  /** Sleeps `ms` unless the call is cancelled meanwhile (then rejects). */
  private wait(ms: number, call: CallState): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(done, ms);
      call.wake = done;
      function done() {
        clearTimeout(timer);
        call.wake = undefined;
        if (call.cancelled) reject(new UpstreamCancelled());
        else resolve();
      }
    });
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** How long to wait before retrying this answer, or undefined when it must not be retried. */
  private retryWait(rawHeaders: readonly string[], attempt: number): number | undefined {
    if (headerValue(rawHeaders, 'x-should-retry') === 'false') return undefined;
    const afterMs = Number(headerValue(rawHeaders, 'retry-after-ms'));
    const afterSeconds = Number(headerValue(rawHeaders, 'retry-after'));
    const asked = Number.isFinite(afterMs) && afterMs >= 0 ? afterMs : afterSeconds * 1000;
    if (Number.isFinite(asked) && asked >= 0) return asked <= this.maxRetryAfterMs ? asked : undefined;
    return this.backoff(attempt);
  }

  private unavailable(error: unknown): UpstreamUnavailableError {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      error instanceof UpstreamTimeout ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT'
        ? 'timeout'
        : (code ?? (error as Error).name ?? 'error');
    return new UpstreamUnavailableError(this.name, reason, { cause: error });
  }
}

/**
 * undici's callbacks for one attempt: the answer is handed over when its headers arrive, its body
 * bytes are pushed into a Readable as they come (undici pauses the socket while the reader is
 * behind), and destroying that Readable (the client left) closes the upstream connection.
 */
class AnswerHandler implements Dispatcher.DispatchHandlers {
  private readonly call: CallState;
  private readonly resolve: (response: PassThroughResponse) => void;
  private readonly reject: (error: Error) => void;
  private abort: ((error?: Error) => void) | undefined;
  private body: Readable | undefined;

  constructor({
    call,
    resolve,
    reject,
  }: {
    call: CallState;
    resolve: (response: PassThroughResponse) => void;
    reject: (error: Error) => void;
  }) {
    this.call = call;
    this.resolve = resolve;
    this.reject = reject;
  }

  onConnect(abort: (error?: Error) => void): void {
    // Cancelled while waiting for a connection: throwing here drops the request unsent and
    // leaves the connection to the next one (abort() would close it).
    if (this.call.cancelled) throw new UpstreamCancelled();
    this.abort = abort;
    this.call.abort = abort;
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx: the answer follows
    const rawHeaders = new Array<string>(headers.length);
    for (let index = 0; index < headers.length; index++)
      rawHeaders[index] = headers[index]!.toString('latin1');
    const abort = this.abort;
    this.body = new Readable({
      read: () => resume(),
      destroy: (error, callback) => {
        if (!this.body?.readableEnded) abort?.(new UpstreamCancelled());
        callback(error);
      },
    });
    this.call.abort = undefined;
    this.call.fail = undefined;
    this.resolve({ status, rawHeaders, body: this.body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body?.push(chunk) ?? false;
  }

  onComplete(): void {
    this.body?.push(null);
  }

  onError(error: Error): void {
    this.call.abort = undefined;
    this.call.fail = undefined;
    if (this.body) this.body.destroy(error);
    else this.reject(error);
  }
}

/** One call's cancellation state: the attempt in flight, or the wait between two attempts. */
interface CallState {
  cancelled: boolean;
  /** Closes the connection of the attempt in flight (set once it was sent). */
  abort: ((error?: Error) => void) | undefined;
  /** Rejects the attempt in flight, while no answer came. */
  fail: ((error: Error) => void) | undefined;
  wake: (() => void) | undefined;
}

function isBrokenConnection(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** The first value of header `name` (lower case) in a raw name/value list. */
function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let index = 0; index + 1 < rawHeaders.length; index += 2)
    if (rawHeaders[index]!.toLowerCase() === name) return rawHeaders[index + 1];
  return undefined;
}

/** The caller gave up (its client left). */
export class UpstreamCancelled extends Error {
  constructor() {
    super('the request was cancelled');
    this.name = 'UpstreamCancelled';
  }
}

class UpstreamTimeout extends Error {
  constructor() {
    super('the upstream did not answer in time');
    this.name = 'UpstreamTimeout';
  }
}
