// Accepts an empty body sent as `application/json` in one Fastify scope (the Assistants routes):
// openai-node 4.x sends that content type on every request, DELETE included, where OpenAI reads
// no body. Anything else is parsed by Fastify's own JSON parser (same errors, same guards).
import type { FastifyInstance } from 'fastify';

export function acceptEmptyJsonBodies(scope: FastifyInstance): void {
  const parse = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
