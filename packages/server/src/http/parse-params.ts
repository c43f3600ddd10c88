// Strict parsing of Assistants request bodies: a field the API generation does not know is a
// 400 "Unknown parameter" naming it (as OpenAI answers, e.g. v1's `file_ids` sent to v2), not
// something silently dropped.
import { ZodError, type z } from 'zod';
import { InvalidRequestError } from '../errors.js';

export function parseParams<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  try {
    return schema.parse(body === undefined ? {} : body);
  } catch (error) {
    if (error instanceof ZodError) {
      const issue = error.issues[0];
      if (issue?.code === 'unrecognized_keys') {
        const prefix = issue.path
          .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
          .join('');
        const param = `${prefix}.${issue.keys[0]}`.replace(/^\./, '');
        throw new InvalidRequestError(`Unknown parameter: '${param}'.`, { param, code: 'unknown_parameter' });
      }
    }
    throw error;
  }
}
