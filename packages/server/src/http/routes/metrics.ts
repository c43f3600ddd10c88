// GET /metrics: the server's metrics in Prometheus's text format (platform/server-metrics.ts).
// Without a token it answers only a caller on this machine (loopback), never one a reverse proxy
// here relays (a request with any forwarding header; every request when ATELIER_TRUST_PROXY says
// a proxy is in front); with ATELIER_METRICS_TOKEN, whoever presents it as a bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationError, PermissionDeniedError } from '../../errors.js';
import { EXPOSITION_CONTENT_TYPE } from '../../platform/metrics-registry.js';
import type { ServerMetrics } from '../../platform/server-metrics.js';

export function registerMetrics(
  app: FastifyInstance,
  {
    metrics,
    token = undefined,
    behindProxy = false,
  }: {
    metrics: ServerMetrics;
    /** Unset: loopback callers only. */
    token?: string | undefined;
    /** The operator said a reverse proxy is in front (ATELIER_TRUST_PROXY): no caller is local. */
    behindProxy?: boolean;
  },
): void {
  const expected = token === undefined ? undefined : digest(token);
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      // Compared as digests: equal lengths, and a constant time whatever the token presented.
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
        throw new AuthenticationError(
          'The metrics need their token: send it in an Authorization header using Bearer auth (ATELIER_METRICS_TOKEN).',
          { code: 'invalid_metrics_token' },
        );
      }
    } else if (behindProxy || !fromThisMachine(request)) {
      throw new PermissionDeniedError(
        behindProxy
          ? 'Behind a reverse proxy the metrics need a token: set ATELIER_METRICS_TOKEN and send it as a bearer token.'
          : "The metrics answer only on the server's own machine (loopback); set ATELIER_METRICS_TOKEN to scrape them from elsewhere.",
        { code: 'metrics_loopback_only' },
      );
    }
    return reply.type(EXPOSITION_CONTENT_TYPE).header('cache-control', 'no-store').send(metrics.render());
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The connection comes from loopback and no proxy forwarded the request. The socket's address,
 * never `request.ip`: behind a trusted proxy that is read from X-Forwarded-For, which a client
 * may have started with `127.0.0.1` itself. A request a proxy on this machine relays (it carries
 * forwarding headers) is someone else's.
 */
function fromThisMachine(request: FastifyRequest): boolean {
  if (!isLoopback(request.socket.remoteAddress ?? '')) return false;
  for (const name of Object.keys(request.headers)) if (FORWARDED.test(name)) return false;
  return true;
}

/** Headers a proxy adds to what it relays: any of them, and the request is someone else's. */
const FORWARDED = /^(x-forwarded-|forwarded$|via$|x-real-ip$|cf-connecting-ip$|true-client-ip$|x-client-ip$)/;

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
