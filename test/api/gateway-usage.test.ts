// What passed-through requests used, counted in the same ledger as local models and read back
// through the Usage API: a second Atelier (on the test model) is the upstream, and its own ledger
// counts the same requests as local-model requests, so the two must agree.
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createModelUsageRepository } from '../../packages/server/src/storage/repositories/model-usage-repository.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  banEndTokens,
  MODEL,
  postRaw,
  startApiServer,
  streamRaw,
  vocabulary,
} from '../support/api-server.js';
import { assertMatchesLatestSpec } from './vector-stores-support.js';

let upstream: TestServer;
let gateway: TestServer;
/** The upstream model's vocabulary (its end tokens are banned where a reply must run on). */
let tokens: string[];

const LAB = `lab/${MODEL}`;

beforeAll(async () => {
  upstream = await startApiServer();
  gateway = await startApiServer({
    models: {},
    env: {
      ATELIER_UPSTREAMS: JSON.stringify([
        { name: 'lab', base_url: `${upstream.baseURL}`, api_key: upstream.apiKey, prefix: 'lab/' },
      ]),
    },
  });
  tokens = await vocabulary(upstream);
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** The Usage API's client for `server` (the test key is its workspace's admin key). */
function admin(server: TestServer): OpenAI {
  return new OpenAI({ baseURL: server.baseURL, adminAPIKey: server.apiKey, apiKey: null, maxRetries: 0 });
}

/** Requests counted in a page of completions usage, all buckets and groups. */
function requestsIn(page: { data: Array<{ results: unknown[] }> }): number {
  return (page.data.flatMap((bucket) => bucket.results) as Array<{ num_model_requests: number }>).reduce(
    (sum, result) => sum + result.num_model_requests,
    0,
  );
}

async function keyId(server: TestServer): Promise<string> {
  const key = await server.server.storage.repositories.apiKeys.findActiveBySecret(server.apiKey);
  return key!.id;
}

/** One window for every reading of this file: before and after never straddle two windows. */
const SINCE = Math.floor(Date.now() / 60_000) * 60 - 60;

/** The completions usage of `model` on `server` since this file began, by model and API key. */
async function completionsUsage(server: TestServer, model: string) {
  const page = await admin(server).admin.organization.usage.completions({
    start_time: SINCE,
    bucket_width: '1m',
    group_by: ['model', 'api_key_id'],
    models: [model],
  });
  assertMatchesLatestSpec('UsageResponse', page);
  const results = page.data.flatMap((bucket) => bucket.results) as unknown as Array<{
    input_tokens: number;
    input_cached_tokens: number;
    output_tokens: number;
    num_model_requests: number;
    model: string;
    api_key_id: string;
    atelier: { estimated_requests: number };
  }>;
  return {
    requests: results.reduce((sum, result) => sum + result.num_model_requests, 0),
    input: results.reduce((sum, result) => sum + result.input_tokens, 0),
    output: results.reduce((sum, result) => sum + result.output_tokens, 0),
    estimated: results.reduce((sum, result) => sum + result.atelier.estimated_requests, 0),
    results,
  };
}

const hello = [{ role: 'user' as const, content: 'Say hello to the fox and the dog.' }];

describe('usage of passed-through requests', () => {
  it('counts what the upstream reported, streamed or not, in the ledger local models use', async () => {
    const before = await completionsUsage(gateway, LAB);
    const localBefore = await completionsUsage(upstream, MODEL);

    const completion = await gateway.client.chat.completions.create({
      model: LAB,
      messages: hello,
      max_tokens: 6,
    });
    const streamed = await streamRaw<ChatCompletionChunk>(gateway, '/chat/completions', {
      model: LAB,
      messages: hello,
      max_tokens: 5,
      stream_options: { include_usage: true },
    });
    const streamedUsage = streamed.chunks.at(-1)?.usage;
    expect(streamedUsage?.completion_tokens).toBeGreaterThan(0);

    const after = await completionsUsage(gateway, LAB);
    expect(after.requests - before.requests).toBe(2);
    expect(after.estimated - before.estimated).toBe(0);
    expect(after.input - before.input).toBe(completion.usage!.prompt_tokens + streamedUsage!.prompt_tokens);
    expect(after.output - before.output).toBe(
      completion.usage!.completion_tokens + streamedUsage!.completion_tokens,
    );
    expect(after.results[0]).toMatchObject({ model: LAB, api_key_id: await keyId(gateway) });

    // The upstream counted the same requests as its own local model's, the same way.
    const local = await completionsUsage(upstream, MODEL);
    expect(local.requests - localBefore.requests).toBe(2);
    expect(local.input - localBefore.input).toBe(after.input - before.input);
    expect(local.output - localBefore.output).toBe(after.output - before.output);
  });

  it('counts legacy completions the same way', async () => {
    const before = await completionsUsage(gateway, LAB);
    const response = await postRaw(gateway, '/completions', {
      model: LAB,
      prompt: 'Once upon',
      max_tokens: 3,
    });
    expect(response.status).toBe(200);
    const { usage } = JSON.parse(response.text) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const after = await completionsUsage(gateway, LAB);
    expect([
      after.requests - before.requests,
      after.input - before.input,
      after.output - before.output,
    ]).toEqual([1, usage.prompt_tokens, usage.completion_tokens]);
  });

  it('estimates a stream whose client did not ask for usage, and says it did', async () => {
    const before = await completionsUsage(gateway, LAB);
    const streamed = await streamRaw<ChatCompletionChunk>(gateway, '/chat/completions', {
      model: LAB,
      messages: hello,
      max_tokens: 7,
    });
    // The client gets the stream as the upstream sent it: no usage chunk was asked for or added.
    expect(streamed.chunks.every((chunk) => !chunk.usage)).toBe(true);
    const contentChunks = streamed.chunks.filter((chunk) => chunk.choices[0]?.delta?.content).length;
    const after = await completionsUsage(gateway, LAB);
    expect(after.requests - before.requests).toBe(1);
    expect(after.estimated - before.estimated).toBe(1);
    // About one token per streamed delta, and about 4 characters per token of the prompt.
    expect(after.output - before.output).toBeGreaterThanOrEqual(contentChunks);
    expect(after.input - before.input).toBe(Math.ceil(hello[0]!.content.length / 4));
  });

  it.each([
    ['passed through', () => gateway, LAB],
    ['of a local model', () => upstream, MODEL],
  ])('counts a stream %s that its client left halfway, from what had passed', async (_, server, model) => {
    const before = await completionsUsage(server(), model);
    const controller = new AbortController();
    // The random-weight model may end its reply at any token: it must run on until the client leaves.
    const stream = await server().client.chat.completions.create(
      { model, messages: hello, max_tokens: 400, logit_bias: banEndTokens(tokens), stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    let finished = false;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) seen += 1;
        if (seen === 3) controller.abort();
        if (chunk.choices[0]?.finish_reason) finished = true;
      }
    } catch {
      // The SDK may end the loop quietly or with its abort error: either way, the client left.
    }
    expect([seen, finished]).toEqual([3, false]);
    await expect
      .poll(async () => (await completionsUsage(server(), model)).requests - before.requests)
      .toBe(1);
    const after = await completionsUsage(server(), model);
    expect(after.estimated - before.estimated).toBe(1);
    expect(after.input - before.input).toBeGreaterThan(0);
    expect(after.output - before.output).toBeGreaterThanOrEqual(3);
  });

  it('counts embeddings apart, and only for a workspace admin', async () => {
    const embedded = await gateway.client.embeddings.create({ model: LAB, input: ['one fox', 'two dogs'] });
    const page = await admin(gateway).admin.organization.usage.embeddings({
      start_time: Math.floor(Date.now() / 1000) - 120,
      bucket_width: '1h',
      group_by: ['model'],
    });
    assertMatchesLatestSpec('UsageResponse', page);
    const results = page.data.flatMap((bucket) => bucket.results);
    expect(results).toEqual([
      expect.objectContaining({
        object: 'organization.usage.embeddings.result',
        model: LAB,
        num_model_requests: 1,
        input_tokens: embedded.usage.prompt_tokens,
      }),
    ]);
    // The upstream counted them for its local embedding model.
    const local = await admin(upstream).admin.organization.usage.embeddings({
      start_time: Math.floor(Date.now() / 1000) - 120,
      bucket_width: '1h',
      models: [MODEL],
    });
    expect(local.data.flatMap((bucket) => bucket.results)).toEqual([
      expect.objectContaining({ num_model_requests: 1, input_tokens: embedded.usage.prompt_tokens }),
    ]);

    const { repositories } = gateway.server.storage;
    const workspaceId = (await repositories.apiKeys.findActiveBySecret(gateway.apiKey))!.workspaceId;
    const { secret } = await repositories.apiKeys.create({ workspaceId, name: 'member', role: 'member' });
    const member = new OpenAI({ baseURL: gateway.baseURL, adminAPIKey: secret, apiKey: null, maxRetries: 0 });
    await expect(member.admin.organization.usage.completions({ start_time: 0 })).rejects.toMatchObject({
      status: 403,
    });
    const bad = await fetch(
      `${gateway.baseURL}/organization/usage/completions?start_time=0&bucket_width=1w`,
      {
        headers: { authorization: `Bearer ${gateway.apiKey}` },
      },
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('bucket_width');
    // A time past any database's integers is refused, never tried.
    const far = await fetch(
      `${gateway.baseURL}/organization/usage/completions?start_time=1${'0'.repeat(19)}`,
      {
        headers: { authorization: `Bearer ${gateway.apiKey}` },
      },
    );
    expect(far.status).toBe(400);
    expect(((await far.json()) as { error: { param: string } }).error.param).toBe('start_time');
  });

  it('without end_time, counts what was used in the first second of the current minute', async () => {
    // A minute row of the next minute, read while the clock stands 0.3 s into it: the default end
    // (now, exclusive) must not leave that minute out. The row stands for a request made then.
    const minute = (Math.floor(Date.now() / 60_000) + 1) * 60;
    const key = await upstream.server.storage.repositories.apiKeys.findActiveBySecret(upstream.apiKey);
    await createModelUsageRepository(upstream.server.storage.database.db).add([
      {
        workspaceId: key!.workspaceId,
        minute,
        model: 'first-second-model',
        endpoint: 'chat/completions',
        apiKeyId: key!.id,
        accountId: null,
        requests: 1,
        inputTokens: 5,
        cachedInputTokens: 0,
        outputTokens: 2,
        estimatedRequests: 0,
      },
    ]);
    const clock = vi.spyOn(Date, 'now').mockReturnValue(minute * 1000 + 300);
    try {
      const page = await admin(upstream).admin.organization.usage.completions({
        start_time: minute - 60,
        bucket_width: '1m',
        models: ['first-second-model'],
      });
      expect(requestsIn(page)).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });

  it('counts each minute in one page when start_time falls inside a minute', async () => {
    await gateway.client.chat.completions.create({ model: LAB, messages: hello, max_tokens: 2 });
    // Minute rows: the usage of this file's requests is in the minutes since SINCE. Paged one
    // bucket at a time from half a minute before, every bucket boundary falls mid-minute.
    const start = SINCE - 30;
    const end = Math.floor(Date.now() / 1000) + 60;
    const whole = await admin(gateway).admin.organization.usage.completions({
      start_time: start,
      end_time: end,
      bucket_width: '1h',
    });
    const total = requestsIn(whole);
    expect(total).toBeGreaterThan(0);
    let paged = 0;
    let page: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const one = await admin(gateway).admin.organization.usage.completions({
        start_time: start,
        end_time: end,
        bucket_width: '1m',
        limit: 1,
        ...(page ? { page } : {}),
      });
      paged += requestsIn(one);
      if (!one.has_more) break;
      page = one.next_page!;
    }
    expect(paged).toBe(total);
  });

  it('pages buckets from start_time, empty ones included', async () => {
    const start = Math.floor(Date.now() / 60_000) * 60 - 5 * 60;
    const first = await admin(gateway).admin.organization.usage.completions({
      start_time: start,
      bucket_width: '1m',
      limit: 3,
    });
    expect(first.data.map((bucket) => bucket.start_time)).toEqual([start, start + 60, start + 120]);
    expect(first.has_more).toBe(true);
    const second = await admin(gateway).admin.organization.usage.completions({
      start_time: start,
      bucket_width: '1m',
      limit: 3,
      page: first.next_page!,
    });
    expect(second.data[0]?.start_time).toBe(start + 180);
    expect(second.has_more).toBe(false);
    // The last minutes hold the requests of the tests above, ungrouped.
    const results = second.data.flatMap((bucket) => bucket.results);
    expect(results.length).toBeGreaterThan(0);
    expect(results[0]).toMatchObject({ model: null, api_key_id: null, user_id: null, project_id: null });
  });
});
