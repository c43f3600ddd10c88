import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'atelier-config-'));

describe('metrics settings', () => {
  it('serves metrics by default, without a token', () => {
    const config = loadConfig({ env: {}, cwd: emptyDir() });
    expect(config.metrics).toBe(true);
    expect(config.metricsToken).toBeUndefined();
  });

  it('reads ATELIER_METRICS=on|off and ATELIER_METRICS_TOKEN from the environment', () => {
    expect(loadConfig({ env: { ATELIER_METRICS: 'off' }, cwd: emptyDir() }).metrics).toBe(false);
    expect(loadConfig({ env: { ATELIER_METRICS: 'on' }, cwd: emptyDir() }).metrics).toBe(true);
    const config = loadConfig({
      env: { ATELIER_METRICS_TOKEN: 'scrape-0123456789abcdef' },
      cwd: emptyDir(),
    });
    expect(config.metricsToken).toBe('scrape-0123456789abcdef');
  });

  it('reads both from the config file; the environment wins', () => {
    const cwd = emptyDir();
    writeFileSync(
      path.join(cwd, 'atelier.config.json'),
      JSON.stringify({ metrics: 'off', ATELIER_METRICS_TOKEN: 'from-the-file-0123456789' }),
    );
    expect(loadConfig({ env: {}, cwd })).toMatchObject({
      metrics: false,
      metricsToken: 'from-the-file-0123456789',
    });
    expect(loadConfig({ env: { ATELIER_METRICS: 'on' }, cwd }).metrics).toBe(true);
    writeFileSync(path.join(cwd, 'atelier.config.json'), JSON.stringify({ metrics: false }));
    expect(loadConfig({ env: {}, cwd }).metrics).toBe(false);
  });

  it('refuses a bad switch, and a weak token without repeating it', () => {
    expect(() => loadConfig({ env: { ATELIER_METRICS: 'maybe' }, cwd: emptyDir() })).toThrow(
      /ATELIER_METRICS="maybe": expected on or off/,
    );
    const weak = () => loadConfig({ env: { ATELIER_METRICS_TOKEN: 'short-secret' }, cwd: emptyDir() });
    expect(weak).toThrow(/ATELIER_METRICS_TOKEN: must be at least 16 characters/);
    try {
      weak();
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret');
    }
    expect(() =>
      loadConfig({ env: { ATELIER_METRICS_TOKEN: 'has a space in it 0123' }, cwd: emptyDir() }),
    ).toThrow(/must not contain spaces/);
  });
});
