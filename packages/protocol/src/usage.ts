// The Usage API (`GET /v1/organization/usage/completions|embeddings`): tokens and requests per
// time bucket, optionally grouped. An Atelier workspace is the organization; it has no projects
// and no batches, so those groups are always null.
import { z } from 'zod';

/** One value or several (`models=a&models=b`, or the SDKs' `models[]=a`): always a list. */
const list = <Item extends z.ZodType>(item: Item) =>
  z.preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(item));

/** Unix seconds up to the end of year 9999: any later time is a mistake, not a query. */
const LAST_TIME = 253_402_300_799;

export const UsageParams = z.object({
  start_time: z.coerce.number().int().min(0).max(LAST_TIME),
  end_time: z.coerce.number().int().min(0).max(LAST_TIME).optional(),
  bucket_width: z.enum(['1m', '1h', '1d']).default('1d'),
  project_ids: list(z.string()).optional(),
  user_ids: list(z.string()).optional(),
  api_key_ids: list(z.string()).optional(),
  models: list(z.string()).optional(),
  batch: z.enum(['true', 'false']).optional(),
  group_by: list(
    z.enum(['project_id', 'user_id', 'api_key_id', 'model', 'batch', 'service_tier']),
  ).optional(),
  limit: z.coerce.number().int().min(1).optional(),
  page: z.string().min(1).optional(),
});
export type UsageParams = z.infer<typeof UsageParams>;

interface UsageGroups {
  project_id: string | null;
  user_id: string | null;
  api_key_id: string | null;
  model: string | null;
}

export interface UsageCompletionsResult extends UsageGroups {
  object: 'organization.usage.completions.result';
  input_tokens: number;
  input_cached_tokens: number;
  input_uncached_tokens: number;
  output_tokens: number;
  input_audio_tokens: number;
  output_audio_tokens: number;
  num_model_requests: number;
  batch: boolean | null;
  service_tier: string | null;
  /** Atelier's addition: requests whose tokens were estimated (the upstream did not say). */
  atelier: { estimated_requests: number };
}

export interface UsageEmbeddingsResult extends UsageGroups {
  object: 'organization.usage.embeddings.result';
  input_tokens: number;
  num_model_requests: number;
  atelier: { estimated_requests: number };
}

export interface UsageTimeBucket<Result> {
  object: 'bucket';
  start_time: number;
  end_time: number;
  results: Result[];
}

export interface UsagePage<Result> {
  object: 'page';
  data: UsageTimeBucket<Result>[];
  has_more: boolean;
  next_page: string | null;
}
