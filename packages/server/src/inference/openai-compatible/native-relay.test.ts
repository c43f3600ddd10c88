// The native relay, through the upstream client's pool: a scripted upstream (raw TCP, the bytes
// and their timing chosen by each test) and a real client socket, which the relay writes to.
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamUsage } from '../../http/usage-meter.js';
import type { PassThroughResponse } from '../spec.js';
import { Http1Pool } from './http1-pool.js';
import { loadNativeRelay, type NativeRelay } from './native-relay.js';

const addon = loadNativeRelay();
const HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n';
const REQUEST = 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each upstream connection runs `script` for each request it reads. */
async function scriptedUpstream(script: (socket: Socket, exchange: number) => Promise<void> | void) {
  const connections: Socket[] = [];
  let exchanges = 0;
  const server: Server = createServer((socket) => {
    connections.push(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('data', () => void script(socket, exchanges++));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of connections) socket.destroy();
    server.close();
  });
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), connections };
}

/** A client's connection: `socket` is the server side (what the relay writes to), `reader` the client's. */
async function clientConnection() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const reader = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const socket = await accepted;
  socket.setNoDelay(true);
  socket.on('error', () => {});
  reader.on('error', () => {});
  cleanups.push(() => {
    reader.destroy();
    socket.destroy();
    server.close();
  });
  const received: Buffer[] = [];
  reader.on('data', (bytes: Buffer) => received.push(bytes));
  return { socket, reader, received: () => Buffer.concat(received).toString('latin1') };
}

/** The addon, counting the relays it starts (so a test knows the native relay did the work). */
function counted(relay: NativeRelay) {
  const counter = {
    starts: 0,
    relay: {
      relay: (...args: Parameters<NativeRelay['relay']>) => {
        counter.starts++;
        return relay.relay(...args);
      },
      abort: (handle: unknown) => relay.abort(handle),
    } satisfies NativeRelay,
  };
  return counter;
}

/** Runs `source` (CommonJS, with `parentPort`) in a worker thread; `message()` waits for its next message. */
function inWorker(source: string) {
  const worker = new Worker(`const { parentPort } = require('node:worker_threads');\n${source}`, {
    eval: true,
  });
  cleanups.push(() => void worker.terminate());
  return {
    worker,
    message: <T>() =>
      new Promise<T>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  };
}

function ask(pool: Http1Pool, timeoutMs = 2_000): Promise<PassThroughResponse> {
  return new Promise((resolve, reject) => {
    pool.exchange({
      head: REQUEST,
      body: Buffer.from('{}'),
      timeoutMs,
      handler: { answer: resolve, fail: (error) => reject(error) },
    });
  });
}

/** Relays the answer's body to `socket` as relay-upstream-response.ts does; settles at its end. */
function relayTo(response: PassThroughResponse, socket: Socket, usage?: UpstreamUsage) {
  return new Promise<{ whole: boolean; error?: Error }>((resolve) => {
    response.relay({
      framed: true,
      socket,
      write: (bytes) => {
        if (socket.write(bytes)) return true;
        socket.once('drain', () => response.resume());
        return false;
      },
      inspect: usage?.inspect,
      end: () => resolve({ whole: true }),
      fail: (error) => resolve({ whole: false, error }),
    });
  });
}

const TICK_EVENT = 'data: {"choices":[{"delta":{"content":"tick"}}]}\n\n';
const TICK = `${TICK_EVENT.length.toString(16)}\r\n${TICK_EVENT}\r\n`;

