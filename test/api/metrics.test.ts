// GET /metrics as Prometheus scrapes it: requests counted by route pattern (never the URL) and
// status, whether Fastify sent the answer or a route relayed or streamed it, once, also when the
// client left; upstream attempts through a second Atelier as the upstream; tokens from the usage
// ledger; runs; the process. Then who may read them: loopback, a token, or nobody (off).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, streamRaw, vocabulary } from '../support/api-server.js';

const LONG_MODEL = 'atelier-long';
const LAB = `lab/${MODEL}`;
const LAB_LONG = `lab/${LONG_MODEL}`;
const CHAT = 'route="/v1/chat/completions"';
const EXPOSITION = 'text/plain; version=0.0.4; charset=utf-8';

let upstream: TestServer;
let gateway: TestServer;
let noWebApp: string;
let endTokens: Record<string, number>;

beforeAll(async () => {
  // No web app: its catch-all route would answer unknown paths (as `/*`) instead of Fastify's 404.
  noWebApp = await mkdtemp(path.join(tmpdir(), 'atelier-no-web-'));
  upstream = await startApiServer({
    // A model that never ends a reply on its own: answers that last until the client leaves.
    models: { [MODEL]: {}, [LONG_MODEL]: { meanReplyTokens: Number.POSITIVE_INFINITY } },
    env: { ATELIER_WEB_DIR: noWebApp },
  });
  gateway = await startApiServer({
    models: { [MODEL]: {}, [LONG_MODEL]: { meanReplyTokens: Number.POSITIVE_INFINITY } },
    env: {
      ATELIER_WEB_DIR: noWebApp,
      ATELIER_UPSTREAMS: JSON.stringify([
        { name: 'lab', base_url: upstream.baseURL, api_key: upstream.apiKey, prefix: 'lab/', max_retries: 0 },
      ]),
    },
  });
  endTokens = banEndTokens(await vocabulary(upstream));
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await rm(noWebApp, { recursive: true, force: true });
});

const origin = (server: TestServer) => server.server.url!;
const hello = [{ role: 'user' as const, content: 'Say hello to the fox and the dog.' }];

