import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('hashes with a fresh salt each time and verifies only the right password', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first).not.toBe(second);
    expect(first).toMatch(/^scrypt\$N=32768,r=8,p=1\$/);
    expect(await verifyPassword('correct horse battery', first)).toBe(true);
    expect(await verifyPassword('correct horse battery', second)).toBe(true);
    expect(await verifyPassword('correct horse batterY', first)).toBe(false);
    expect(await verifyPassword('', first)).toBe(false);
    expect(needsRehash(first)).toBe(false);
  });

  it('treats composed and decomposed Hangul as the same password', async () => {
    const composed = '비밀번호입니다'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(composed).not.toBe(decomposed);
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it('verifies hashes made with older, weaker parameters and asks for a re-hash', async () => {
    const weak = await hashPassword('pass phrase', { cost: 2 ** 10, blockSize: 8, parallelization: 1 });
    expect(weak).toMatch(/^scrypt\$N=1024,/);
    expect(await verifyPassword('pass phrase', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
  });

  it('answers false, never throws, for malformed or hostile stored values', async () => {
    for (const stored of [
      '',
      'plain text',
      'bcrypt$whatever',
      'scrypt$N=32768,r=8,p=1$c2FsdA$',
      'scrypt$N=1073741824,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
      'scrypt$N=1000,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
    ]) {
      expect(await verifyPassword('anything', stored)).toBe(false);
      expect(needsRehash(stored)).toBe(true);
    }
  });
});
