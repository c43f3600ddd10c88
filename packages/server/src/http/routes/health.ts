// GET /healthz: the server listens only once its models are loaded, so reaching it means ready.
import type { FastifyInstance } from 'fastify';

export function registerHealth(app: FastifyInstance): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
}
