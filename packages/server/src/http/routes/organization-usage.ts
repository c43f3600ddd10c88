// GET /v1/organization/usage/completions and /embeddings: OpenAI's Usage API over the usage
// ledger, for the workspace of an admin's key or session. Buckets of 1m/1h/1d from start_time,
// paged by `limit`; results grouped by user_id (the person), api_key_id and model on request.
import {
  type UsageCompletionsResult,
  type UsageEmbeddingsResult,
  type UsagePage,
  UsageParams,
  type UsageTimeBucket,
} from '@atelier/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequestError, PermissionDeniedError } from '../../errors.js';
import type { UsageLedger } from '../../platform/usage-ledger.js';
import type { ModelUsageGroup, ModelUsageTotals } from '../../storage/repositories/model-usage-repository.js';
import { parseParams } from '../parse-params.js';

const BUCKETS = {
  '1m': { seconds: 60, defaultLimit: 60, maxLimit: 1440 },
  '1h': { seconds: 3600, defaultLimit: 24, maxLimit: 168 },
  '1d': { seconds: 86_400, defaultLimit: 7, maxLimit: 31 },
} as const;

export function registerOrganizationUsage(app: FastifyInstance, { usage }: { usage: UsageLedger }): void {
  app.get('/v1/organization/usage/completions', (request) =>
    usagePage(request, usage, 'completions', (totals, groups) => ({
      object: 'organization.usage.completions.result',
      input_tokens: totals.inputTokens,
      input_cached_tokens: totals.cachedInputTokens,
      input_uncached_tokens: totals.inputTokens - totals.cachedInputTokens,
      output_tokens: totals.outputTokens,
      input_audio_tokens: 0,
      output_audio_tokens: 0,
      num_model_requests: totals.requests,
      ...groupFields(totals, groups),
      batch: groups.has('batch') ? false : null,
      service_tier: null,
      atelier: { estimated_requests: totals.estimatedRequests },
    })),
  );
  app.get('/v1/organization/usage/embeddings', (request) =>
    usagePage(request, usage, 'embeddings', (totals, groups) => ({
      object: 'organization.usage.embeddings.result',
      input_tokens: totals.inputTokens,
      num_model_requests: totals.requests,
      ...groupFields(totals, groups),
      atelier: { estimated_requests: totals.estimatedRequests },
    })),
  );
}

type Group = NonNullable<UsageParams['group_by']>[number];

async function usagePage<Result extends UsageCompletionsResult | UsageEmbeddingsResult>(
  request: FastifyRequest,
  usage: UsageLedger,
  kind: 'completions' | 'embeddings',
  toResult: (totals: ModelUsageTotals, groups: ReadonlySet<Group>) => Result,
): Promise<UsagePage<Result>> {
  const principal = request.principal;
  if (principal?.role !== 'admin') {
    throw new PermissionDeniedError(
      "You have insufficient permissions for this operation: the Usage API needs a workspace admin's key.",
    );
  }
  const params = parseParams(UsageParams, withoutBrackets(request.query));
  const width = BUCKETS[params.bucket_width];
  const limit = params.limit ?? width.defaultLimit;
  if (limit > width.maxLimit) {
    throw new InvalidRequestError(
      `'limit' must be at most ${width.maxLimit} for bucket_width=${params.bucket_width}.`,
      { param: 'limit' },
    );
  }
  // end_time is exclusive: by default it is past the current second, so what was used in it (even
  // in the first second of a minute, whose row starts there) is counted.
  const end = params.end_time ?? Math.floor(Date.now() / 1000) + 1;
  const start = params.page === undefined ? params.start_time : pageStart(params.page, params.start_time);
  const count = Math.max(0, Math.min(limit, Math.ceil((end - start) / width.seconds)));
  const to = Math.min(end, start + count * width.seconds);
  const groups = new Set(params.group_by ?? []);
  const grouped: ModelUsageGroup[] = [];
  if (groups.has('user_id')) grouped.push('accountId');
  if (groups.has('api_key_id')) grouped.push('apiKeyId');
  if (groups.has('model')) grouped.push('model');
  // A workspace has no projects and runs no batches: asking only for those finds nothing.
  const none = (params.project_ids?.length ?? 0) > 0 || params.batch === 'true';
  await usage.flush();
  const totals = none
    ? []
    : await usage.repository.totals({
        workspaceId: principal.workspaceId,
        endpoints: kind === 'completions' ? ['chat/completions', 'completions'] : ['embeddings'],
        from: start,
        to,
        bucketSeconds: width.seconds,
        apiKeyIds: params.api_key_ids,
        accountIds: params.user_ids,
        models: params.models,
        groupBy: grouped,
      });
  const data: UsageTimeBucket<Result>[] = [];
  for (let index = 0; index < count; index++) {
    const bucketStart = start + index * width.seconds;
    data.push({
      object: 'bucket',
      start_time: bucketStart,
      end_time: Math.min(bucketStart + width.seconds, end),
      results: totals.filter((row) => row.bucketStart === bucketStart).map((row) => toResult(row, groups)),
    });
  }
  const hasMore = to < end;
  return { object: 'page', data, has_more: hasMore, next_page: hasMore ? `page_${to}` : null };
}

function groupFields(totals: ModelUsageTotals, groups: ReadonlySet<Group>) {
  return {
    project_id: null,
    user_id: groups.has('user_id') ? (totals.accountId ?? null) : null,
    api_key_id: groups.has('api_key_id') ? (totals.apiKeyId ?? null) : null,
    model: groups.has('model') ? (totals.model ?? null) : null,
  };
}

/** `page_<unix seconds>`: where the next page's buckets start (after `start_time`). */
function pageStart(page: string, startTime: number): number {
  const match = /^page_(\d{1,15})$/.exec(page);
  const start = match ? Number(match[1]) : Number.NaN;
  if (!(start >= startTime)) throw new InvalidRequestError(`Invalid page: '${page}'.`, { param: 'page' });
  return start;
}

/** The SDKs send lists as `models[]=a`: the same parameter as `models=a`. */
function withoutBrackets(query: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>))
    out[key.endsWith('[]') ? key.slice(0, -2) : key] = value;
  return out;
}
