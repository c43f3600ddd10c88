// Closing the server (what SIGTERM does) is prompt: connections that never sent a request and idle
// keep-alive connections do not hold it, an answer being streamed when it begins still ends, and
// what is still in flight after the grace period (ATELIER_SHUTDOWN_GRACE_SECONDS) is cut; on every
// address the server listens on.
import dns from 'node:dns';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, vocabulary } from '../support/api-server.js';

/** Far below the wait an unfixed close had: the client's own timeout, or the 72 s keep-alive one. */
const PROMPT_MS = 3_000;

let server: TestServer | undefined;
/** The server's close, once a test began it. */
let closing: Promise<void> | undefined;
/** Every connection a test opened: one the server failed to close must not hold the next test. */
const clientSockets: net.Socket[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const socket of clientSockets.splice(0)) socket.destroy();
  if (!server) return;
  if (closing) {
    // A close that is still waiting gives up its connections: the test has failed already.
    server.server.app.server.closeAllConnections();
    await closing;
    await rm(server.dataDir, { recursive: true, force: true });
  } else {
    await server.close();
  }
  server = undefined;
  closing = undefined;
});

/**
 * A raw TCP connection to the server (at `host`, by default the one its URL names), with what it
 * received and whether the server closed it.
 */
async function connect(testServer: TestServer, host?: string) {
  const { hostname, port } = new URL(testServer.baseURL);
  const socket = net.connect(Number(port), host ?? hostname);
  clientSockets.push(socket);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed, received: () => received };
}