describe.skipIf(!addon)('the native relay', () => {
  const BODY = '5;ext="a b"\r\nhello\r\n1a\r\ndata: {"x":"0123456789"}\n\n\r\n0\r\nx-trailer: 1\r\n\r\n';
  const FRAMED = BODY.slice(0, BODY.indexOf('0\r\nx-trailer'));

  it('follows chunk framing split across reads at every position, and the connection is reused', async () => {
    let split = 0;
    const upstream = await scriptedUpstream(async (socket) => {
      socket.write(HEAD);
      await pause(5);
      socket.write(BODY.slice(0, split));
      await pause(5);
      socket.write(BODY.slice(split));
    });
    const native = counted(addon!);
    const pool = new Http1Pool({ url: upstream.url, nativeRelay: native.relay });
    cleanups.push(() => pool.close());
    for (split = 1; split < BODY.length; split++) {
      const client = await clientConnection();
      const response = await ask(pool);
      const outcome = await relayTo(response, client.socket);
      expect(outcome).toEqual({ whole: true });
      await pause(2);
      // The last chunk and trailers are left for whoever ends the body.
      expect(client.received(), `split at ${split}`).toBe(FRAMED);
    }
    expect(native.starts).toBe(BODY.length - 1);
    expect(upstream.connections).toHaveLength(1);
  });

  it('fails an answer with bad chunk framing, and drops its connection', async () => {
    const upstream = await scriptedUpstream(async (socket) => {
      socket.write(HEAD);
      await pause(10);
      socket.write('5\r\nhello\r\n');
      await pause(10);
      socket.write('3\r\nabcd\r\n0\r\n\r\n');
    });
    const native = counted(addon!);
    const pool = new Http1Pool({ url: upstream.url, nativeRelay: native.relay });
    cleanups.push(() => pool.close());
    const client = await clientConnection();
    const outcome = await relayTo(await ask(pool), client.socket);
    expect(outcome.whole).toBe(false);
    expect((outcome.error as { code?: string }).code).toBe('UPSTREAM_BAD_HTTP');
    expect(outcome.error?.message).toMatch(/chunk longer than its size/);
    await pause(10);
    expect(client.received()).toBe('5\r\nhello\r\n');
    expect(native.starts).toBe(1);
    expect(upstream.connections[0]!.destroyed || upstream.connections[0]!.readableEnded).toBe(true);
  });

  it('waits for a slow client without losing a byte, and its wait is not the upstream silence', async () => {
    const piece = `data: ${'x'.repeat(4000)}\n\n`;
    const count = 2_000;
    const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
    const upstream = await scriptedUpstream(async (socket) => {
      socket.write(HEAD);
      await pause(5);
      for (let index = 0; index < count; index++) socket.write(chunk);
      socket.write('0\r\n\r\n');
    });
    const native = counted(addon!);
    const pool = new Http1Pool({ url: upstream.url, nativeRelay: native.relay });
    cleanups.push(() => pool.close());
    const client = await clientConnection();
    client.reader.pause();
    const relayed = relayTo(await ask(pool, 300), client.socket);
    // Far longer than the upstream's silence timeout: the client is the one behind.
    await pause(800);
    client.reader.resume();
    expect(await relayed).toEqual({ whole: true });
    await pause(50);
    expect(client.received()).toBe(chunk.repeat(count));
    expect(native.starts).toBe(1);
  });

  it('stops when its client leaves: the upstream sees the connection close', async () => {
    const upstream = await scriptedUpstream(async (socket) => {
      socket.write(HEAD);
      for (let index = 0; index < 100 && !socket.destroyed; index++) {
        await pause(10);
        socket.write(TICK);
      }
    });
    const native = counted(addon!);
    const pool = new Http1Pool({ url: upstream.url, nativeRelay: native.relay });
    cleanups.push(() => pool.close());
    const client = await clientConnection();
    const response = await ask(pool);
    const usage = new UpstreamUsage();
    void relayTo(response, client.socket, usage);
    await pause(60);
    const closed = new Promise((resolve) => upstream.connections[0]!.once('close', resolve));
    response.destroy();
    await closed;
    expect(client.received().split(TICK).join('')).toBe('');
    // What passed before the client left still counts.
    expect(usage.tokens({ requestBody: Buffer.from('{}') }).outputTokens).toBeGreaterThan(0);
    expect(native.starts).toBe(1);
  });

  it('fails an answer whose upstream falls silent for longer than the timeout', async () => {
    const upstream = await scriptedUpstream(async (socket) => {
      socket.write(HEAD);
      await pause(10);
      socket.write('4\r\ntick\r\n');
    });
    const native = counted(addon!);
    const pool = new Http1Pool({ url: upstream.url, nativeRelay: native.relay });
    cleanups.push(() => pool.close());
    const client = await clientConnection();
    const started = performance.now();
    const outcome = await relayTo(await ask(pool, 150), client.socket);
    expect((outcome.error as { code?: string }).code).toBe('UPSTREAM_TIMEOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(client.received()).toBe('4\r\ntick\r\n');
    expect(native.starts).toBe(1);
  });

  it('keeps a stream flowing while JavaScript is busy', async () => {
    // The upstream and the client's reader run in worker threads (event loops of their own), so
    // only the relay depends on this thread: it stays busy for 400 ms while a tick comes every 10 ms.
    const upstreamThread = inWorker(`
      const net = require('node:net');
      const tick = ${JSON.stringify(TICK)};
      const server = net.createServer((socket) => {
        socket.setNoDelay(true);
        socket.once('data', () => {
          socket.write(${JSON.stringify(HEAD)});
          let sent = 0;
          const timer = setInterval(() => {
            if (sent++ < 60) socket.write(tick);
            else { clearInterval(timer); socket.write('0\\r\\n\\r\\n'); }
          }, 10);
        });
      });
      server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    `);
    const upstreamPort = await upstreamThread.message<number>();
    const clientServer = createServer();
    await new Promise<void>((resolve) => clientServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => clientServer.close());
    const accepted = new Promise<Socket>((resolve) => clientServer.once('connection', resolve));
    // The reader notes when each piece came (the process's monotonic clock, in ms) and reports at the end.
    const readerThread = inWorker(`
      const net = require('node:net');
      const arrivals = [];
      const socket = net.connect(${(clientServer.address() as AddressInfo).port}, '127.0.0.1');
      socket.on('data', (bytes) => arrivals.push({ at: Number(process.hrtime.bigint()) / 1e6, bytes: bytes.length }));
      parentPort.once('message', () => parentPort.postMessage(arrivals));
    `);
    const client = await accepted;
    client.setNoDelay(true);
    cleanups.push(() => client.destroy());
    const native = counted(addon!);
    const pool = new Http1Pool({
      url: new URL(`http://127.0.0.1:${upstreamPort}`),
      nativeRelay: native.relay,
    });
    cleanups.push(() => pool.close());
    const relayed = relayTo(await ask(pool), client);
    while (native.starts === 0) await pause(1);
    const now = () => Number(process.hrtime.bigint()) / 1e6;
    const busyFrom = now();
    while (now() - busyFrom < 400) {
      // Busy: no event loop turn, no callback.
    }
    const busyUntil = now();
    expect(await relayed).toEqual({ whole: true });
    await pause(20);
    readerThread.worker.postMessage('report');
    const arrivals = await readerThread.message<{ at: number; bytes: number }[]>();
    expect(arrivals.reduce((sum, arrival) => sum + arrival.bytes, 0)).toBe(60 * TICK.length);
    // Ticks reached the client while this thread was busy, at their own pace (~35 of them; none
    // when relaying needs this thread).
    const whileBusy = arrivals.filter(({ at }) => at > busyFrom + 30 && at < busyUntil);
    expect(whileBusy.length).toBeGreaterThanOrEqual(10);
    expect(native.starts).toBe(1);
  });

  it('goes away with a worker thread: relays ended or running, nothing left open, the process whole', async () => {
    // In a worker, relays end while its JavaScript is busy (their news queued), others still run,
    // and the worker is terminated: the queued news meets an environment that can no longer run
    // JavaScript, the running relays' copies of the descriptors must close with it.
    const addonPath = fileURLToPath(new URL('../../../native/build/relay.node', import.meta.url));
    const accepting = async () => {
      const accepted: Socket[] = [];
      const server = createServer((socket) => {
        socket.on('error', () => {});
        accepted.push(socket);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => {
        for (const socket of accepted) socket.destroy();
        server.close();
      });
      return { port: (server.address() as AddressInfo).port, accepted };
    };
    const upstreams = await accepting();
    const clients = await accepting();
    const body = `${'bb8\r\n'}${'d'.repeat(3000)}\r\n`.repeat(20);
    for (const [pairs, ended] of [
      [40, 20],
      [40, 0],
    ] as const) {
      const thread = inWorker(`
        const net = require('node:net');
        const addon = require(${JSON.stringify(addonPath)});
        const connect = (port) => new Promise((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
          socket.on('error', () => {});
        });
        (async () => {
          for (let index = 0; index < ${pairs}; index++) {
            const upstream = await connect(${upstreams.port});
            const client = await connect(${clients.port});
            upstream._handle.reading = true;
            upstream._handle.readStop();
            addon.relay(upstream._handle.fd, client._handle.fd, 5000, true, () => {});
          }
          parentPort.postMessage('ready');
          parentPort.once('message', () => { for (;;) {} });
        })();
      `);
      await thread.message();
      while (upstreams.accepted.length < pairs) await pause(1);
      const sockets = upstreams.accepted.splice(0);
      thread.worker.postMessage('busy');
      await pause(20);
      // These end on the relay thread while the worker is busy; the others keep running.
      for (const socket of sockets.slice(0, ended)) socket.write(`${body}0\r\n\r\n`);
      for (const socket of sockets.slice(ended)) socket.write(body);
      await pause(100);
      const closed = Promise.all(
        sockets.slice(ended).map((socket) => new Promise((resolve) => socket.once('close', resolve))),
      );
      for (const socket of sockets.slice(ended)) socket.on('data', () => {}).resume();
      await thread.worker.terminate();
      // The upstreams of the relays still running see their connection close.
      await closed;
      for (const socket of [...sockets, ...clients.accepted.splice(0)]) socket.destroy();
    }
  });

  it('hands the usage count the content it needs: the reported usage, or the same estimate', async () => {
    // 1.5 MiB of events (more than the 1 MiB kept), with and without a usage chunk at the end.
    const event = `data: {"choices":[{"delta":{"content":"${'y'.repeat(100)}"}}]}\n\n`;
    const usageEvent = 'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":42}}\n\n';
    const chunks = (withUsage: boolean) => {
      const events = Array.from({ length: 12_000 }, () => event);
      if (withUsage) events.push(usageEvent);
      return events.map((text) => `${text.length.toString(16)}\r\n${text}\r\n`).join('');
    };
    let withUsage = true;
    const upstream = await scriptedUpstream(async (socket) => {
      socket.write(HEAD);
      await pause(5);
      socket.write(`${chunks(withUsage)}0\r\n\r\n`);
    });
    const native = counted(addon!);
    const pool = new Http1Pool({ url: upstream.url, nativeRelay: native.relay });
    const plain = new Http1Pool({ url: upstream.url });
    cleanups.push(
      () => pool.close(),
      () => plain.close(),
    );
    const tokens = async (through: Http1Pool) => {
      const usage = new UpstreamUsage();
      const client = await clientConnection();
      expect(await relayTo(await ask(through), client.socket, usage)).toEqual({ whole: true });
      return usage.tokens({ requestBody: Buffer.from('{"messages":[]}') });
    };
    expect(await tokens(pool)).toMatchObject({ inputTokens: 7, outputTokens: 42, estimated: false });
    withUsage = false;
    const estimated = await tokens(pool);
    expect(estimated.estimated).toBe(true);
    // The JavaScript relay keeps whole pieces (a little over 1 MiB), the native one exactly 1 MiB.
    const fromJavaScript = (await tokens(plain)).outputTokens;
    expect(Math.abs(estimated.outputTokens - fromJavaScript)).toBeLessThanOrEqual(fromJavaScript / 1000);
    expect(native.starts).toBe(2);
  });
});
