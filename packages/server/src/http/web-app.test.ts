import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorResponse } from './errors.js';
import { registerWebApp } from './web-app.js';

const INLINE = "document.documentElement.dataset.theme = 'dark';";
const HTML = `<!doctype html><html><head><script>${INLINE}</script><script type="module" src="/assets/index-abc123.js"></script></head><body></body></html>`;

let root: string;
let app: FastifyInstance;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'atelier-web-'));
  await mkdir(path.join(root, 'assets'));
  await mkdir(path.join(root, 'icons'));
  await writeFile(path.join(root, 'index.html'), HTML);
  const script = 'console.log("app");'.repeat(200);
  await writeFile(path.join(root, 'assets/index-abc123.js'), script);
  await writeFile(path.join(root, 'assets/index-abc123.js.gz'), gzipSync(script));
  await writeFile(path.join(root, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  await writeFile(path.join(root, 'icons/icon-192.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  await writeFile(path.join(root, '.build-stamp'), 'secret-ish');
  app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    const mapped = toErrorResponse(error);
    void reply.code(mapped.status).send(mapped.body);
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [] }));
  expect(await registerWebApp(app, { root })).toBe(true);
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await rm(root, { recursive: true, force: true });
});

describe('serving the web app', () => {
  it('serves the page, revalidated each time, with a CSP that allows its own inline script by hash', async () => {
    const response = await app.inject({ url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    const hash = createHash('sha256').update(INLINE).digest('base64');
    const policy = String(response.headers['content-security-policy']);
    expect(policy).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toBe(HTML);
  });

  it('answers the app’s own routes with the page, so deep links and reloads work', async () => {
    for (const url of ['/c/chat_123', '/settings/api-keys', '/sign-in?next=%2F']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toBe(HTML);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toBeDefined();
    }
  });

  it('caches hashed assets for a year and sends the pre-compressed copy when accepted', async () => {
    const plain = await app.inject({ url: '/assets/index-abc123.js' });
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-security-policy']).toBeUndefined();
    const gzipped = await app.inject({
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(gzipped.headers['content-length'])).toBeLessThan(Number(plain.headers['content-length']));
    expect((await app.inject({ url: '/sw.js' })).headers['cache-control']).toBe('no-cache');
    expect((await app.inject({ url: '/icons/icon-192.png' })).headers['cache-control']).toBe(
      'public, max-age=86400',
    );
  });

  it('leaves /v1 and /api alone and never answers a missing file with the page', async () => {
    expect((await app.inject({ url: '/v1/models' })).json()).toEqual({ object: 'list', data: [] });
    for (const url of [
      '/v1/nope',
      '/api/nope',
      '/api',
      '/assets/missing.js',
      '/favicon.ico',
      '/.build-stamp',
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json(), url).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
  });

  it('registers nothing when there is no build', async () => {
    const bare = Fastify();
    expect(await registerWebApp(bare, { root: path.join(root, 'missing') })).toBe(false);
    await bare.close();
  });
});
