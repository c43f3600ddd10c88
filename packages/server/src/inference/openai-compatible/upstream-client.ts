// HTTP to one OpenAI-compatible upstream. Requests go through a keep-alive pool of HTTP/1.1
// connections (http1-pool.ts), written in one go; an answer is handed over once its head came,
// its body to be relayed as it arrives. Retries 429/5xx answers and failed connections with
// backoff, always before any byte of the answer has been relayed; the caller sees either the
// final answer or UpstreamUnavailableError.
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { AtelierError } from '../../errors.js';
import type { PassThroughCall, PassThroughResponse } from '../spec.js';
import { type Exchange, Http1Pool, UpstreamConnectionClosed, UpstreamTimeout } from './http1-pool.js';
import type { NativeRelay } from './native-relay.js';

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
  /**
   * The certificates (PEM) an HTTPS upstream's must chain to, instead of Node's bundled ones
   * (operators add a private CA for every upstream with NODE_EXTRA_CA_CERTS).
   */
  readonly ca?: string | undefined;
  /** Told of each attempt's outcome (the server's metrics). */
  readonly observer?: UpstreamObserver | undefined;
  /** Relays streamed (chunked) answers natively, on plain HTTP (native-relay.ts). */
  readonly nativeRelay?: NativeRelay | undefined;
}

/**
 * Hears how each attempt went: an answer (its status, and the seconds from the attempt's start,
 * waiting for a free connection included, to its head), or none at all (refused, reset, timed
 * out). A cancelled attempt, and a kept-alive connection found closed (retried at once), are not
 * the upstream's doing and are not told.
 */
export interface UpstreamObserver {
  answered(status: number, seconds: number): void;
  failed(): void;
}

/** No answer from the upstream at all (refused, reset, timed out), after the retries. */
export class UpstreamUnavailableError extends AtelierError {
  constructor(upstream: string, reason: string, { cause = undefined }: { cause?: unknown } = {}) {
    super(`The upstream \`${upstream}\` did not answer (${reason}). Please try again later.`, {
      status: 503,
      type: 'service_unavailable_error',
      code: reason === 'timeout' ? 'upstream_timeout' : 'upstream_unavailable',
      cause,
      // Atelier already retried with backoff; the client may try again a little later.
      headers: { 'retry-after': '1' },
    });
  }
}

