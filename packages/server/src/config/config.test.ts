import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './config.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'atelier-config-'));

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const cwd = emptyDir();
    const config = loadConfig({ env: {}, cwd });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: path.join(cwd, 'data'),
      modelsDir: path.join(cwd, 'data', 'models'),
      databaseUrl: undefined,
      bootstrapApiKey: undefined,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the environment', () => {
    const cwd = emptyDir();
    const config = loadConfig({
      env: {
        ATELIER_HOST: '0.0.0.0',
        ATELIER_PORT: '9001',
        ATELIER_DATA_DIR: 'state',
        ATELIER_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        ATELIER_BOOTSTRAP_API_KEY: 'sk-bootstrap-0123456789abcdef',
        ATELIER_LOG_LEVEL: 'debug',
      },
      cwd,
    });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(9001);
    expect(config.dataDir).toBe(path.join(cwd, 'state'));
    expect(config.modelsDir).toBe(path.join(cwd, 'state', 'models'));
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(config.logLevel).toBe('debug');
  });

  it('reads atelier.config.json with env names or camelCase keys; the environment wins', () => {
    const cwd = emptyDir();
    writeFileSync(
      path.join(cwd, 'atelier.config.json'),
      JSON.stringify({ port: 7000, ATELIER_LOG_LEVEL: 'warn', host: '::1' }),
    );
    const config = loadConfig({ env: { ATELIER_HOST: '127.0.0.2' }, cwd });
    expect(config.port).toBe(7000);
    expect(config.logLevel).toBe('warn');
    expect(config.host).toBe('127.0.0.2');
  });

  it.each([
    [{ ATELIER_PORT: 'eighty' }, /ATELIER_PORT="eighty"/],
    [{ ATELIER_PORT: '70000' }, /ATELIER_PORT/],
    [{ ATELIER_LOG_LEVEL: 'loud' }, /ATELIER_LOG_LEVEL="loud"/],
    [{ ATELIER_DATABASE_URL: 'mysql://x' }, /ATELIER_DATABASE_URL/],
    [{ ATELIER_BOOTSTRAP_API_KEY: 'short' }, /ATELIER_BOOTSTRAP_API_KEY/],
  ])('rejects %j with one clear line', (env, pattern) => {
    const run = () => loadConfig({ env, cwd: emptyDir() });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(pattern);
    try {
      run();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('rejects a config file that is not JSON or has unknown keys', () => {
    const broken = emptyDir();
    writeFileSync(path.join(broken, 'atelier.config.json'), '{ port: 1');
    expect(() => loadConfig({ env: {}, cwd: broken })).toThrow(/not valid JSON/);
    const unknown = emptyDir();
    writeFileSync(path.join(unknown, 'atelier.config.json'), JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ env: {}, cwd: unknown })).toThrow(/unknown key "prot"/);
    expect(() => loadConfig({ env: { ATELIER_CONFIG: 'missing.json' }, cwd: emptyDir() })).toThrow(
      /does not exist/,
    );
  });

  it('sizes the vector search memory in MiB, 1 GiB unless told', () => {
    expect(loadConfig({ env: {}, cwd: emptyDir() }).vectorCacheMb).toBe(1024);
    expect(loadConfig({ env: { ATELIER_VECTOR_CACHE_MB: '4096' }, cwd: emptyDir() }).vectorCacheMb).toBe(
      4096,
    );
    expect(() => loadConfig({ env: { ATELIER_VECTOR_CACHE_MB: '8' }, cwd: emptyDir() })).toThrow(
      /ATELIER_VECTOR_CACHE_MB/,
    );
  });

  it('gives requests in flight 7 s to finish when closing, or the seconds configured (0: none)', () => {
    expect(loadConfig({ env: {}, cwd: emptyDir() }).shutdownGraceSeconds).toBe(7);
    const env = (value: string) => ({ env: { ATELIER_SHUTDOWN_GRACE_SECONDS: value }, cwd: emptyDir() });
    expect(loadConfig(env('25')).shutdownGraceSeconds).toBe(25);
    expect(loadConfig(env('1.5')).shutdownGraceSeconds).toBe(1.5);
    expect(loadConfig(env('0')).shutdownGraceSeconds).toBe(0);
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'atelier.config.json'), JSON.stringify({ shutdownGraceSeconds: 20 }));
    expect(loadConfig({ env: {}, cwd }).shutdownGraceSeconds).toBe(20);
  });

  it.each(['soon', '-1', '3601', '7s'])(
    'rejects ATELIER_SHUTDOWN_GRACE_SECONDS=%j with one clear line',
    (value) => {
      const run = () => loadConfig({ env: { ATELIER_SHUTDOWN_GRACE_SECONDS: value }, cwd: emptyDir() });
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(
        `Invalid configuration: ATELIER_SHUTDOWN_GRACE_SECONDS=${JSON.stringify(value)}: expected a number of seconds from 0 to 3600 (0: cut requests in flight at once)`,
      );
    },
  );

  it('takes a Redis URL for scale-out and refuses anything else', () => {
    const config = loadConfig({ env: { ATELIER_REDIS_URL: 'redis://cache:6379/2' }, cwd: emptyDir() });
    expect(config.redisUrl).toBe('redis://cache:6379/2');
    expect(config.redisPrefix).toBe('atelier:');
    expect(loadConfig({ env: {}, cwd: emptyDir() }).redisUrl).toBeUndefined();
    expect(() => loadConfig({ env: { ATELIER_REDIS_URL: 'http://cache:6379' }, cwd: emptyDir() })).toThrow(
      /ATELIER_REDIS_URL.*redis:\/\//,
    );
    expect(() => loadConfig({ env: { ATELIER_REDIS_PREFIX: 'has space' }, cwd: emptyDir() })).toThrow(
      /ATELIER_REDIS_PREFIX/,
    );
  });

  it('takes a web search provider as JSON, naming the bad field but never the key', () => {
    const searxng = loadConfig({
      env: { ATELIER_SEARCH_PROVIDER: '{"type":"searxng","base_url":"http://searx:8080"}' },
      cwd: emptyDir(),
    });
    expect(searxng.searchProvider).toEqual({ type: 'searxng', base_url: 'http://searx:8080' });
    const brave = loadConfig({
      env: { ATELIER_SEARCH_PROVIDER: '{"type":"brave","api_key":"bk"}' },
      cwd: emptyDir(),
    });
    expect(brave.searchProvider).toEqual({ type: 'brave', api_key: 'bk' });
    expect(loadConfig({ env: {}, cwd: emptyDir() }).searchProvider).toBeUndefined();
    const missingKey = () =>
      loadConfig({ env: { ATELIER_SEARCH_PROVIDER: '{"type":"tavily","api_key":""}' }, cwd: emptyDir() });
    expect(missingKey).toThrow(/ATELIER_SEARCH_PROVIDER/);
    expect(() =>
      loadConfig({
        env: { ATELIER_SEARCH_PROVIDER: '{"type":"google","api_key":"secret-value"}' },
        cwd: emptyDir(),
      }),
    ).toThrow(/^(?![\s\S]*secret-value)[\s\S]*ATELIER_SEARCH_PROVIDER/);
  });
});
