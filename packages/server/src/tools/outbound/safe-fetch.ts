// The one way tools reach the outside world (actions, OAuth token endpoints, browsing). Each hop,
// redirects included, resolves the host itself, refuses addresses the outbound policy does not
// allow (loopback, private networks, metadata…), and connects to exactly the address it checked,
// so a DNS answer that changes between the check and the connection (rebinding) changes nothing.
// Only http and https; a connect timeout and a total one; at most `maxBytes` of body are read,
// the rest is never downloaded; credentials are dropped when a redirect leaves the origin.

import { lookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { AtelierError } from '../../errors.js';
import { type IpAddress, parseIpAddress } from './ip-address.js';
import type { OutboundPolicy } from './outbound-policy.js';

/** Resolves a host name to its addresses, in the order to try them. */
export type HostResolver = (hostname: string) => Promise<readonly string[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REDIRECTS = 5;

export interface SafeFetchRequest {
  readonly url: string | URL;
  readonly method?: string;
  /** Request headers; names are case-insensitive. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly policy: OutboundPolicy;
  /** Bytes of (decoded) body kept; the response is cut there and `truncated` set. */
  readonly maxBytes?: number;
  readonly connectTimeoutMs?: number;
  /** Everything: resolving, connecting, every redirect and reading the body. */
  readonly timeoutMs?: number;
  readonly maxRedirects?: number;
  /**
   * Header names that carry credentials besides authorization, cookie and proxy-authorization
   * (e.g. an action's custom API-key header): none of them follows a redirect to another origin.
   */
  readonly sensitiveHeaders?: readonly string[];
  readonly signal?: AbortSignal;
  readonly resolve?: HostResolver;
}

export interface SafeFetchResponse {
  /** The URL that answered, after redirects. */
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  /** Lower-case names; repeated headers joined with ", " (set-cookie is left out). */
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string | null;
  readonly body: Buffer;
  /** True when the body was longer than `maxBytes` and was cut there. */
  readonly truncated: boolean;
  /** The length the server announced (content-length), when it did and did not compress. */
  readonly declaredBytes: number | null;
  readonly redirects: readonly string[];
}

export type OutboundFailure =
  | 'invalid_url'
  | 'blocked'
  | 'unresolvable'
  | 'connect_timeout'
  | 'timeout'
  | 'too_many_redirects'
  | 'network';

/** A request that was refused or failed; the message says which and why, without secrets. */
export class OutboundRequestError extends AtelierError {
  readonly reason: OutboundFailure;
  constructor(message: string, { reason, cause = undefined }: { reason: OutboundFailure; cause?: unknown }) {
    super(message, { status: 400, type: 'invalid_request_error', code: `outbound_${reason}`, cause });
    this.reason = reason;
  }
}

const ALWAYS_SENSITIVE = ['authorization', 'cookie', 'proxy-authorization'];

export async function safeFetch({
  url,
  method = 'GET',
  headers = {},
  body = undefined,
  policy,
  maxBytes = DEFAULT_MAX_RESPONSE_BYTES,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  maxRedirects = DEFAULT_MAX_REDIRECTS,
  sensitiveHeaders = [],
  signal = undefined,
  resolve = systemResolver,
}: SafeFetchRequest): Promise<SafeFetchResponse> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const sensitive = new Set([...ALWAYS_SENSITIVE, ...sensitiveHeaders.map((name) => name.toLowerCase())]);
  let target = checkedUrl(url);
  let hop = { method: method.toUpperCase(), headers: lowerCaseKeys(headers), body };
  const redirects: string[] = [];
  const failure = (error: unknown): unknown => {
    if (deadline.aborted && !(signal?.aborted ?? false)) {
      return new OutboundRequestError(
        `${target.host} did not answer within ${formatSeconds(timeoutMs)}: the request timed out.`,
        { reason: 'timeout', cause: error },
      );
    }
    if (signal?.aborted) return signal.reason ?? error;
    if (error instanceof OutboundRequestError) return error;
    return new OutboundRequestError(`The request to ${target.host} failed: ${describeNetworkError(error)}.`, {
      reason: 'network',
      cause: error,
    });
  };
  try {
    for (;;) {
      const address = await withSignal(checkedAddress(target, policy, resolve), combined);
      const response = await send({ url: target, address, ...hop, connectTimeoutMs, signal: combined });
      const location = response.headers.location;
      if (REDIRECTS.has(response.statusCode ?? 0) && location) {
        response.destroy();
        if (redirects.length >= maxRedirects) {
          throw new OutboundRequestError(
            maxRedirects === 0
              ? `${target.host} answered with a redirect, which is not followed for this request.`
              : `${target.host} redirected more than ${maxRedirects} times; the request was stopped.`,
            { reason: 'too_many_redirects' },
          );
        }
        const next = checkedUrl(resolveLocation(location, target));
        redirects.push(next.href);
        hop = redirectedHop(hop, response.statusCode ?? 0);
        if (next.origin !== target.origin && hop.body !== undefined) {
          // A 307/308 would send the same body to a host nobody agreed to send it to.
          throw new OutboundRequestError(
            `${target.host} redirected the request with its body to another host (${next.host}); it was not sent there.`,
            { reason: 'blocked' },
          );
        }
        if (next.origin !== target.origin) {
          hop = {
            ...hop,
            headers: Object.fromEntries(Object.entries(hop.headers).filter(([name]) => !sensitive.has(name))),
          };
        }
        target = next;
        continue;
      }
      const { body: content, truncated } = await readCapped(response, {
        maxBytes,
        signal: combined,
        host: target.host,
      });
      const declared = Number(response.headers['content-length']);
      return {
        url: target.href,
        status: response.statusCode ?? 0,
        statusText: response.statusMessage ?? '',
        headers: flattenHeaders(response),
        contentType: response.headers['content-type'] ?? null,
        body: content,
        truncated,
        declaredBytes:
          Number.isSafeInteger(declared) && !response.headers['content-encoding'] ? declared : null,
        redirects,
      };
    }
  } catch (error) {
    throw failure(error);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Hop {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array | undefined;
}

/** What the next request of a redirect sends: 303 (and 301/302 after a POST) become a GET, as browsers do. */
function redirectedHop(hop: Hop, status: number): Hop {
  const toGet =
    (status === 303 && hop.method !== 'HEAD') ||
    ((status === 301 || status === 302) && hop.method === 'POST');
  if (!toGet) return hop;
  const { 'content-type': _type, 'content-length': _length, ...headers } = hop.headers;
  return { method: 'GET', headers, body: undefined };
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new OutboundRequestError(`${base.host} redirected to an invalid URL.`, { reason: 'invalid_url' });
  }
}

function checkedUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundRequestError(`"${String(url).slice(0, 200)}" is not a valid URL.`, {
      reason: 'invalid_url',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OutboundRequestError(
      `Only http:// and https:// URLs can be fetched, not ${parsed.protocol.replace(/:$/, '')}:.`,
      { reason: 'invalid_url' },
    );
  }
  if (parsed.username || parsed.password) {
    throw new OutboundRequestError(
      'URLs with a user name or password in them are not fetched: configure authentication instead.',
      { reason: 'invalid_url' },
    );
  }
  return parsed;
}

/** The address to connect to: the literal one, or one the host resolves to that the policy allows. */
async function checkedAddress(url: URL, policy: OutboundPolicy, resolve: HostResolver): Promise<IpAddress> {
  const hostname = bareHostname(url);
  const literal = parseIpAddress(hostname);
  let candidates: IpAddress[];
  if (literal) {
    candidates = [literal];
  } else {
    let resolved: readonly string[];
    try {
      resolved = await resolve(hostname);
    } catch (error) {
      throw new OutboundRequestError(`The host name ${hostname} could not be resolved.`, {
        reason: 'unresolvable',
        cause: error,
      });
    }
    candidates = resolved.map(parseIpAddress).filter((address) => address !== null);
    if (candidates.length === 0) {
      throw new OutboundRequestError(`The host name ${hostname} has no address.`, { reason: 'unresolvable' });
    }
  }
  // Connect only to an address that passed: a name that also resolves to a private address is
  // harmless as long as that one is never used.
  const refusals: string[] = [];
  for (const address of candidates) {
    const refusal = policy.refusal({ hostname, address });
    if (refusal === null) return address;
    refusals.push(refusal);
  }
  const via = literal ? '' : ` (${hostname} resolves to it)`;
  throw new OutboundRequestError(
    `Refused to connect to ${url.host}: ${refusals[0]}${via}. Outbound requests may only reach public internet addresses unless an administrator allows this one (ATELIER_OUTBOUND_ALLOW).`,
    { reason: 'blocked' },
  );
}

function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function send({
  url,
  address,
  method,
  headers,
  body,
  connectTimeoutMs,
  signal,
}: Hop & {
  url: URL;
  address: IpAddress;
  connectTimeoutMs: number;
  signal: AbortSignal;
}): Promise<IncomingMessage> {
  // Every connection goes to the address that was checked, whatever DNS says by now.
  const pinned = ((_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: address.text, family: address.family }]);
    else callback(null, address.text, address.family);
  }) as LookupFunction;
  const client = url.protocol === 'https:' ? https : http;
  const hostname = bareHostname(url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise((resolvePromise, reject) => {
    const request = client.request({
      method,
      hostname,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: {
        'accept-encoding': 'gzip, deflate, br',
        ...headers,
        host: url.host,
        ...(payload ? { 'content-length': String(payload.byteLength) } : {}),
      },
      agent: false,
      lookup: pinned,
      ...(url.protocol === 'https:' && !parseIpAddress(hostname) ? { servername: hostname } : {}),
      signal,
    });
    request.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        request.destroy(
          new OutboundRequestError(
            `Could not connect to ${url.host} within ${formatSeconds(connectTimeoutMs)}.`,
            { reason: 'connect_timeout' },
          ),
        );
      }, connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    request.once('response', resolvePromise);
    // `on`, not `once`: a request destroyed after its response may still report an error.
    request.on('error', reject);
    request.end(payload);
  });
}

