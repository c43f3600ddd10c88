// The OpenAI error envelope: every error a client sees has exactly these four keys.
import { z } from 'zod';

export const ErrorObject = z.object({
  message: z.string(),
  type: z.string(),
  param: z.string().nullable(),
  code: z.string().nullable(),
});
export type ErrorObject = z.infer<typeof ErrorObject>;

export const ErrorResponse = z.object({ error: ErrorObject });
export type ErrorResponse = z.infer<typeof ErrorResponse>;
