// `/v1/embeddings` request and response (float or base64 little-endian float32 vectors).
import { z } from 'zod';

export const EmbeddingCreateParams = z.object({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.number().int().nonnegative()).min(1),
    z.array(z.array(z.number().int().nonnegative()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).default('float'),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});
export type EmbeddingCreateParams = z.infer<typeof EmbeddingCreateParams>;

export const Embedding = z.object({
  object: z.literal('embedding'),
  index: z.number().int(),
  embedding: z.union([z.array(z.number()), z.string()]),
});

export const CreateEmbeddingResponse = z.object({
  object: z.literal('list'),
  data: z.array(Embedding),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type CreateEmbeddingResponse = z.infer<typeof CreateEmbeddingResponse>;
