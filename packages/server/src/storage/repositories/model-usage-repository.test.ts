import { expect, it } from 'vitest';
import { describeEachDialect } from '../test-support/dialects.js';
import { createModelUsageRepository, type ModelUsageIncrement } from './model-usage-repository.js';

const row = (changes: Partial<ModelUsageIncrement>): ModelUsageIncrement => ({
  workspaceId: 'ws_1',
  minute: 1_700_000_040,
  model: 'lab/m',
  endpoint: 'chat/completions',
  apiKeyId: 'key_1',
  accountId: null,
  requests: 1,
  inputTokens: 10,
  cachedInputTokens: 2,
  outputTokens: 5,
  estimatedRequests: 0,
  ...changes,
});

describeEachDialect('model usage repository', (getHandle) => {
  const repository = () => createModelUsageRepository(getHandle().db);

  it('adds to rows, and sums them into buckets from any start, grouped as asked', async () => {
    const minute = 1_700_000_040; // a minute boundary
    await repository().add([row({}), row({ model: 'lab/n', minute: minute + 60 })]);
    // A second node (or flush) adds to the same rows.
    await repository().add([
      row({ estimatedRequests: 1 }),
      row({ apiKeyId: null, accountId: 'acct_1', minute: minute + 3660 }),
      row({ endpoint: 'embeddings', outputTokens: 0 }),
      row({ workspaceId: 'ws_2' }),
    ]);
    const query = {
      workspaceId: 'ws_1',
      endpoints: ['chat/completions', 'completions'],
      // Mid-minute: a minute counts where it starts, so the one at `minute` is in the first bucket.
      from: minute - 30,
      to: minute + 2 * 3600,
      bucketSeconds: 3600,
    };
    expect(await repository().totals({ ...query, groupBy: [] })).toEqual([
      {
        bucketStart: minute - 30,
        requests: 3,
        inputTokens: 30,
        cachedInputTokens: 6,
        outputTokens: 15,
        estimatedRequests: 1,
      },
      {
        bucketStart: minute + 3570,
        requests: 1,
        inputTokens: 10,
        cachedInputTokens: 2,
        outputTokens: 5,
        estimatedRequests: 0,
      },
    ]);
    const byKeyAndModel = await repository().totals({
      ...query,
      groupBy: ['apiKeyId', 'accountId', 'model'],
    });
    expect(
      byKeyAndModel.map((totals) => [
        totals.bucketStart - minute,
        totals.apiKeyId,
        totals.accountId,
        totals.model,
        totals.requests,
      ]),
    ).toEqual([
      [-30, 'key_1', null, 'lab/m', 2],
      [-30, 'key_1', null, 'lab/n', 1],
      [3570, null, 'acct_1', 'lab/m', 1],
    ]);
    const filtered = await repository().totals({
      ...query,
      bucketSeconds: 60,
      models: ['lab/n'],
      groupBy: ['model'],
    });
    expect(filtered).toEqual([
      expect.objectContaining({ bucketStart: minute + 30, model: 'lab/n', requests: 1 }),
    ]);
    // Two ranges that meet inside a minute count it once: in the range where it starts.
    const halves = await Promise.all([
      repository().totals({ ...query, to: minute + 30, groupBy: [] }),
      repository().totals({ ...query, from: minute + 30, groupBy: [] }),
    ]);
    expect(halves.map((buckets) => buckets.reduce((sum, bucket) => sum + bucket.requests, 0))).toEqual([
      2, 2,
    ]);
    expect(await repository().totals({ ...query, apiKeyIds: [], groupBy: [] })).toEqual([]);
    expect(await repository().totals({ ...query, endpoints: ['embeddings'], groupBy: [] })).toEqual([
      expect.objectContaining({ requests: 1, outputTokens: 0 }),
    ]);
  });
});
