// GET /metrics: the server's metrics in Prometheus's text format (platform/server-metrics.ts).
// Without a token it answers only a caller on this machine (loopback), never one a reverse proxy
// here relays; with ATELIER_METRICS_TOKEN, whoever presents it as a bearer token, from anywhere.
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
  }: {
    metrics: ServerMetrics;
    /** Unset: loopback callers only. */
    token?: string | undefined;
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
    } else if (!fromThisMachine(request)) {
      throw new PermissionDeniedError(
        "The metrics answer only on the server's own machine (loopback); set ATELIER_METRICS_TOKEN to scrape them from elsewhere.",
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
  const headers = request.headers;
  return (
    headers['x-forwarded-for'] === undefined &&
    headers['forwarded'] === undefined &&
    headers['x-real-ip'] === undefined
  );
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
