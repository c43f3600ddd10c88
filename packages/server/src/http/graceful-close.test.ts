import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { gracefulClose } from './graceful-close.js';

/** Far below the 72 s keep-alive timeout an unfinished close used to wait for. */
const PROMPT_MS = 2_000;

let app: FastifyInstance | undefined;
afterEach(async () => {
  app?.server.closeAllConnections();
  await app?.close();
  app = undefined;
});

/** A bare app with the close under test: a slow answer, a stream that ends when told, an endless one. */
async function listen(graceMs: number) {
  const built = Fastify({ return503OnClosing: true });
  gracefulClose(built, { graceMs });
  const streams: (() => void)[] = [];
  built.get('/stream', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.write('data: first\n\n');
    streams.push(() => reply.raw.end('data: last\n\n'));
  });
  built.get('/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { answer: 'late but whole' };
  });
  built.get('/endless', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => reply.raw.write('data: tick\n\n'), 20);
    reply.raw.once('close', () => clearInterval(timer));
  });
  app = built;
  await built.listen({ host: '127.0.0.1', port: 0 });
  return {
    app: built,
    port: (built.server.address() as net.AddressInfo).port,
    endStreams: () => {
      for (const end of streams.splice(0)) end();
    },
  };
}

async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return { socket, closed, received: () => received };
}

/** Milliseconds until `app.close()` resolves, `Infinity` past `PROMPT_MS`. */
async function timeClose(closing: FastifyInstance): Promise<number> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), PROMPT_MS);
  });
  try {
    return await Promise.race([closing.close().then(() => Date.now() - started), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('gracefulClose', () => {
  it('closes a connection that never sent a request at once', async () => {
    const { app, port } = await listen(10_000);
    const silent = await connect(port);

    expect(await timeClose(app)).toBeLessThan(500);
    await silent.closed;
    expect(silent.received()).toBe('');
  });

  it('lets a request in flight finish, tells its client the connection closes, then closes it', async () => {
    const { app, port } = await listen(10_000);
    const connection = await connect(port);
    connection.socket.write('GET /slow HTTP/1.1\r\nHost: atelier\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const elapsed = await timeClose(app);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(PROMPT_MS);
    await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(connection.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(connection.received()).toContain('{"answer":"late but whole"}');
  });

  it('answers every pipelined request in flight before closing the connection', async () => {
    const { app, port } = await listen(10_000);
    const connection = await connect(port);
    const request = 'GET /slow HTTP/1.1\r\nHost: atelier\r\n\r\n';
    connection.socket.write(request + request);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(await timeClose(app)).toBeLessThan(PROMPT_MS);
    await connection.closed;
    expect(connection.received().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(connection.received().match(/late but whole/g)).toHaveLength(2);
    // Only the last answer tells the client the connection closes.
    expect(connection.received().match(/\r\nconnection: close\r\n/gi)).toHaveLength(1);
  });

  it('closes a keep-alive connection whose streamed response ends after the close began', async () => {
    const { app, port, endStreams } = await listen(10_000);
    const connection = await connect(port);
    connection.socket.write('GET /stream HTTP/1.1\r\nHost: atelier\r\nConnection: keep-alive\r\n\r\n');
    await expect.poll(connection.received).toContain('data: first');

    const closing = timeClose(app);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connection.socket.destroyed).toBe(false);
    endStreams();
    expect(await closing).toBeLessThan(PROMPT_MS);
    await connection.closed;
    expect(connection.received()).toContain('data: last\n\n');
  });

  it('cuts what is still in flight when the grace period ends', async () => {
    const { app, port } = await listen(300);
    const connection = await connect(port);
    connection.socket.write('GET /endless HTTP/1.1\r\nHost: atelier\r\n\r\n');
    await expect.poll(connection.received).toContain('data: tick');

    const elapsed = await timeClose(app);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(PROMPT_MS);
    await connection.closed;
  });
});