export class UpstreamClient {
  readonly name: string;
  private readonly url: URL;
  private readonly pathPrefix: string;
  private readonly authorization: string | undefined;
  private readonly unsendableKey: boolean;
  /** Every POST's header fields after its request line, up to `content-length: `. */
  private readonly postHeaders: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly ca: string | undefined;
  private readonly pool: Http1Pool;
  private readonly observer: UpstreamObserver | undefined;
  /** Discovery's GETs (rare, and at start): node:http. */
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
    ca = undefined,
    observer = undefined,
    nativeRelay = undefined,
  }: UpstreamClientOptions) {
    this.name = name;
    this.url = new URL(baseUrl);
    this.pathPrefix = this.url.pathname.replace(/\/+$/, '');
    this.authorization = apiKey ? `Bearer ${apiKey}` : undefined;
    // A line break or NUL in a header would end it early (and could smuggle another one in).
    this.unsendableKey = /[\0\r\n]/.test(apiKey ?? '');
    this.postHeaders =
      ` HTTP/1.1\r\nhost: ${this.url.host}\r\ncontent-type: application/json\r\n` +
      `${this.authorization && !this.unsendableKey ? `authorization: ${this.authorization}\r\n` : ''}` +
      'content-length: ';
    this.timeoutMs = timeoutMs;
    this.maxRetries = maxRetries;
    this.backoffMs = backoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.maxRetryAfterMs = maxRetryAfterMs;
    this.ca = ca;
    this.observer = observer;
    this.pool = new Http1Pool({ url: this.url, maxConnections: maxConcurrency, ca, nativeRelay });
  }

  /**
   * POSTs `body` to `<base>/<endpoint>` with retries (see the module comment); `cancel()` gives
   * up at any point before the answer is handed over.
   */
  start({ endpoint, body }: { endpoint: string; body: Uint8Array }): PassThroughCall {
    const call: CallState = { cancelled: false, settled: false, exchange: undefined, wake: undefined };
    return {
      response: this.post(`POST ${this.pathPrefix}/${endpoint}${this.postHeaders}`, body, call),
      cancel: () => {
        if (call.cancelled || call.settled) return;
        call.cancelled = true;
        // Sent: the connection is closed. Still waiting for a connection: the caller hears now,
        // and the request leaves the line, unsent.
        call.exchange?.cancel(new UpstreamCancelled());
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
          ? new https.Agent({ keepAlive: true, ...(this.ca ? { ca: this.ca } : {}) })
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
    this.pool.close();
    this.discoveryAgent?.destroy();
  }

  private async post(requestHead: string, body: Uint8Array, call: CallState): Promise<PassThroughResponse> {
    if (this.unsendableKey) {
      throw new AtelierError(
        `The API key configured for the upstream \`${this.name}\` cannot be sent in a header.`,
      );
    }
    const head = `${requestHead}${body.length}\r\n\r\n`;
    let brokenRetried = false;
    for (let attempt = 0; ; attempt++) {
      let response: PassThroughResponse;
      const started = this.observer ? performance.now() : 0;
      try {
        response = await this.request({ head, body, call });
      } catch (error) {
        if (call.cancelled) throw error;
        // A kept-alive connection broke before any answer (typically one the upstream had just
        // closed): not the upstream's fault, so once, and at once.
        if ((error as Failure).reused && isBrokenConnection(error) && !brokenRetried) {
          brokenRetried = true;
          attempt--;
          continue;
        }
        this.observer?.failed();
        if (attempt >= this.maxRetries) throw this.unavailable(error);
        await this.wait(this.backoff(attempt), call);
        continue;
      }
      const status = response.status;
      this.observer?.answered(status, (performance.now() - started) / 1000);
      if ((status === 429 || status >= 500) && attempt < this.maxRetries) {
        const wait = this.retryWait(response.rawHeaders, attempt);
        if (wait !== undefined) {
          response.discard(); // read to the end so the connection serves the next attempt
          await this.wait(wait, call);
          continue;
        }
      }
      call.settled = true;
      return response;
    }
  }

  /** One attempt: settles with the answer once its head arrived. */
  private request({
    head,
    body,
    call,
  }: {
    head: string;
    body: Uint8Array;
    call: CallState;
  }): Promise<PassThroughResponse> {
    if (call.cancelled) return Promise.reject(new UpstreamCancelled());
    return new Promise((resolve, reject) => {
      call.exchange = this.pool.exchange({
        head,
        body,
        timeoutMs: this.timeoutMs,
        handler: {
          answer: resolve,
          fail: (error, { reused }) => {
            (error as Failure).reused = reused;
            reject(error);
          },
        },
      });
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
    const reason = error instanceof UpstreamTimeout ? 'timeout' : (code ?? (error as Error).name ?? 'error');
    return new UpstreamUnavailableError(this.name, reason, { cause: error });
  }
}

/** One call's cancellation state: the attempt in flight, or the wait between two attempts. */
interface CallState {
  cancelled: boolean;
  /** The answer went to the caller: cancelling is then the body's business. */
  settled: boolean;
  /** The attempt in flight (waiting for a connection, or sent). */
  exchange: Exchange | undefined;
  wake: (() => void) | undefined;
}

/** An attempt's failure, with whether it went out on a kept-alive connection. */
type Failure = Error & { reused?: boolean };

function isBrokenConnection(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return error instanceof UpstreamConnectionClosed || code === 'ECONNRESET' || code === 'EPIPE';
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
