import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSecretBox,
  loadSecretBox,
  SECRET_KEY_FILE,
  type SealedSecret,
  SecretUnreadableError,
} from './secret-box.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('SecretBox', () => {
  it('seals to text that hides the secret and opens only with the same key and context', () => {
    const box = createSecretBox('k'.repeat(40));
    const sealed = box.seal('sk-upstream-secret', { context: 'upstream lab' });
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('sk-upstream');
    expect(box.seal('sk-upstream-secret', { context: 'upstream lab' })).not.toBe(sealed);
    expect(box.open(sealed, { context: 'upstream lab' })).toBe('sk-upstream-secret');
    expect(() => box.open(sealed, { context: 'upstream other' })).toThrow(SecretUnreadableError);
    expect(() => createSecretBox('x'.repeat(40)).open(sealed, { context: 'upstream lab' })).toThrow(
      /changed/,
    );
    const tampered = `${sealed.slice(0, -2)}AA` as SealedSecret;
    expect(() => box.open(tampered, { context: 'upstream lab' })).toThrow(SecretUnreadableError);
  });

  it('creates <data>/secret.key once (mode 0600) and reuses it; ATELIER_SECRET_KEY wins', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-secret-'));
    dirs.push(dataDir);
    const first = await loadSecretBox({ dataDir });
    const file = path.join(dataDir, SECRET_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const key = await readFile(file, 'utf8');
    const sealed = first.seal('secret', { context: 'c' });
    const again = await loadSecretBox({ dataDir });
    expect(await readFile(file, 'utf8')).toBe(key);
    expect(again.open(sealed, { context: 'c' })).toBe('secret');
    const fromEnv = await loadSecretBox({ dataDir, secretKey: 'e'.repeat(32) });
    expect(() => fromEnv.open(sealed, { context: 'c' })).toThrow(SecretUnreadableError);
  });
});
