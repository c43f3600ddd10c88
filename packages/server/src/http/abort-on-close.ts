// An AbortSignal that fires when the client goes away before the response is complete, so
// generation stops at once instead of running for nobody.
import type { FastifyReply } from 'fastify';

export function abortOnClose(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}
