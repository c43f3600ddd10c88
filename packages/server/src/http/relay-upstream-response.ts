// Relays an upstream's answer to the client as it arrives: its status, its headers (less the
// hop-by-hop ones and those that belong to the upstream's own site), and its body bytes
// unchanged. The reply is taken over from Fastify (hijack) so nothing stands between the two
// sockets. A chunked answer to an HTTP/1.1 client goes to the client's socket as the upstream
// framed it, one socket write per read from the upstream: no decoding, no re-chunking (Nagle is
// off on both sockets: Node's server sets it on accepted ones, the upstream client on its own). If
// the client goes away, the upstream connection is closed: the upstream sees the abort and stops.
import type { FastifyReply } from 'fastify';
import type { PassThroughResponse, PassThroughSink } from '../inference/spec.js';

/** Upstream headers that must not reach the client. */
const DROPPED = new Set([
  // hop-by-hop (RFC 9110 §7.6.1): they describe the upstream connection, not the response
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  // ours: Node writes its own date; cookies, CORS and HSTS are the upstream site's business
  'date',
  'server',
  'set-cookie',
  'strict-transport-security',
  'alt-svc',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-expose-headers',
  // which organisation and project the upstream key belongs to is not the client's to see
  'openai-organization',
  'openai-project',
  // Atelier's word on which model answered (an upstream Atelier says its own)
  'x-atelier-model',
]);

/**
 * Sends `response` to the client. `headers` are Atelier's own (name, value, name, value…, lower
 * case): they win over the upstream's of the same name. `inspect` sees each piece of the body's
 * content as it passes; `ended` hears whether the body reached the client whole.
 */
export function relayUpstreamResponse({
  reply,
  response,
  headers,
  inspect = undefined,
  ended = undefined,
}: {
  reply: FastifyReply;
  response: PassThroughResponse;
  headers: string[];
  inspect?: ((piece: Buffer, skipped?: number) => void) | undefined;
  ended?: ((whole: boolean) => void) | undefined;
}): FastifyReply {
  const ours = headers.length;
  // The client correlates with Atelier's request id; the upstream's is kept beside it.
  headers.push('x-request-id', String(reply.request.id));
  const upstream = response.rawHeaders;
  const chunked = response.chunked;
  for (let index = 0; index + 1 < upstream.length; index += 2) {
    const name = upstream[index]!.toLowerCase();
    if (DROPPED.has(name) || isOurs(headers, ours, name)) continue;
    // Beside chunked framing a length is a lie (and a request-smuggling pattern): never relayed.
    if (chunked && name === 'content-length') continue;
    headers.push(name === 'x-request-id' ? 'x-upstream-request-id' : name, upstream[index + 1]!);
  }
  const raw = reply.raw;
  const request = reply.request.raw;
  // The socket is the response's only while it is this response's turn on the connection (a
  // pipelined request's response waits in Node's queue, and then has none yet).
  const socket = raw.socket;
  const framed =
    chunked && socket !== null && request.httpVersionMajor === 1 && request.httpVersionMinor >= 1;
  if (framed) headers.push('transfer-encoding', 'chunked');
  reply.hijack();
  try {
    raw.writeHead(response.status, headers);
  } catch (error) {
    // A head Node will not send (the upstream client refuses such values; this is the last
    // guard): the client's connection is cut rather than left waiting, the upstream's too.
    reply.log.error({ err: error }, 'the upstream answer has a head that cannot be relayed');
    // Counted as the bad gateway it is, not as a client that left (http/request-metrics.ts).
    raw.statusCode = 502;
    response.destroy();
    raw.destroy();
    ended?.(false);
    return reply;
  }
  // Said once: whole when the body ended, cut when the upstream broke off or the client left (the
  // upstream still made, and may bill, what it sent up to then).
  let told = false;
  const tell = (whole: boolean) => {
    if (told) return;
    told = true;
    ended?.(whole);
  };
  raw.once('close', () => {
    if (raw.writableFinished) return;
    response.destroy();
    tell(false);
  });
  // Both write to a stream whose `write` says false when it is full: then the upstream waits.
  const target = framed ? socket! : raw;
  const resume = () => response.resume();
  const sink: PassThroughSink = {
    // Framed bytes go straight to the socket: they already carry their chunk framing.
    framed,
    // The native relay (when on) may write the framed bytes to it itself.
    socket: framed ? socket! : undefined,
    write: (bytes) => {
      if (target.write(bytes)) return true;
      target.once('drain', resume);
      return false;
    },
    inspect,
    // Node writes the last chunk that ends a framed body.
    end: () => {
      raw.end();
      tell(true);
    },
    // The upstream broke off mid-answer: the client sees the cut, never a made-up ending.
    fail: () => {
      raw.destroy();
      tell(false);
    },
  };
  if (framed) {
    // The head and whatever of the body already came leave in one write.
    socket!.cork();
    raw.flushHeaders();
    response.relay(sink);
    socket!.uncork();
  } else response.relay(sink);
  return reply;
}

function isOurs(headers: readonly string[], count: number, name: string): boolean {
  for (let index = 0; index < count; index += 2) if (headers[index] === name) return true;
  return false;
}
