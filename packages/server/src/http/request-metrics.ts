// Counts and times every request by method, route pattern and status when its response closes:
// whether Fastify sent it or a route took the socket over (hijack: relayed upstream answers, SSE
// streams), which Fastify's onResponse hook misses when the client leaves first. A response
// closes once, so nothing is counted twice.
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from '../platform/server-metrics.js';

/** The route of a request no route matched: its URL would make a series per URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The client left before any answer went out (nginx's "client closed request"). */
export const CLIENT_CLOSED_REQUEST = 499;

/** Add before any route and any other onRequest hook, so the time includes authentication. */
export function countRequests(app: FastifyInstance, { metrics }: { metrics: ServerMetrics }): void {
  app.addHook('onRequest', (request, reply, done) => {
    const started = performance.now();
    const series = metrics.httpRoute(
      request.method,
      request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE),
    );
    const raw = reply.raw;
    raw.once('close', () => {
      // A stream cut off by its client counts with the status it was sent with.
      const status = raw.headersSent ? raw.statusCode : CLIENT_CLOSED_REQUEST;
      series.observe(status, (performance.now() - started) / 1000);
    });
    done();
  });
}
