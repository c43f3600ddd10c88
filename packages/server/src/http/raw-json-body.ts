// Keeps JSON request bodies as bytes in one Fastify scope (the model-serving routes): a request for
// an upstream model is forwarded as it came, and only a request that Atelier serves itself is
// parsed, once, by the same parser Fastify would have used (same errors, same proto-poisoning guard).
import type { FastifyInstance } from 'fastify';

export type ParseJson = (bytes: Buffer) => unknown;

/** Makes `request.body` the raw Buffer in `scope`; returns the parser to use when JSON is needed. */
export function acceptRawJson(scope: FastifyInstance): ParseJson {
  const parse = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  return (bytes) => {
    let result: unknown;
    // Fastify's default parser calls back synchronously.
    // Typed for strings; it reads Buffers too (secure-json-parse decodes them as UTF-8).
    parse(undefined as never, bytes as unknown as string, (error, value) => {
      if (error) throw error;
      result = value;
    });
    return result;
  };
}
