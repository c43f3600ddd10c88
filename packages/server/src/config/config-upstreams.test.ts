import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './config.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'atelier-config-'));

describe('upstreams in the configuration', () => {
  it('reads ATELIER_UPSTREAMS as JSON, with defaults for what is left out', () => {
    const config = loadConfig({
      env: {
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'lab', base_url: 'http://gpu:8000/v1/', api_key: 'sk-lab', prefix: 'lab/' },
          {
            name: 'openai',
            base_url: 'https://api.openai.com/v1',
            models: ['gpt-4o'],
            timeout_ms: 30000,
            max_concurrency: 8,
            max_retries: 0,
          },
        ]),
      },
      cwd: emptyDir(),
    });
    expect(config.upstreams).toEqual([
      {
        name: 'lab',
        baseUrl: 'http://gpu:8000/v1',
        apiKey: 'sk-lab',
        prefix: 'lab/',
        models: undefined,
        timeoutMs: 600000,
        maxConcurrency: undefined,
        maxRetries: 2,
      },
      {
        name: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        apiKey: undefined,
        prefix: '',
        models: ['gpt-4o'],
        timeoutMs: 30000,
        maxConcurrency: 8,
        maxRetries: 0,
      },
    ]);
    expect(Object.isFrozen(config.upstreams)).toBe(true);
    expect(loadConfig({ env: {}, cwd: emptyDir() }).upstreams).toEqual([]);
  });

  it('reads `upstreams` from the config file; the environment wins', () => {
    const cwd = emptyDir();
    writeFileSync(
      path.join(cwd, 'atelier.config.json'),
      JSON.stringify({ upstreams: [{ name: 'file', base_url: 'http://a/v1' }] }),
    );
    expect(loadConfig({ env: {}, cwd }).upstreams.map((upstream) => upstream.name)).toEqual(['file']);
    const env = { ATELIER_UPSTREAMS: '[{"name":"env","base_url":"http://b/v1"}]' };
    expect(loadConfig({ env, cwd }).upstreams.map((upstream) => upstream.name)).toEqual(['env']);
  });

  it.each([
    ['not json', /ATELIER_UPSTREAMS: .*expected/],
    ['[{"name":"a","base_url":"ftp://x"}]', /ATELIER_UPSTREAMS: 0\.base_url: must be an http/],
    ['[{"name":"a b","base_url":"http://x"}]', /0\.name/],
    ['[{"name":"a","base_url":"http://x"},{"name":"a","base_url":"http://y"}]', /unique/],
    ['[{"name":"a","base_url":"http://x","apikey":"sk-secret-value"}]', /Unrecognized key/],
    ['[{"name":"a","base_url":"http://x","api_key":"sk-secret-value","timeout_ms":-1}]', /0\.timeout_ms/],
  ])('rejects %s in one line that never shows a key', (value, pattern) => {
    const run = () => loadConfig({ env: { ATELIER_UPSTREAMS: value }, cwd: emptyDir() });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(pattern);
    try {
      run();
    } catch (error) {
      expect((error as Error).message).not.toContain('sk-secret-value');
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('takes ATELIER_SECRET_KEY of 32 characters or more, and never echoes a short one', () => {
    expect(loadConfig({ env: { ATELIER_SECRET_KEY: 's'.repeat(32) }, cwd: emptyDir() }).secretKey).toBe(
      's'.repeat(32),
    );
    const run = () => loadConfig({ env: { ATELIER_SECRET_KEY: 'short-secret' }, cwd: emptyDir() });
    expect(run).toThrow(/ATELIER_SECRET_KEY: must be at least 32 characters/);
    expect(run).not.toThrow(/short-secret/);
  });
});