/** Whether the server closed `connection` within `ms`. */
async function closesWithin(connection: { closed: Promise<void> }, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([connection.closed.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A request whose body never finishes arriving: in flight until the server cuts it. */
function startEndlessUpload(connection: { socket: net.Socket }, apiKey: string): void {
  connection.socket.write(
    'POST /v1/chat/completions HTTP/1.1\r\nHost: atelier\r\n' +
      `Authorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\n` +
      'Content-Length: 100000\r\n\r\n{"model":"atelier-tiny","messages":[',
  );
}

/** How long closing takes, or `Infinity` once it passes `PROMPT_MS` (it then goes on in the background). */
async function timeClose(testServer: TestServer): Promise<number> {
  const started = Date.now();
  closing = testServer.server.close();
  const closed = closing.then(() => Date.now() - started);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), PROMPT_MS);
  });
  try {
    return await Promise.race([closed, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An upload that never ends, on `host`, with a grace period of 1 s: the close waits that long for
 * it (models and the database close only after), then cuts it.
 */
async function expectUploadCutAfterOneSecond(testServer: TestServer, host?: string): Promise<void> {
  const uploading = await connect(testServer, host);
  startEndlessUpload(uploading, testServer.apiKey);
  // The server has the request (and its unfinished body) before the close begins.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const elapsed = await timeClose(testServer);
  expect(elapsed).toBeGreaterThanOrEqual(900);
  expect(elapsed).toBeLessThan(PROMPT_MS);
  expect(await closesWithin(uploading, 500)).toBe(true);
}

describe('closing the server', () => {
  it('is not held by a connection that never sent a request', async () => {
    server = await startApiServer();
    const silent = await connect(server);

    expect(await timeClose(server)).toBeLessThan(PROMPT_MS);
    await silent.closed;
    expect(silent.received()).toBe('');
  });

  it('is not held by a keep-alive connection after its request was answered', async () => {
    server = await startApiServer();
    const connection = await connect(server);
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: atelier\r\nConnection: keep-alive\r\n\r\n');
    await expect.poll(connection.received).toContain('{"status":"ok"}');
    expect(connection.received()).toMatch(/\r\nconnection: keep-alive\r\n/i);

    expect(await timeClose(server)).toBeLessThan(PROMPT_MS);
    await connection.closed;
  });

  it('lets an answer being streamed finish, then closes its connection', async () => {
    server = await startApiServer();
    const bias = banEndTokens(await vocabulary(server));
    const stream = await server.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count to a hundred.' }],
      max_tokens: 96,
      logit_bias: bias,
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    let closeTime: Promise<number> | undefined;
    for await (const chunk of stream) {
      chunks.push(chunk);
      closeTime ??= timeClose(server);
    }

    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    expect(await closeTime).toBeLessThan(PROMPT_MS);
  });

  it('turns away a request that comes on a kept connection after the close began, in the error envelope', async () => {
    server = await startApiServer();
    const bias = banEndTokens(await vocabulary(server));
    const connection = await connect(server);
    const body = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Count to a hundred.' }],
      max_tokens: 96,
      logit_bias: bias,
      stream: true,
    });
    connection.socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: atelier\r\n' +
        `Authorization: Bearer ${server.apiKey}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await expect.poll(connection.received).toContain('data: ');
    const closeTime = timeClose(server);
    // Sent on the same connection while the answer streams: answered after it, and turned away.
    connection.socket.write(
      `GET /v1/models HTTP/1.1\r\nHost: atelier\r\nAuthorization: Bearer ${server.apiKey}\r\n\r\n`,
    );

    expect(await closeTime).toBeLessThan(PROMPT_MS);
    await connection.closed;
    const received = connection.received();
    expect(received).toContain('data: [DONE]');
    const second = received.slice(received.indexOf('HTTP/1.1', 1));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(second).toMatch(/\r\nconnection: close\r\n/i);
    expect(second).toMatch(/\r\nx-request-id: req_/i);
    expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual({
      error: {
        message: 'The server is shutting down: send the request again.',
        type: 'service_unavailable_error',
        param: null,
        code: 'service_unavailable',
      },
    });
  });

  it('cuts a request still in flight when the configured grace period ends', async () => {
    server = await startApiServer({ env: { ATELIER_SHUTDOWN_GRACE_SECONDS: '1' } });
    await expectUploadCutAfterOneSecond(server);
  });

  it('with a grace period of 0, cuts a request in flight at once', async () => {
    server = await startApiServer({ env: { ATELIER_SHUTDOWN_GRACE_SECONDS: '0' } });
    const uploading = await connect(server);
    startEndlessUpload(uploading, server.apiKey);
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(await timeClose(server)).toBeLessThan(900);
    expect(await closesWithin(uploading, 500)).toBe(true);
  });
});

/** Whether this machine can listen on the IPv6 loopback address. */
async function ipv6LoopbackUsable(): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

/**
 * Makes `localhost` resolve to both loopback addresses, as in most hosts files (`::1 localhost`),
 * where this machine's resolver gives 127.0.0.1 alone; other look-ups are left as they are.
 */
async function resolveLocalhostToBothLoopbacks(): Promise<void> {
  const found = await dns.promises.lookup('localhost', { all: true });
  if (found.some(({ address }) => address === '::1') && found.some(({ address }) => address === '127.0.0.1'))
    return;
  const lookup = dns.lookup;
  vi.spyOn(dns, 'lookup').mockImplementation(((...args: unknown[]) => {
    const [hostname, options, callback] = args;
    if (hostname === 'localhost' && typeof options === 'object' && options !== null && 'all' in options) {
      if (options.all === true && typeof callback === 'function') {
        const both = [
          { address: '127.0.0.1', family: 4 },
          { address: '::1', family: 6 },
        ];
        process.nextTick(() => callback(null, both));
        return;
      }
    }
    return Reflect.apply(lookup, dns, args);
  }) as typeof dns.lookup);
}

const ipv6Usable = await ipv6LoopbackUsable();

describe.skipIf(!ipv6Usable)(
  `closing a server on localhost (127.0.0.1 and ::1)${ipv6Usable ? '' : ': skipped, this machine cannot listen on ::1'}`,
  () => {
    it('is prompt and closes idle connections on both addresses', async () => {
      await resolveLocalhostToBothLoopbacks();
      server = await startApiServer({ env: { ATELIER_HOST: 'localhost' } });
      const addresses = server.server.app.addresses();
      expect(addresses.map((address) => (typeof address === 'string' ? address : address.address))).toEqual(
        expect.arrayContaining(['127.0.0.1', '::1']),
      );
      const connections = [];
      for (const host of ['127.0.0.1', '::1']) {
        const silent = await connect(server, host);
        const idle = await connect(server, host);
        idle.socket.write('GET /healthz HTTP/1.1\r\nHost: atelier\r\nConnection: keep-alive\r\n\r\n');
        await expect.poll(idle.received).toContain('{"status":"ok"}');
        connections.push(silent, idle);
      }

      expect(await timeClose(server)).toBeLessThan(PROMPT_MS);
      for (const connection of connections) expect(await closesWithin(connection, 500)).toBe(true);
    });

    // One of them is Fastify's main server, the other an extra one: each is cut, and the close waits.
    it.each(['127.0.0.1', '::1'])(
      'cuts a request in flight on %s when the grace period ends',
      async (host) => {
        await resolveLocalhostToBothLoopbacks();
        server = await startApiServer({
          env: { ATELIER_HOST: 'localhost', ATELIER_SHUTDOWN_GRACE_SECONDS: '1' },
        });
        await expectUploadCutAfterOneSecond(server, host);
      },
    );
  },
);
