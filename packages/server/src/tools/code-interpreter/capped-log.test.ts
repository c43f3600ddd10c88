import { describe, expect, it } from 'vitest';
import { CappedLog } from './capped-log.js';

describe('CappedLog', () => {
  it('keeps everything within its budget', () => {
    const log = new CappedLog(100);
    log.append(Buffer.from('hello '));
    log.append(Buffer.from('world\n'));
    expect(log.text()).toBe('hello world\n');
    expect(log.droppedBytes).toBe(0);
    expect(log.full).toBe(false);
  });

  it('keeps the beginning and the end of a flood and counts what it left out', () => {
    const log = new CappedLog(20);
    log.append(Buffer.from('BEGIN-----'));
    for (let index = 0; index < 100; index += 1) log.append(Buffer.from('.........\n'));
    log.append(Buffer.from('--THE-END!'));
    expect(log.full).toBe(true);
    expect(log.droppedBytes).toBe(10 + 1000 + 10 - 20);
    expect(log.text()).toBe('BEGIN-----\n[… 1000 bytes of output left out …]\n--THE-END!');
  });

  it('splits a chunk that crosses from the beginning into the end', () => {
    const log = new CappedLog(8);
    log.append(Buffer.from('abcdefghijkl'));
    expect(log.text()).toBe('abcd\n[… 4 bytes of output left out …]\nijkl');
  });
});
