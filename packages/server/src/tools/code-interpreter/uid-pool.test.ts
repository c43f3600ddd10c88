import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUidPool, processStartTime } from './uid-pool.js';

let leaseDir: string;

beforeEach(async () => {
  leaseDir = path.join(await mkdtemp(path.join(tmpdir(), 'atelier-uid-pool-')), 'uids');
});

afterEach(async () => {
  await rm(path.dirname(leaseDir), { recursive: true, force: true });
});

describe('the uid pool', () => {
  it('never hands out one uid twice, across pools sharing the lease directory', async () => {
    const first = await createUidPool({ leaseDir, first: 5000, count: 3 });
    const second = await createUidPool({ leaseDir, first: 5000, count: 3 });
    const leases = [await first.acquire(), await second.acquire(), await first.acquire()];
    expect(new Set(leases.map((lease) => lease?.uid))).toEqual(new Set([5000, 5001, 5002]));
    expect(await second.acquire()).toBeUndefined();
    await leases[1]!.release();
    expect((await first.acquire())?.uid).toBe(leases[1]!.uid);
  });

  it('takes back the leases of processes that are gone, not of living ones', async () => {
    const pool = await createUidPool({ leaseDir, first: 7000, count: 2 });
    const self = { pid: process.pid, startTime: await processStartTime(process.pid) };
    await writeFile(path.join(leaseDir, '7000'), JSON.stringify(self));
    // Same pid, another start time: a reused pid, its owner is gone.
    await writeFile(path.join(leaseDir, '7001'), JSON.stringify({ pid: process.pid, startTime: '1' }));
    expect((await pool.acquire())?.uid).toBe(7001);
    expect(await pool.acquire()).toBeUndefined();
    expect((await readdir(leaseDir)).sort()).toEqual(['7000', '7001']);
  });
});
