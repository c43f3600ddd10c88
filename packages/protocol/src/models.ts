// `/v1/models`: the OpenAI `Model` object, plus Atelier's own metadata under `atelier`.
import { z } from 'zod';

export const ModelCapabilities = z.object({
  chat: z.boolean(),
  completions: z.boolean(),
  embeddings: z.boolean(),
  tools: z.boolean(),
  vision: z.boolean(),
  json: z.boolean(),
});
export type ModelCapabilities = z.infer<typeof ModelCapabilities>;

export const Model = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  /** Atelier extension: what the model is and can do. Unknown keys are ignored by the SDKs. */
  atelier: z
    .object({
      provider: z.string(),
      /** null: the upstream does not say. */
      context_length: z.number().int().nullable(),
      capabilities: ModelCapabilities,
      notice: z.string().optional(),
      /** The OpenAI-compatible upstream serving it. */
      upstream: z.string().optional(),
      /** For an alias: the model it points at now. */
      alias_for: z.string().optional(),
      /** For an alias that will move: where to, and when (unix seconds). */
      scheduled_switch: z.object({ target: z.string(), switch_at: z.number().int() }).optional(),
      deprecation: z
        .object({
          deprecated_at: z.number().int(),
          shutdown_at: z.number().int().nullable(),
          replacement: z.string().nullable(),
        })
        .optional(),
      pricing: z
        .object({
          input_per_1k: z.number().nullable(),
          output_per_1k: z.number().nullable(),
          currency: z.literal('USD'),
        })
        .optional(),
      /** Tried in order when the model's upstream fails before answering. */
      fallbacks: z.array(z.string()).optional(),
      /** For a GPT (`gpt-<id>`): its face, never its instructions or the model it runs on. */
      gpt: z
        .object({
          id: z.string(),
          name: z.string(),
          description: z.string(),
          /** The published version chats get; null: never published (its builder chats with the draft). */
          version: z.number().int().nullable(),
          /** `:draft`: the builder's draft, for its builder only. */
          draft: z.boolean(),
        })
        .optional(),
    })
    .optional(),
});
export type Model = z.infer<typeof Model>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(Model) });
export type ModelList = z.infer<typeof ModelList>;
