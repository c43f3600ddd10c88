// Closing the server (what SIGTERM does) is prompt: connections that never sent a request and idle
// keep-alive connections do not hold it, and an answer being streamed when it begins still ends.
import { rm } from 'node:fs/promises';
import net from 'node:net';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, vocabulary } from '../support/api-server.js';

/** Far below the wait an unfixed close had: the client's own timeout, or the 72 s keep-alive one. */
const PROMPT_MS = 3_000;

let server: TestServer | undefined;
/** The server's close, once a test began it. */
let closing: Promise<void> | undefined;
afterEach(async () => {
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

/** A raw TCP connection to the server, with what it received and whether the server closed it. */
async function connect(testServer: TestServer) {
  const { hostname, port } = new URL(testServer.baseURL);
  const socket = net.connect(Number(port), hostname);
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
});