/** Every sample of a scrape, by its name and labels as written (`name{a="x",b="y"}`). */
async function scrape(server: TestServer): Promise<Map<string, number>> {
  const response = await fetch(`${origin(server)}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(EXPOSITION);
  return parseExposition(await response.text());
}

function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = line.slice(space + 1);
    samples.set(line.slice(0, space), value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value));
  }
  return samples;
}

/** How much each sample grew from `before` to `after` (0 for one in neither). */
function growth(before: Map<string, number>, after: Map<string, number>) {
  return (sample: string) => (after.get(sample) ?? 0) - (before.get(sample) ?? 0);
}

/**
 * POSTs a chat completion and leaves: after the first piece of the answer, or `ms` after sending
 * it (answering undefined, or the status if an answer came first). On a connection of its own,
 * closed by leaving, so the pool of kept-alive connections the scrapes use is left alone.
 */
function postAndLeave(
  server: TestServer,
  body: object,
  leave: 'first-chunk' | number,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.request(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
    });
    // Destroyed on purpose.
    request.on('error', () => {});
    const timer = typeof leave === 'number' ? setTimeout(() => done(undefined), leave) : undefined;
    const done = (status: number | undefined) => {
      clearTimeout(timer);
      request.destroy();
      resolve(status);
    };
    request.on('response', (response) => {
      if (leave === 'first-chunk') response.once('data', () => done(response.statusCode));
      else done(response.statusCode);
    });
    request.end(JSON.stringify(body));
  });
}

/** Scrapes until `done` holds (the server counts a response when its socket lets go). */
async function scrapeUntil(
  server: TestServer,
  done: (samples: Map<string, number>) => boolean,
): Promise<Map<string, number>> {
  for (let tries = 0; ; tries++) {
    const samples = await scrape(server);
    if (done(samples) || tries === 100) return samples;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('requests', () => {
  it('counts each by method, route pattern and status: local and relayed, streamed or not, 401 and 404', async () => {
    const before = await scrape(gateway);

    const local = await gateway.client.chat.completions.create({
      model: MODEL,
      messages: hello,
      max_tokens: 4,
    });
    const stream = await gateway.client.chat.completions.create({
      model: MODEL,
      messages: hello,
      max_tokens: 4,
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(0);
    const relayed = await gateway.client.chat.completions.create({
      model: LAB,
      messages: hello,
      max_tokens: 4,
    });
    const relayedStream = await streamRaw<ChatCompletionChunk>(gateway, '/chat/completions', {
      model: LAB,
      messages: hello,
      max_tokens: 4,
    });
    expect(local.object).toBe('chat.completion');
    expect(relayed.object).toBe('chat.completion');
    expect(relayedStream.chunks.length).toBeGreaterThan(0);
    const thread = await gateway.client.beta.threads.create();
    await gateway.client.beta.threads.retrieve(thread.id);
    const unauthenticated = await fetch(`${gateway.baseURL}/chat/completions`, { method: 'POST' });
    expect(unauthenticated.status).toBe(401);
    const unknown = await fetch(`${gateway.baseURL}/no-such-thing/${thread.id}`);
    expect(unknown.status).toBe(404);

    const after = await scrape(gateway);
    const grew = growth(before, after);
    expect(grew(`atelier_http_requests_total{method="POST",${CHAT},status="200"}`)).toBe(4);
    expect(grew(`atelier_http_requests_total{method="POST",${CHAT},status="401"}`)).toBe(1);
    expect(grew('atelier_http_requests_total{method="POST",route="/v1/threads",status="200"}')).toBe(1);
    expect(
      grew('atelier_http_requests_total{method="GET",route="/v1/threads/:thread_id",status="200"}'),
    ).toBe(1);
    expect(grew('atelier_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    // Each request timed once, in the histogram of its route.
    expect(grew(`atelier_http_request_duration_seconds_count{method="POST",${CHAT}}`)).toBe(5);
    expect(grew(`atelier_http_request_duration_seconds_bucket{method="POST",${CHAT},le="+Inf"}`)).toBe(5);
    expect(grew(`atelier_http_request_duration_seconds_sum{method="POST",${CHAT}}`)).toBeGreaterThan(0);
    // The URL never becomes a label: one series per route, not per thread.
    const labels = [...after.keys()].join('\n');
    expect(labels).not.toContain(thread.id);
    expect(labels).not.toContain('no-such-thing');
  });

  it('counts upstream attempts and their time to first byte, and tokens as the usage ledger counts them', async () => {
    const before = await scrape(gateway);
    const upstreamBefore = await scrape(upstream);

    const relayed = await gateway.client.chat.completions.create({
      model: LAB,
      messages: hello,
      max_tokens: 5,
    });
    const streamed = await streamRaw<ChatCompletionChunk>(gateway, '/chat/completions', {
      model: LAB,
      messages: hello,
      max_tokens: 3,
      stream_options: { include_usage: true },
    });
    const local = await gateway.client.chat.completions.create({
      model: MODEL,
      messages: hello,
      max_tokens: 2,
    });
    const streamedUsage = streamed.chunks.at(-1)!.usage!;

    const labInput = `atelier_model_tokens_total{model="${LAB}",kind="input"}`;
    const inputs = relayed.usage!.prompt_tokens + streamedUsage.prompt_tokens;
    // The relay reads an answer's usage once it went out.
    const after = await scrapeUntil(gateway, (samples) => growth(before, samples)(labInput) >= inputs);
    const grew = growth(before, after);
    expect(grew('atelier_upstream_requests_total{upstream="lab",status="200"}')).toBe(2);
    expect(grew('atelier_upstream_requests_total{upstream="lab",status="error"}')).toBe(0);
    expect(grew('atelier_upstream_first_byte_seconds_count{upstream="lab"}')).toBe(2);
    expect(grew('atelier_upstream_first_byte_seconds_sum{upstream="lab"}')).toBeGreaterThan(0);
    expect(grew(labInput)).toBe(inputs);
    expect(grew(`atelier_model_tokens_total{model="${LAB}",kind="output"}`)).toBe(
      relayed.usage!.completion_tokens + streamedUsage.completion_tokens,
    );
    expect(grew(`atelier_model_tokens_total{model="${MODEL}",kind="input"}`)).toBe(
      local.usage!.prompt_tokens,
    );
    expect(grew(`atelier_model_tokens_total{model="${MODEL}",kind="output"}`)).toBe(
      local.usage!.completion_tokens,
    );

    // The upstream Atelier counted the same requests as its own, on its own registry.
    const upstreamGrew = growth(upstreamBefore, await scrape(upstream));
    expect(upstreamGrew(`atelier_http_requests_total{method="POST",${CHAT},status="200"}`)).toBe(2);
    expect(upstreamGrew(`atelier_model_tokens_total{model="${MODEL}",kind="input"}`)).toBe(inputs);
  });

  it('counts an upstream that does not answer as an error', async () => {
    const broken = await startApiServer({
      env: {
        ATELIER_WEB_DIR: noWebApp,
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'gone', base_url: 'http://127.0.0.1:9/v1', models: ['m'], prefix: 'gone/', max_retries: 1 },
        ]),
      },
      models: {},
    });
    try {
      const before = await scrape(broken);
      const failed = await broken.client.chat.completions
        .create({ model: 'gone/m', messages: hello })
        .catch((error: { status: number }) => error);
      expect(failed).toMatchObject({ status: 503 });
      const grew = growth(before, await scrape(broken));
      // Two attempts (one retry), neither answered.
      expect(grew('atelier_upstream_requests_total{upstream="gone",status="error"}')).toBe(2);
      expect(grew('atelier_upstream_first_byte_seconds_count{upstream="gone"}')).toBe(0);
      expect(grew(`atelier_http_requests_total{method="POST",${CHAT},status="503"}`)).toBe(1);
    } finally {
      await broken.close();
    }
  });

  it('counts a stream its client cut off once, with the status that was sent', async () => {
    const before = await scrape(gateway);
    const status = await postAndLeave(
      gateway,
      { model: LAB_LONG, messages: hello, stream: true, logit_bias: endTokens },
      'first-chunk',
    );
    expect(status).toBe(200);

    const sample = `atelier_http_requests_total{method="POST",${CHAT},status="200"}`;
    const after = await scrapeUntil(gateway, (samples) => growth(before, samples)(sample) >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const settled = growth(before, await scrape(gateway));
    expect(growth(before, after)(sample)).toBe(1);
    expect(settled(sample)).toBe(1);
    expect(settled(`atelier_http_request_duration_seconds_count{method="POST",${CHAT}}`)).toBe(1);
    expect(settled(`atelier_http_requests_total{method="POST",${CHAT},status="499"}`)).toBe(0);
  });

  it('counts a request whose client left before any answer as 499, and not as an upstream attempt', async () => {
    const before = await scrape(gateway);
    const upstreamBefore = await scrape(upstream);
    // Not streamed: nothing goes out before the upstream's whole answer, which never ends. 300 ms
    // is long enough for the request to reach the upstream, which generates until it is left.
    const status = await postAndLeave(
      gateway,
      { model: LAB_LONG, messages: hello, logit_bias: endTokens },
      300,
    );
    expect(status).toBeUndefined();

    const sample = `atelier_http_requests_total{method="POST",${CHAT},status="499"}`;
    const after = await scrapeUntil(gateway, (samples) => growth(before, samples)(sample) >= 1);
    const grew = growth(before, after);
    expect(grew(sample)).toBe(1);
    expect(grew(`atelier_http_requests_total{method="POST",${CHAT},status="200"}`)).toBe(0);
    // The gateway gave up on its upstream call: that is not the upstream's failure.
    expect(grew('atelier_upstream_requests_total{upstream="lab",status="error"}')).toBe(0);
    // The upstream heard its client (the gateway) leave, and counted the same.
    const upstreamAfter = await scrapeUntil(
      upstream,
      (samples) => growth(upstreamBefore, samples)(sample) >= 1,
    );
    expect(growth(upstreamBefore, upstreamAfter)(sample)).toBe(1);
  });
});

describe('runs and the process', () => {
  it('counts runs that reach a terminal status, by status', async () => {
    const before = await scrape(gateway);
    const assistant = await gateway.client.beta.assistants.create({
      model: MODEL,
      instructions: 'Be brief.',
    });
    const thread = await gateway.client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
    const run = await gateway.client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    // A model that never stops, cut by max_completion_tokens: incomplete.
    const long = await gateway.client.beta.assistants.create({ model: LONG_MODEL });
    const cut = await gateway.client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: long.id, max_completion_tokens: 256 },
      { pollIntervalMs: 50 },
    );
    expect(cut.status).toBe('incomplete');
    const grew = growth(before, await scrape(gateway));
    expect(grew('atelier_runs_total{status="completed"}')).toBe(1);
    expect(grew('atelier_runs_total{status="incomplete"}')).toBe(1);
    expect(grew('atelier_runs_total{status="failed"}')).toBe(0);
    // Each model turn of a run is in the ledger, so in the token counters.
    expect(grew(`atelier_model_tokens_total{model="${MODEL}",kind="input"}`)).toBe(run.usage!.prompt_tokens);
    expect(grew(`atelier_model_tokens_total{model="${LONG_MODEL}",kind="output"}`)).toBe(
      cut.usage!.completion_tokens,
    );
  });

  it('reads the process at each scrape: CPU to the microsecond, memory, start time, event-loop lag', async () => {
    const first = await scrape(gateway);
    const spinUntil = performance.now() + 30;
    while (performance.now() < spinUntil);
    const second = await scrape(gateway);
    const user = second.get('process_cpu_user_seconds_total')!;
    expect(user).toBeGreaterThan(first.get('process_cpu_user_seconds_total')!);
    // process.cpuUsage() in seconds: six decimals at most, and the same as the process says.
    expect(Math.abs(user * 1e6 - Math.round(user * 1e6))).toBeLessThan(1e-3);
    expect(user).toBeLessThanOrEqual(process.cpuUsage().user / 1e6);
    expect(second.get('process_cpu_system_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(second.get('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(second.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024);
    const started = second.get('process_start_time_seconds')!;
    expect(started).toBeLessThan(Date.now() / 1000);
    expect(started).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5);
    // In seconds (not nanoseconds), and there: a test server's loop does not stall for seconds.
    const lag = second.get('nodejs_eventloop_lag_seconds');
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(5);
  });
});

describe('who may read them', () => {
  /** A server that loads no model: one upstream whose models are listed, never called here. */
  const startQuiet = (env: Record<string, string> = {}) =>
    startApiServer({
      models: {},
      env: {
        ATELIER_WEB_DIR: noWebApp,
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'far', base_url: 'http://127.0.0.1:9/v1', models: ['m'] },
        ]),
        ...env,
      },
    });

  it('without a token: callers on this machine, not others nor what a proxy relays', async () => {
    const app = gateway.server.app;
    const elsewhere = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7' });
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json()).toEqual({
      error: {
        message: expect.stringContaining('ATELIER_METRICS_TOKEN'),
        type: 'invalid_request_error',
        param: null,
        code: 'metrics_loopback_only',
      },
    });
    expect(elsewhere.body).not.toContain('atelier_http_requests_total');
    const here = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(here.statusCode).toBe(200);
    expect(here.headers['content-type']).toBe(EXPOSITION);
    const hereV6 = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' });
    expect(hereV6.statusCode).toBe(200);
    // A reverse proxy on this machine relays someone else's request.
    const relayed = await fetch(`${origin(gateway)}/metrics`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(relayed.status).toBe(403);
    expect(((await relayed.json()) as { error: { code: string } }).error.code).toBe('metrics_loopback_only');
    // Whatever header says so: a proxy that only adds Via, or the client's address, is one too.
    for (const header of ['via', 'x-forwarded-proto', 'x-real-ip', 'cf-connecting-ip']) {
      const proxied = await fetch(`${origin(gateway)}/metrics`, { headers: { [header]: '1.1 edge' } });
      expect(proxied.status, header).toBe(403);
    }
  });

  it('behind a proxy the operator declared (ATELIER_TRUST_PROXY), only with a token', async () => {
    const server = await startQuiet({ ATELIER_TRUST_PROXY: 'true' });
    try {
      // A plain proxy_pass adds no header at all: the connection is still the proxy's, from loopback.
      const plain = await fetch(`${origin(server)}/metrics`);
      expect(plain.status).toBe(403);
      expect(((await plain.json()) as { error: { message: string } }).error.message).toContain(
        'ATELIER_METRICS_TOKEN',
      );
    } finally {
      await server.close();
    }
  });

  it("counts the web app's files under one route, and keeps /metrics off the app's pages", async () => {
    const web = await mkdtemp(path.join(tmpdir(), 'atelier-web-'));
    try {
      await mkdir(path.join(web, 'assets'));
      await writeFile(path.join(web, 'index.html'), '<!doctype html><title>Atelier</title>');
      await writeFile(path.join(web, 'assets', 'app-1a2b.js'), 'console.log(1)');
      await writeFile(path.join(web, 'assets', 'app-3c4d.css'), 'body{}');
      const server = await startQuiet({ ATELIER_WEB_DIR: web });
      try {
        for (const file of ['assets/app-1a2b.js', 'assets/app-3c4d.css'])
          expect((await fetch(`${origin(server)}/${file}`)).status).toBe(200);
        const samples = parseExposition(await (await fetch(`${origin(server)}/metrics`)).text());
        expect(samples.get('atelier_http_requests_total{method="GET",route="static",status="200"}')).toBe(2);
        expect([...samples.keys()].filter((key) => key.includes('app-1a2b'))).toEqual([]);
      } finally {
        await server.close();
      }
      // Off, /metrics is a 404 even where the app would answer any other path with its page.
      const off = await startQuiet({ ATELIER_WEB_DIR: web, ATELIER_METRICS: 'off' });
      try {
        expect((await fetch(`${origin(off)}/settings`)).status).toBe(200);
        const metrics = await fetch(`${origin(off)}/metrics`);
        expect(metrics.status).toBe(404);
        expect(((await metrics.json()) as { error: { message: string } }).error.message).toBe(
          'Invalid URL (GET /metrics)',
        );
      } finally {
        await off.close();
      }
    } finally {
      await rm(web, { recursive: true, force: true });
    }
  });

  it('with a token: 401 without it or with a wrong one, 200 with it, from anywhere', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const server = await startQuiet({ ATELIER_METRICS_TOKEN: token });
    try {
      const url = `${origin(server)}/metrics`;
      const without = await fetch(url);
      expect(without.status).toBe(401);
      expect(await without.json()).toEqual({
        error: {
          message: expect.stringContaining('Bearer'),
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_metrics_token',
        },
      });
      const wrong = await fetch(url, { headers: { authorization: `Bearer ${token.slice(0, -1)}x` } });
      expect(wrong.status).toBe(401);
      // An API key is not the metrics token.
      const apiKey = await fetch(url, { headers: { authorization: `Bearer ${server.apiKey}` } });
      expect(apiKey.status).toBe(401);
      const right = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(right.status).toBe(200);
      expect(right.headers.get('content-type')).toBe(EXPOSITION);
      const samples = parseExposition(await right.text());
      expect(samples.get('atelier_http_requests_total{method="GET",route="/metrics",status="401"}')).toBe(3);
      const remote = await server.server.app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '192.0.2.7',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(remote.statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('off: /metrics is a 404 like any unknown route', async () => {
    const server = await startQuiet({ ATELIER_METRICS: 'off' });
    try {
      const metrics = await fetch(`${origin(server)}/metrics`);
      const unknown = await fetch(`${origin(server)}/no-such-route`);
      expect(metrics.status).toBe(404);
      expect(unknown.status).toBe(404);
      const body = (await metrics.json()) as { error: Record<string, unknown> };
      expect(body).toEqual({
        error: {
          message: 'Invalid URL (GET /metrics)',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
      expect(Object.keys(((await unknown.json()) as { error: object }).error)).toEqual(
        Object.keys(body.error),
      );
    } finally {
      await server.close();
    }
  });
});
