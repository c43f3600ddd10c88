import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { makeTestModel } from '../inference/test-model/make-test-model.js';
import { startServer } from '../main.js';
import { runCli } from './main.js';

const bin = path.resolve(import.meta.dirname, '../../bin/atelier.js');

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

async function cli(args: string[], env: Record<string, string>) {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
    cwd: env['ATELIER_DATA_DIR'] ?? tmpdir(),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-cli-'));
  env = { ATELIER_DATA_DIR: dataDir, ATELIER_LOG_LEVEL: 'silent' };
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('atelier (the built command)', () => {
  it('prints help', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, '--help']);
    expect(stdout).toContain('atelier keys create');
    expect(stdout).toContain('atelier models make-test PATH');
  });

  it('stops on invalid configuration with one line and exit code 1', async () => {
    const result = await promisify(execFile)(process.execPath, [bin, 'serve'], {
      env: { ...process.env, ATELIER_PORT: 'abc', ATELIER_DATA_DIR: dataDir },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 1 });
    const stderr = (result as { stderr: string }).stderr.trim();
    expect(stderr).toBe(
      'atelier: Invalid configuration: ATELIER_PORT="abc": expected a port number from 0 to 65535',
    );
  });
});

describe('atelier keys', () => {
  it('creates a key shown once, lists it redacted, and revokes it; the server honours all of it', async () => {
    const created = await cli(['keys', 'create', '--name', 'laptop', '--role', 'admin'], env);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^sk-atelier-[0-9A-Za-z]{48}$/);
    const id = /Created API key (key_\w+)/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();

    const listed = await cli(['keys', 'list'], env);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('laptop');
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).toContain('active');

    const server = await startServer({
      config: loadConfig({ env: { ...env, ATELIER_PORT: '0' }, cwd: dataDir }),
      logger: pino({ level: 'silent' }),
    });
    try {
      const models = () =>
        fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
      expect((await models()).status).toBe(200);

      const revoked = await cli(['keys', 'revoke', id!], env);
      expect(revoked.code).toBe(0);
      const refused = await models();
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({
        error: { code: 'invalid_api_key', type: 'invalid_request_error' },
      });
    } finally {
      await server.close();
    }
    expect((await cli(['keys', 'list'], env)).stdout).not.toContain(id);
    expect((await cli(['keys', 'list', '--all'], env)).stdout).toMatch(/revoked \d{4}-/);
    const again = await cli(['keys', 'revoke', 'key_doesnotexist'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('No API key with id key_doesnotexist');
  });

  it('refuses unknown roles and flags clearly', async () => {
    expect((await cli(['keys', 'create', '--role', 'root'], env)).stderr).toContain(
      '--role must be admin or member',
    );
    const flag = await cli(['keys', 'create', '--colour', 'red'], env);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("Unknown option '--colour'");
  });
});

describe('atelier models', () => {
  it('make-test writes the same file for the same seed and another for another seed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'atelier-make-test-'));
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    try {
      for (const [name, seed] of [
        ['a', '7'],
        ['b', '7'],
        ['c', '8'],
      ] as const) {
        const result = await cli(
          ['models', 'make-test', path.join(dir, `${name}.gguf`), '--seed', seed],
          env,
        );
        expect(result.code).toBe(0);
        expect(result.stdout).toContain(`seed ${seed}`);
      }
      expect(sha(path.join(dir, 'a.gguf'))).toBe(sha(path.join(dir, 'b.gguf')));
      expect(sha(path.join(dir, 'a.gguf'))).not.toBe(sha(path.join(dir, 'c.gguf')));
      const bad = await cli(['models', 'make-test', path.join(dir, 'd.gguf'), '--dim', 'wide'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('--dim must be an integer');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pull downloads a model from a URL into the models dir, and list shows it', async () => {
    const source = path.join(dataDir, 'source.gguf');
    const made = await makeTestModel({ path: source, seed: 3 });
    const body = readFileSync(source);
    const http = createServer((request, response) => {
      if (request.url !== '/org/repo/resolve/main/pulled.gguf') {
        response.writeHead(404).end('not found');
        return;
      }
      response.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
      response.end(body);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}/org/repo/resolve/main/pulled.gguf`;
      const pulled = await cli(['models', 'pull', url, '--sha256', made.sha256], env);
      expect(pulled.stderr).toContain('Downloaded');
      expect(pulled.code).toBe(0);
      expect(pulled.stdout).toContain(`sha256 ${made.sha256}`);
      expect(await readdir(path.join(dataDir, 'models'))).toContain('pulled.gguf');

      const wrong = await cli(
        ['models', 'pull', url.replace('pulled', 'other'), '--sha256', made.sha256],
        env,
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('404');

      const listed = await cli(['models', 'list'], env);
      expect(listed.stdout).toMatch(/pulled\s+llama-cpp\s+llama\s+\d+/);
      expect(listed.stdout).toContain('test model (random weights)');
    } finally {
      http.close();
    }
  });
});
