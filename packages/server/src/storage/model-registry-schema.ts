// The model registry's tables (migration 004) as Kysely sees them; `DatabaseSchema` extends this.
// JSON values are TEXT.

import type { UnixSeconds } from './schema.js';

export interface UpstreamsTable {
  readonly name: string;
  readonly base_url: string;
  /** SecretBox output (see secret-box.ts), bound to the name. */
  readonly api_key_sealed: string | null;
  readonly prefix: string;
  /** JSON array of upstream model ids, or null for discovery. */
  readonly models: string | null;
  readonly timeout_ms: number | null;
  readonly max_concurrency: number | null;
  readonly max_retries: number | null;
  readonly created_at: UnixSeconds;
  readonly updated_at: UnixSeconds;
}

export interface ModelAliasesTable {
  readonly alias: string;
  readonly target: string;
  readonly next_target: string | null;
  readonly switch_at: UnixSeconds | null;
  readonly created_at: UnixSeconds;
  readonly updated_at: UnixSeconds;
}

export interface ModelSettingsTable {
  readonly model: string;
  readonly context_length: number | null;
  /** JSON object of capability → boolean. */
  readonly capabilities: string | null;
  readonly input_price_per_1k: number | null;
  readonly output_price_per_1k: number | null;
  readonly deprecated_at: UnixSeconds | null;
  readonly shutdown_at: UnixSeconds | null;
  readonly replacement: string | null;
  /** JSON array of model ids. */
  readonly fallbacks: string | null;
  readonly created_at: UnixSeconds;
  readonly updated_at: UnixSeconds;
}

export interface ModelRegistrySchema {
  readonly upstreams: UpstreamsTable;
  readonly model_aliases: ModelAliasesTable;
  readonly model_settings: ModelSettingsTable;
}
