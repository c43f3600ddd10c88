// Relays an upstream's answer to the client as it arrives: its status, its headers (less the
// hop-by-hop ones and those that belong to the upstream's own site), and its body bytes piped
// unchanged, chunk by chunk. The reply is taken over from Fastify (hijack) so nothing stands
// between the two sockets: headers go out in one writeHead, bytes in one write per chunk. If the
// client goes away, the upstream connection is closed: the upstream sees the abort and stops.
import type { FastifyReply } from 'fastify';
import type { PassThroughResponse } from '../inference/spec.js';

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
 * case): they win over the upstream's of the same name.
 */
export function relayUpstreamResponse(
  reply: FastifyReply,
  response: PassThroughResponse,
  headers: string[],
): FastifyReply {
  const ours = headers.length;
  // The client correlates with Atelier's request id; the upstream's is kept beside it.
  headers.push('x-request-id', String(reply.request.id));
  const upstream = response.rawHeaders;
  for (let index = 0; index + 1 < upstream.length; index += 2) {
    const name = upstream[index]!.toLowerCase();
    if (DROPPED.has(name) || isOurs(headers, ours, name)) continue;
    headers.push(name === 'x-request-id' ? 'x-upstream-request-id' : name, upstream[index + 1]!);
  }
  const raw = reply.raw;
  const body = response.body;
  reply.hijack();
  raw.writeHead(response.status, headers);
  raw.once('close', () => {
    if (!raw.writableFinished) body.destroy();
  });
  // The upstream broke off mid-answer: the client sees the cut, never a made-up ending.
  body.once('error', () => raw.destroy());
  body.pipe(raw);
  return reply;
}

function isOurs(headers: readonly string[], count: number, name: string): boolean {
  for (let index = 0; index < count; index += 2) if (headers[index] === name) return true;
  return false;
}
