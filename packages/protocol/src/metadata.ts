// `metadata` on assistants, threads, messages and runs: at most 16 string pairs, keys up to 64
// characters, values up to 512, as OpenAI enforces.
import { z } from 'zod';

export const Metadata = z
  .record(z.string().max(64, 'keys must be at most 64 characters'), z.string().max(512))
  .refine((value) => Object.keys(value).length <= 16, {
    message: 'too many properties: expected an object with at most 16 properties',
  });
export type Metadata = Record<string, string>;
