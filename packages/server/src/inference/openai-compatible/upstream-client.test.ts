import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
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

describe('UpstreamClient over HTTPS', () => {
  // A self-signed certificate for 127.0.0.1 (valid until 2126), made for this test only.
  const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbWIOXXQWt+o8rXYj
4uvlc/DHYazFEyWMz89Ox/utYfGhRANCAARcpJYoamDbgojR1w+1u1h+y6OjA1To
vvA2hBAgFV3caCG/Qg4sUf2a3pKCw9z2Si7pB/qwQqIg5nEJOMXYxfOM
-----END PRIVATE KEY-----`;
  const CERT = `-----BEGIN CERTIFICATE-----
MIIBsjCCAVmgAwIBAgIUWqbejLFHYX92Gmb9uVbPDPTId0EwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVYXRlbGllci10ZXN0LXVwc3RyZWFtMCAXDTI2MTEyNTEyMDMy
N1oYDzIxMjYxMTAxMTIwMzI3WjAgMR4wHAYDVQQDDBVhdGVsaWVyLXRlc3QtdXBz
dHJlYW0wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARcpJYoamDbgojR1w+1u1h+
y6OjA1TovvA2hBAgFV3caCG/Qg4sUf2a3pKCw9z2Si7pB/qwQqIg5nEJOMXYxfOM
o28wbTAdBgNVHQ4EFgQUbeBNLSy1tj1uXAczZiyUB0MdxuMwHwYDVR0jBBgwFoAU
beBNLSy1tj1uXAczZiyUB0MdxuMwDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzAR
hwR/AAABgglsb2NhbGhvc3QwCgYIKoZIzj0EAwIDRwAwRAIgJZIhHzDm8xbM/1nW
RczsYJ4Prxb6MspO40TDcs4xBQ4CIAVnczD+taJclmtZCCMoedq33NGhZ/Am/GG2
LAKvxJSv
-----END CERTIFICATE-----`;

  async function httpsUpstream(): Promise<string> {
    const server = createTlsServer({ key: KEY, cert: CERT }, (request, response) => {
      if (request.url === '/v1/models') {
        response.end('{"data":[{"id":"secure-model"}]}');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"n":1}\n\n');
      setTimeout(() => response.end('data: [DONE]\n\n'), 5);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  it('streams and discovers through TLS, checking the upstream certificate', async () => {
    const baseUrl = await httpsUpstream();
    const trusted = client({ baseUrl, ca: CERT });
    const response = await trusted.start({ endpoint: 'chat/completions', body: Buffer.from('{}') }).response;
    expect(response.status).toBe(200);
    expect(await text(response)).toBe('data: {"n":1}\n\ndata: [DONE]\n\n');
    expect(await trusted.getJson('models', { signal: AbortSignal.timeout(2000) })).toEqual({
      data: [{ id: 'secure-model' }],
    });
    // An upstream whose certificate nobody vouches for is not talked to.
    const untrusting = client({ baseUrl, maxRetries: 0 });
    await expect(
      untrusting.start({ endpoint: 'chat/completions', body: Buffer.from('{}') }).response,
    ).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });
});

/** An upstream that answers with the bytes a test gives, written as separate pieces. */
async function rawUpstream(
  answer: (request: string, socket: Socket, connection: number) => void,
): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createNetServer((socket) => {
    const connection = ++connections;
    rawSockets.push(socket);
    let pending = '';
    socket.on('data', (bytes: Buffer) => {
      pending += bytes.toString('latin1');
      const headEnd = pending.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(pending)?.[1] ?? 0);
      if (pending.length < headEnd + 4 + length) return;
      const request = pending.slice(0, headEnd + 4 + length);
      pending = pending.slice(request.length);
      answer(request, socket, connection);
    });
    socket.on('error', () => {});
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    connections: () => connections,
  };
}

const rawServers: NetServer[] = [];
const rawSockets: Socket[] = [];
afterEach(async () => {
  for (const socket of rawSockets.splice(0)) socket.destroy();
  for (const server of rawServers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** Writes `pieces` one by one, a few milliseconds apart (each its own read on the other side). */
async function writeApart(socket: Socket, pieces: string[], apartMs = 3): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, apartMs));
  }
}

/** One chunk of a chunked body, framed. */
const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;

/**
 * An answer whose pieces (its head in the first) all came, each in a read of its own, before
 * anyone reads its body: the reader comes only once the upstream wrote the last piece (20 ms
 * apart) and a while more, so that the event loop has gone round and the client has read it.
 */
async function sentBeforeReading(
  pieces: string[],
  { thenClose = false }: { thenClose?: boolean } = {},
): Promise<PassThroughResponse> {
  let sentAll: () => void = () => {};
  const allSent = new Promise<void>((resolve) => {
    sentAll = resolve;
  });
  const { url } = await rawUpstream(
    (_request, socket) =>
      void writeApart(socket, pieces, 20).then(() => {
        if (thenClose) socket.end();
        sentAll();
      }),
  );
  const response = await send(client({ baseUrl: url }));
  await allSent;
  await new Promise((resolve) => setTimeout(resolve, 50));
  return response;
}

/** Relays the body to a framed sink (its write number `pauseAfter` asks for a pause); what it wrote, saw and how it ended. */
function relayed(response: PassThroughResponse, { pauseAfter = 0 } = {}) {
  const written: string[] = [];
  const seen: string[] = [];
  let writes = 0;
  const ended = new Promise<'end' | Error>((resolve) =>
    response.relay({
      framed: true,
      write: (bytes) => {
        written.push(bytes.toString('latin1'));
        return ++writes !== pauseAfter;
      },
      inspect: (piece) => seen.push(piece.toString('latin1')),
      end: () => resolve('end'),
      fail: (error) => resolve(error),
    }),
  );
  return { written, seen, ended };
}

describe('UpstreamClient on the wire', () => {
  it('relays a chunked body framed as the upstream sent it, and reuses the connection', async () => {
    const pieces = [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-extra: 1\r\n\r\n5;ext=1\r\nhe',
      'llo\r\n',
      '6\r\n world\r\n0\r\n',
      'trailer: x\r\n\r\n',
    ];
    const { url, connections } = await rawUpstream((_request, socket) => void writeApart(socket, pieces));
    const upstreamClient = client({ baseUrl: url });
    for (let round = 0; round < 2; round++) {
      const response = await send(upstreamClient);
      expect([response.status, response.chunked, response.rawHeaders]).toEqual([
        200,
        true,
        ['transfer-encoding', 'chunked', 'x-extra', '1'],
      ]);
      const { written, seen, ended } = relayed(response);
      expect(await ended).toBe('end');
      // Everything up to the last chunk, byte for byte; whoever ends the body writes that.
      expect(written.join('')).toBe('5;ext=1\r\nhello\r\n6\r\n world\r\n');
      expect(seen.join('')).toBe('hello world');
    }
    expect(connections()).toBe(1);
  });

  it('reads bodies framed by length or by the connection closing, after any 1xx answer', async () => {
    const { url, connections } = await rawUpstream((request, socket) => {
      if (request.includes('"close"'))
        void writeApart(socket, ['HTTP/1.1 200 OK\r\n\r\nread to', ' the end']).then(() => socket.end());
      else
        void writeApart(socket, [
          'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello',
          ' world',
        ]);
    });
    const upstreamClient = client({ baseUrl: url });
    const post = (body: string) =>
      upstreamClient.send({
        endpoint: 'chat/completions',
        body: Buffer.from(body),
        signal: AbortSignal.timeout(2000),
      });
    const sized = await post('{}');
    expect([sized.status, sized.chunked, await text(sized)]).toEqual([200, false, 'hello world']);
    const closing = await post('{"close":1}');
    expect(await text(closing)).toBe('read to the end');
    // The one read to its close could not be reused: the next request opens a connection.
    expect(await text(await post('{}'))).toBe('hello world');
    expect(connections()).toBe(2);
  });

  it('keeps a whole body that came, connection closed, before anyone read it', async () => {
    const { url } = await rawUpstream((request, socket) =>
      socket.end(
        request.includes('"cut"')
          ? 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf'
          : 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nwhole',
      ),
    );
    const upstreamClient = client({ baseUrl: url, maxRetries: 0 });
    const whole = await send(upstreamClient);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await text(whole)).toBe('whole');
    const cut = await upstreamClient.send({
      endpoint: 'x',
      body: Buffer.from('{"cut":1}'),
      signal: AbortSignal.timeout(2000),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(text(cut)).rejects.toMatchObject({ code: 'UPSTREAM_CONNECTION_CLOSED' });
  });

  it('stops reading while the sink is behind, and goes on when resumed', async () => {
    const { url } = await rawUpstream(
      (_request, socket) =>
        void writeApart(
          socket,
          [
            `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk('one')}`,
            chunk('two'),
            `${chunk('three')}0\r\n\r\n`,
          ],
          30,
        ),
    );
    const response = await send(client({ baseUrl: url }));
    const { written, ended } = relayed(response, { pauseAfter: 1 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(written).toEqual([chunk('one')]);
    response.resume();
    expect(await ended).toBe('end');
    expect(written.join('')).toBe(chunk('one') + chunk('two') + chunk('three'));
  });

  it('gives bytes that came before the reader only as fast as the reader keeps up', async () => {
    const response = await sentBeforeReading([
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk('one')}`,
      chunk('two'),
      `${chunk('three')}0\r\n\r\n`,
    ]);
    const { written, ended } = relayed(response, { pauseAfter: 1 });
    expect(written).toEqual([chunk('one')]);
    response.resume();
    expect(await ended).toBe('end');
    expect(written.join('')).toBe(chunk('one') + chunk('two') + chunk('three'));
  });

  it.each([
    ['', false],
    [', the upstream gone since', true],
  ])(
    'fails the reader at the first bad framing among bytes that came before it%s, and reads no further',
    async (_, thenClose) => {
      const response = await sentBeforeReading(
        [
          `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk('one')}`,
          'zz\r\n',
          `${chunk('two')}0\r\n\r\n`,
        ],
        { thenClose },
      );
      const { written, ended } = relayed(response);
      expect(await ended).toMatchObject({ code: 'UPSTREAM_BAD_HTTP' });
      expect(written).toEqual([chunk('one')]);
    },
  );

  it('a body that breaks off or goes silent fails its sink; bad framing too', async () => {
    const { url } = await rawUpstream((request, socket) => {
      const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n';
      if (request.includes('"cut"')) void writeApart(socket, [head]).then(() => socket.destroy());
      else if (request.includes('"bad"')) socket.write(`${head}zz\r\n`);
      else socket.write(head);
    });
    const upstreamClient = client({ baseUrl: url, timeoutMs: 100 });
    const post = async (body: string) =>
      relayed(
        await upstreamClient.send({
          endpoint: 'x',
          body: Buffer.from(body),
          signal: AbortSignal.timeout(2000),
        }),
      );
    const cut = await post('{"cut":1}');
    expect(await cut.ended).toMatchObject({ code: 'UPSTREAM_CONNECTION_CLOSED' });
    expect(cut.written).toEqual(['3\r\nabc\r\n']);
    expect(await (await post('{"silent":1}')).ended).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(await (await post('{"bad":1}')).ended).toMatchObject({ code: 'UPSTREAM_BAD_HTTP' });
  });

  it('an answer that is not HTTP is retried, then an UpstreamUnavailableError', async () => {
    let calls = 0;
    const { url } = await rawUpstream((_request, socket) => {
      calls++;
      socket.end('SSH-2.0-OpenSSH\r\n\r\n');
    });
    const error = await send(client({ baseUrl: url, maxRetries: 1 })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(calls).toBe(2);
  });
});
