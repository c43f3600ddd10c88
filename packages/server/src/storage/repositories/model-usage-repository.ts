// The usage ledger's rows: tokens and requests per minute, workspace, API key, person, model and
// endpoint, added to by upserts (so several server nodes add to the same rows), and read back
// summed into time buckets, grouped as the Usage API asks.

import { type Kysely, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';
import type { DatabaseSchema } from '../schema.js';

/** Counts to add to one row. `apiKeyId`/`accountId` null: no key (a web session), no person. */
export interface ModelUsageIncrement {
  readonly workspaceId: string;
  readonly minute: number;
  readonly model: string;
  readonly endpoint: string;
  readonly apiKeyId: string | null;
  readonly accountId: string | null;
  readonly requests: number;
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly outputTokens: number;
  readonly estimatedRequests: number;
}

export type ModelUsageGroup = 'apiKeyId' | 'accountId' | 'model';

export interface ModelUsageQuery {
  readonly workspaceId: string;
  readonly endpoints: readonly string[];
  /** Unix seconds: from (inclusive, to its minute) to (exclusive). Buckets start at `from`. */
  readonly from: number;
  readonly to: number;
  readonly bucketSeconds: number;
  readonly apiKeyIds?: readonly string[] | undefined;
  readonly accountIds?: readonly string[] | undefined;
  readonly models?: readonly string[] | undefined;
  readonly groupBy: readonly ModelUsageGroup[];
}

export interface ModelUsageTotals {
  readonly bucketStart: number;
  /** Set for the groups asked for (null: no key, no person). */
  readonly apiKeyId?: string | null;
  readonly accountId?: string | null;
  readonly model?: string;
  readonly requests: number;
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly outputTokens: number;
  readonly estimatedRequests: number;
}

export interface ModelUsageRepository {
  /** Adds every increment to its row (made when missing), all or none. Keys must be distinct. */
  add(increments: readonly ModelUsageIncrement[]): Promise<void>;
  /** Sums per bucket (and group), buckets in order; empty buckets are not returned. */
  totals(query: ModelUsageQuery): Promise<ModelUsageTotals[]>;
}

const COLUMNS = { apiKeyId: 'api_key_id', accountId: 'account_id', model: 'model' } as const;

export function createModelUsageRepository(db: Kysely<DatabaseSchema>): ModelUsageRepository {
  return {
    async add(increments) {
      if (increments.length === 0) return;
      await inTransaction(db, async (trx) => {
        // In slices: SQLite takes at most 32,766 bound values in one statement.
        for (let start = 0; start < increments.length; start += 500) {
          await trx
            .insertInto('model_usage')
            .values(
              increments.slice(start, start + 500).map((increment) => ({
                workspace_id: increment.workspaceId,
                minute: increment.minute,
                model: increment.model,
                endpoint: increment.endpoint,
                api_key_id: increment.apiKeyId ?? '',
                account_id: increment.accountId ?? '',
                requests: increment.requests,
                input_tokens: increment.inputTokens,
                cached_input_tokens: increment.cachedInputTokens,
                output_tokens: increment.outputTokens,
                estimated_requests: increment.estimatedRequests,
              })),
            )
            .onConflict((conflict) =>
              conflict
                .columns(['workspace_id', 'minute', 'model', 'endpoint', 'api_key_id', 'account_id'])
                .doUpdateSet({
                  requests: sql`model_usage.requests + excluded.requests`,
                  input_tokens: sql`model_usage.input_tokens + excluded.input_tokens`,
                  cached_input_tokens: sql`model_usage.cached_input_tokens + excluded.cached_input_tokens`,
                  output_tokens: sql`model_usage.output_tokens + excluded.output_tokens`,
                  estimated_requests: sql`model_usage.estimated_requests + excluded.estimated_requests`,
                }),
            )
            .execute();
        }
      });
    },

    async totals({
      workspaceId,
      endpoints,
      from,
      to,
      bucketSeconds,
      apiKeyIds,
      accountIds,
      models,
      groupBy,
    }) {
      // An empty filter list matches nothing.
      if (
        endpoints.length === 0 ||
        to <= from ||
        [apiKeyIds, accountIds, models].some((ids) => ids?.length === 0)
      )
        return [];
      // Integer arithmetic on both dialects (SQLite binds JS numbers as REAL).
      const origin = sql`cast(${from} as bigint)`;
      const width = sql`cast(${bucketSeconds} as bigint)`;
      const bucket = sql<number>`(${origin} + ((minute - ${origin}) / ${width}) * ${width})`;
      const groups = groupBy.map((group) => COLUMNS[group]);
      let query = db
        .selectFrom('model_usage')
        .select([
          bucket.as('bucket_start'),
          // cast: Postgres sums bigints as numeric, read as text; bigint is read as a number.
          sql<number>`cast(sum(requests) as bigint)`.as('requests'),
          sql<number>`cast(sum(input_tokens) as bigint)`.as('input_tokens'),
          sql<number>`cast(sum(cached_input_tokens) as bigint)`.as('cached_input_tokens'),
          sql<number>`cast(sum(output_tokens) as bigint)`.as('output_tokens'),
          sql<number>`cast(sum(estimated_requests) as bigint)`.as('estimated_requests'),
        ])
        .select(groups)
        .where('workspace_id', '=', workspaceId)
        .where('endpoint', 'in', [...endpoints])
        // Rows are per minute, each counted where its minute starts: a range that starts or ends
        // inside a minute (a page of buckets after an unaligned start_time) never counts it twice.
        .where('minute', '>=', from)
        .where('minute', '<', to)
        // By the output column: Postgres would not see two bindings of one value as one expression.
        .groupBy([sql`bucket_start`, ...groups])
        .orderBy('bucket_start');
      for (const group of groups) query = query.orderBy(group);
      if (apiKeyIds) query = query.where('api_key_id', 'in', [...apiKeyIds]);
      if (accountIds) query = query.where('account_id', 'in', [...accountIds]);
      if (models) query = query.where('model', 'in', [...models]);
      const rows = await query.execute();
      return rows.map((row) => {
        const values = row as typeof row & Partial<Record<(typeof groups)[number], string>>;
        return {
          bucketStart: Number(values.bucket_start),
          ...(groupBy.includes('apiKeyId') ? { apiKeyId: values.api_key_id || null } : {}),
          ...(groupBy.includes('accountId') ? { accountId: values.account_id || null } : {}),
          ...(groupBy.includes('model') ? { model: values.model ?? '' } : {}),
          requests: Number(values.requests),
          inputTokens: Number(values.input_tokens),
          cachedInputTokens: Number(values.cached_input_tokens),
          outputTokens: Number(values.output_tokens),
          estimatedRequests: Number(values.estimated_requests),
        };
      });
    },
  };
}
