// Fastify's JSON-schema compilers (Ajv for validation, fast-json-stringify for serialisation),
// loaded the first time a route declares a JSON schema rather than at start. Atelier validates
// with zod and declares none, so about a hundred modules stay unloaded (and out of the idle
// memory); a route that does declare one gets Fastify's usual compilers. (One difference from
// Fastify's defaults, for such a route only: custom compilers receive header schemas as written.)
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

// Resolved from Fastify itself: these are its dependencies, not Atelier's.
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

export const lazySchemaCompilers: CompilersFactory = {
  buildValidator: ((...args: unknown[]) =>
    fastifyRequire('@fastify/ajv-compiler')()(...args)) as CompilersFactory['buildValidator'],
  buildSerializer: (...args) => fastifyRequire('@fastify/fast-json-stringify-compiler')()(...args),
};
