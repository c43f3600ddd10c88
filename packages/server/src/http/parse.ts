// Untrusted input is parsed, never trusted: zod at the door, ZodError → 400 naming the param.
import type { z } from 'zod';

export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  return schema.parse(body === undefined ? {} : body);
}
