// The usage ledger's table (migration 011) as Kysely sees it; `DatabaseSchema` extends this.

import type { UnixSeconds } from './schema.js';

export interface ModelUsageTable {
  readonly workspace_id: string;
  /** The start of the minute. */
  readonly minute: UnixSeconds;
  readonly model: string;
  readonly endpoint: string;
  /** '' when the request came with a web session. */
  readonly api_key_id: string;
  /** '' when there was no person (a workspace key). */
  readonly account_id: string;
  readonly requests: number;
  readonly input_tokens: number;
  readonly cached_input_tokens: number;
  readonly output_tokens: number;
  readonly estimated_requests: number;
}

export interface ModelUsageSchema {
  readonly model_usage: ModelUsageTable;
}
