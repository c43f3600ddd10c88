import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PassThroughResponse } from '../spec.js';
import { UpstreamClient, type UpstreamClientOptions, UpstreamUnavailableError } from './upstream-client.js';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

const servers: Server[] = [];
const clients: UpstreamClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function upstream(
  handler: Handler,
): Promise<{ url: string; seen: { url: string; body: string; authorization: string | undefined }[] }> {
  const seen: { url: string; body: string; authorization: string | undefined }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({ url: request.url ?? '', body, authorization: request.headers.authorization });
      handler(request, response, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen };
}

function client(options: Partial<UpstreamClientOptions> & { baseUrl: string }): UpstreamClient {
  const made = new UpstreamClient({
    name: 'test',
    apiKey: 'sk-up',
    timeoutMs: 2_000,
    maxConcurrency: undefined,
    maxRetries: 2,
    backoffMs: 5,
    ...options,
  });
  clients.push(made);
  return made;
}

async function text(response: PassThroughResponse): Promise<string> {
  let out = '';
  for await (const chunk of response.body) out += String(chunk);
  return out;
}

const send = (upstreamClient: UpstreamClient, signal = new AbortController().signal) =>
  upstreamClient.send({ endpoint: 'chat/completions', body: Buffer.from('{"model":"m"}'), signal });

describe('UpstreamClient', () => {
  it('posts the body as it is, with the upstream key, to <base>/<endpoint>', async () => {
    const { url, seen } = await upstream((_request, response) => response.end('{"ok":true}'));
    const response = await send(client({ baseUrl: url }));
    expect(response.status).toBe(200);
    expect(await text(response)).toBe('{"ok":true}');
    expect(seen).toEqual([
      { url: '/v1/chat/completions', body: '{"model":"m"}', authorization: 'Bearer sk-up' },
    ]);
  });

  it('retries 429 and 5xx (honouring retry-after-ms) and returns the answer that worked', async () => {
    let calls = 0;
    const { seen } = await upstream(() => {});
    const { url } = await upstream((_request, response) => {
      calls++;
      if (calls === 1) response.writeHead(429, { 'retry-after-ms': '30' }).end('{"error":{}}');
      else if (calls === 2) response.writeHead(502).end('bad gateway');
      else response.end('fine');
    });
    const started = Date.now();
    const response = await send(client({ baseUrl: url }));
    expect(await text(response)).toBe('fine');
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    expect(seen).toEqual([]);
  });

  it('gives the last 429/5xx back once retries are spent, and never retries other statuses', async () => {
    let calls = 0;
    const { url } = await upstream((_request, response) => {
      calls++;
      response.writeHead(calls <= 3 ? 503 : 400).end(`answer ${calls}`);
    });
    const upstreamClient = client({ baseUrl: url, maxRetries: 2 });
    const exhausted = await send(upstreamClient);
    expect([exhausted.status, await text(exhausted), calls]).toEqual([503, 'answer 3', 3]);
    const refused = await send(upstreamClient);
    expect([refused.status, await text(refused), calls]).toEqual([400, 'answer 4', 4]);
  });

  it('does not wait out a long retry-after, nor retry when told x-should-retry: false', async () => {
    let calls = 0;
    const { url } = await upstream((_request, response) => {
      calls++;
      response
        .writeHead(
          calls === 1 ? 429 : 503,
          calls === 1 ? { 'retry-after': '3600' } : { 'x-should-retry': 'false' },
        )
        .end();
    });
    const upstreamClient = client({ baseUrl: url });
    expect((await send(upstreamClient)).status).toBe(429);
    expect((await send(upstreamClient)).status).toBe(503);
    expect(calls).toBe(2);
  });

  it('an upstream that is down or silent is an UpstreamUnavailableError after the retries', async () => {
    const { url } = await upstream(() => {});
    const silent = client({ baseUrl: url, timeoutMs: 100, maxRetries: 1 });
    await expect(send(silent)).rejects.toMatchObject({ status: 503, code: 'upstream_timeout' });
    const refused = client({ baseUrl: 'http://127.0.0.1:1/v1', maxRetries: 1 });
    const error = await send(refused).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ code: 'upstream_unavailable' });
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain('127.0.0.1');
  });

  it('holds requests beyond max_concurrency until a connection is free; an abort leaves the line', async () => {
    const waiting: ServerResponse[] = [];
    const { url, seen } = await upstream((_request, response) => waiting.push(response));
    const upstreamClient = client({ baseUrl: url, maxConcurrency: 1 });
    const first = send(upstreamClient);
    const controller = new AbortController();
    const second = send(upstreamClient, controller.signal);
    const third = send(upstreamClient);
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();
    // The aborted one hears at once, and leaves the line without being sent.
    await expect(second).rejects.toThrow(/cancel|abort/i);
    waiting[0]!.end('one');
    expect(await text(await first)).toBe('one');
    // The next takes the free connection.
    await expect.poll(() => seen.length).toBe(2);
    waiting[1]!.end('three');
    expect(await text(await third)).toBe('three');
    expect(seen).toHaveLength(2);
  });

  it('retries at once on a pooled connection the upstream closed while idle', async () => {
    let calls = 0;
    const { url } = await upstream((request, response) => {
      calls++;
      response.end(`answer ${calls}`);
      // Close the kept-alive connection right after answering, as a server with a short
      // keep-alive timeout would.
      setTimeout(() => request.socket.destroy(), 5);
    });
    const upstreamClient = client({ baseUrl: url, maxRetries: 0 });
    expect(await text(await send(upstreamClient))).toBe('answer 1');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await text(await send(upstreamClient))).toBe('answer 2');
  });

  it('reads JSON for discovery and rejects anything else', async () => {
    const { url } = await upstream((request, response) => {
      if (request.url === '/v1/models') response.end('{"data":[{"id":"m"}]}');
      else response.writeHead(404).end('nope');
    });
    const upstreamClient = client({ baseUrl: url });
    expect(await upstreamClient.getJson('models', { signal: AbortSignal.timeout(1000) })).toEqual({
      data: [{ id: 'm' }],
    });
    await expect(upstreamClient.getJson('other', { signal: AbortSignal.timeout(1000) })).rejects.toThrow(
      /HTTP 404/,
    );
  });
});
