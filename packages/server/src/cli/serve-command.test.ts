// `atelier serve` (the built command) stops promptly on SIGTERM and SIGINT, even with a client
// connected that never sent a request and one holding a keep-alive connection.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../bin/atelier.js');

/** Well under the keep-alive timeout (72 s) a stop used to wait for. */
const PROMPT_MS = 5_000;

let child: ChildProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/** Starts `atelier serve` on a free port; resolves with its URL once it says it serves. */
async function serve(): Promise<{ url: URL; stderr: () => string; exited: Promise<number | null> }> {
  dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-serve-'));
  const started = spawn(process.execPath, [bin, 'serve', '--host', '127.0.0.1', '--port', '0'], {
    env: { ...process.env, ATELIER_DATA_DIR: dataDir, ATELIER_LOG_LEVEL: 'silent', ATELIER_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child = started;
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
  const url = await new Promise<URL>((resolve, reject) => {
    started.stderr.setEncoding('utf8');
    started.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /Atelier is serving on (\S+)/.exec(stderr);
      if (match) resolve(new URL(match[1]!));
    });
    void exited.then((code) => reject(new Error(`atelier serve exited (${code}): ${stderr}`)));
  });
  return { url, stderr: () => stderr, exited };
}

async function connect(url: URL): Promise<net.Socket> {
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}

describe('atelier serve', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops on %s within seconds, whatever its clients leave open',
    async (signal) => {
      const server = await serve();
      const silent = await connect(server.url);
      const kept = await connect(server.url);
      kept.write(`GET /healthz HTTP/1.1\r\nHost: ${server.url.host}\r\nConnection: keep-alive\r\n\r\n`);
      await new Promise((resolve) => kept.once('data', resolve));

      const signalled = Date.now();
      child!.kill(signal);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        server.exited,
        new Promise<'still running'>((resolve) => {
          timer = setTimeout(() => resolve('still running'), PROMPT_MS);
        }),
      ]);
      clearTimeout(timer);
      expect(code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(PROMPT_MS);
      expect(server.stderr()).toContain(`${signal}: shutting down`);
      silent.destroy();
      kept.destroy();
    },
  );
});
