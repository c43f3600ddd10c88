// HTTP to one OpenAI-compatible upstream over a keep-alive pool (node:http's Agent: measured
// ~4x faster per request than Node 20's bundled fetch, and it hands back a plain stream to pipe).
// Retries 429/5xx answers and failed connections with backoff, always before any byte of the
// answer has been relayed; the caller sees either the final answer or UpstreamUnavailableError.
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
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
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly hostname: string;
  private readonly port: number | undefined;
  private readonly pathPrefix: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetryAfterMs: number;

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
    const url = new URL(baseUrl);
    const secure = url.protocol === 'https:';
    this.name = name;
    this.transport = secure ? https : http;
    // LIFO keeps the few hottest sockets in use, so idle ones time out instead of all going stale.
    const agentOptions = {
      keepAlive: true,
      scheduling: 'lifo' as const,
      maxSockets: maxConcurrency ?? Infinity,
    };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port ? Number(url.port) : undefined;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.authorization = apiKey ? `Bearer ${apiKey}` : undefined;
    this.timeoutMs = timeoutMs;
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
    const call: CallState = { cancelled: false, request: undefined, wake: undefined };
    return {
      response: this.post(`${this.pathPrefix}/${endpoint}`, body, call),
      cancel: () => {
        if (call.cancelled) return;
        call.cancelled = true;
        call.request?.destroy(new UpstreamCancelled());
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
    const call: CallState = { cancelled: false, request: undefined, wake: undefined };
    const abort = () => {
      call.cancelled = true;
      call.request?.destroy(new UpstreamTimeout());
    };
    signal.addEventListener('abort', abort, { once: true });
    try {
      const response = await this.request({ method: 'GET', path: `${this.pathPrefix}/${endpoint}`, call });
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
    this.agent.destroy();
  }

  private async post(path: string, body: Uint8Array, call: CallState): Promise<PassThroughResponse> {
    let staleRetried = false;
    for (let attempt = 0; ; attempt++) {
      let response: IncomingMessage;
      try {
        response = await this.request({ method: 'POST', path, body, call });
      } catch (error) {
        if (call.cancelled) throw error;
        // A pooled connection the upstream had closed while idle: not the upstream's fault, so
        // once, and at once, on a fresh connection.
        if ((error as RequestFailure).reusedSocket && !staleRetried) {
          staleRetried = true;
          attempt--;
          continue;
        }
        if (attempt >= this.maxRetries) throw this.unavailable(error);
        await this.wait(this.backoff(attempt), call);
        continue;
      }
      const status = response.statusCode ?? 502;
      if ((status === 429 || status >= 500) && attempt < this.maxRetries) {
        const wait = this.retryWait(response, attempt);
        if (wait !== undefined) {
          response.resume(); // read to the end so the connection goes back to the pool
          await this.wait(wait, call);
          continue;
        }
      }
      call.request = undefined;
      return { status, rawHeaders: response.rawHeaders, body: response };
    }
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

  private request({
    method,
    path,
    body = undefined,
    call,
  }: {
    method: 'GET' | 'POST';
    path: string;
    body?: Uint8Array | undefined;
    call: CallState;
  }): Promise<IncomingMessage> {
    if (call.cancelled) return Promise.reject(new UpstreamCancelled());
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(body.byteLength);
      }
      if (this.authorization) headers['authorization'] = this.authorization;
      const request = this.transport.request({
        method,
        hostname: this.hostname,
        port: this.port,
        path,
        headers,
        agent: this.agent,
        timeout: this.timeoutMs,
      });
      call.request = request;
      request.once('response', resolve);
      request.once('error', (error: RequestFailure) => {
        error.reusedSocket = request.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET';
        reject(error);
      });
      request.once('timeout', () => request.destroy(new UpstreamTimeout()));
      request.end(body);
    });
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** How long to wait before retrying this answer, or undefined when it must not be retried. */
  private retryWait(response: IncomingMessage, attempt: number): number | undefined {
    if (response.headers['x-should-retry'] === 'false') return undefined;
    const afterMs = Number(response.headers['retry-after-ms']);
    const afterSeconds = Number(response.headers['retry-after']);
    const asked = Number.isFinite(afterMs) && afterMs >= 0 ? afterMs : afterSeconds * 1000;
    if (Number.isFinite(asked) && asked >= 0) return asked <= this.maxRetryAfterMs ? asked : undefined;
    return this.backoff(attempt);
  }

  private unavailable(error: unknown): UpstreamUnavailableError {
    const reason =
      error instanceof UpstreamTimeout
        ? 'timeout'
        : ((error as NodeJS.ErrnoException).code ?? (error as Error).name ?? 'error');
    return new UpstreamUnavailableError(this.name, reason, { cause: error });
  }
}

type RequestFailure = Error & { reusedSocket?: boolean };

/** One call's cancellation state: the request in flight, or the wait between two attempts. */
interface CallState {
  cancelled: boolean;
  request: ClientRequest | undefined;
  wake: (() => void) | undefined;
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