async function readCapped(
  response: IncomingMessage,
  { maxBytes, signal, host }: { maxBytes: number; signal: AbortSignal; host: string },
): Promise<{ body: Buffer; truncated: boolean }> {
  const decoded = decodedStream(response);
  const stop = () => {
    response.destroy();
    decoded.destroy();
  };
  signal.addEventListener('abort', stop, { once: true });
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of decoded as AsyncIterable<Buffer>) {
      const room = maxBytes - size;
      if (chunk.length > room) {
        if (room > 0) chunks.push(chunk.subarray(0, room));
        size += Math.max(room, 0);
        truncated = true;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    if (signal.aborted) throw error;
    throw new OutboundRequestError(
      `The response from ${host} broke off or could not be decoded: ${describeNetworkError(error)}.`,
      { reason: 'network', cause: error },
    );
  } finally {
    signal.removeEventListener('abort', stop);
    // Nothing more is read: the rest of a long body is never downloaded.
    stop();
  }
  return { body: Buffer.concat(chunks, size), truncated };
}

function decodedStream(response: IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : null;
  if (!decoder) return response;
  // Errors surface through the decoder, which pipeline destroys with them.
  return pipeline(response, decoder, () => {});
}

function flattenHeaders(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || name === 'set-cookie') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function withSignal<Value>(promise: Promise<Value>, signal: AbortSignal): Promise<Value> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    EPIPE: 'the connection was closed',
    ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is not valid for this host",
    DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate could not be verified",
    CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
    Z_DATA_ERROR: 'the compressed body is corrupt',
    ERR_STREAM_PREMATURE_CLOSE: 'the connection closed early',
  };
  if (typeof code === 'string' && known[code]) return known[code];
  if (error instanceof Error && error.message) return error.message.split('\n')[0]!;
  return 'unknown network error';
}

export function formatSeconds(milliseconds: number): string {
  const seconds = milliseconds / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
