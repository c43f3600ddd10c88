// Counts and times every request by method, route pattern and status when its response closes:
// whether Fastify sent it or a route took the socket over (hijack: relayed upstream answers, SSE
// streams), which Fastify's onResponse hook misses when the client leaves first. A response
// closes once, so nothing is counted twice.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerMetrics } from '../platform/server-metrics.js';

/** The route of a request no route matched: its URL would make a series per URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The client left before any answer went out (nginx's "client closed request"). */
export const CLIENT_CLOSED_REQUEST = 499;

/** Add before any route and any other onRequest hook, so the time includes authentication. */
export function countRequests(app: FastifyInstance, { metrics }: { metrics: ServerMetrics }): void {
  app.addHook('onRequest', (request, reply, done) => {
    const started = performance.now();
    const series = metrics.httpRoute(request.method, routeOf(request));
    const raw = reply.raw;
    raw.once('close', () => {
      // A stream cut off by its client counts with the status it was sent with; one the server
      // cut before its head (an upstream head it could not relay) with the 5xx it set.
      const status = raw.headersSent
        ? raw.statusCode
        : raw.statusCode >= 500
          ? raw.statusCode
          : CLIENT_CLOSED_REQUEST;
      series.observe(status, (performance.now() - started) / 1000);
    });
    done();
  });
}

/** The web app's files, one route each: one label for all of them. */
export const STATIC_ROUTE = 'static';

function routeOf(request: FastifyRequest): string {
  if (request.is404) return UNMATCHED_ROUTE;
  const options = request.routeOptions;
  // @fastify/static registers a route per file, its path in `config.file`.
  if ((options.config as { file?: unknown } | undefined)?.file !== undefined) return STATIC_ROUTE;
  return options.url ?? UNMATCHED_ROUTE;
}
