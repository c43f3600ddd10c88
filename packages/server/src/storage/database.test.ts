import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ServiceUnavailableError } from '../errors.js';
import { openDatabase } from './database.js';
import { describeEachDialect } from './test-support/dialects.js';

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}

describe('openDatabase', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'atelier-db-'));
    dirs.push(dir);
    return dir;
  };

  it('opens SQLite in the data dir, creating it, with WAL, foreign keys, a busy timeout and synchronous NORMAL', async () => {
    const dataDir = path.join(await tempDir(), 'nested', 'data');
    const handle = await openDatabase({ dataDir });
    try {
      expect(handle.dialect).toBe('sqlite');
      expect(existsSync(path.join(dataDir, 'atelier.db'))).toBe(true);
      const pragma = async (name: string) => {
        const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(handle.db);
        return Object.values(rows[0] ?? {})[0];
      };
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('synchronous')).toBe(1); // NORMAL
      expect(await pragma('busy_timeout')).toBeGreaterThan(0);
    } finally {
      await handle.close();
      await handle.close(); // a second close is harmless
    }
  });

  it('honours fileName', async () => {
    const dataDir = await tempDir();
    const handle = await openDatabase({ dataDir, fileName: 'other.sqlite' });
    await handle.close();
    expect(existsSync(path.join(dataDir, 'other.sqlite'))).toBe(true);
  });

  it("opens an in-memory SQLite for ':memory:' without touching the data dir", async () => {
    const dataDir = path.join(os.tmpdir(), `atelier-never-created-${process.pid}-${Date.now()}`);
    const handle = await openDatabase({ url: ':memory:', dataDir });
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
    await handle.close();
    expect(rows).toEqual([{ one: 1 }]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('rejects other URLs with a one-line ConfigError that does not repeat the URL', async () => {
    const attempt = openDatabase({ url: 'mysql://root:hunter2@db/atelier', dataDir: os.tmpdir() });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/Unsupported database URL scheme "mysql:".*postgres:\/\//);
    const error = await rejection(attempt);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('\n');
    await expect(openDatabase({ url: 'atelier.db', dataDir: os.tmpdir() })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });

  it('says which PostgreSQL it cannot reach, in one line, without the password', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const attempt = openDatabase({
      url: 'postgresql://someone:hunter2@127.0.0.1:1/atelier',
      dataDir: os.tmpdir(),
    });
    const error = await rejection(attempt);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(/^Cannot connect to PostgreSQL at 127\.0\.0\.1:1\/atelier: .*ECONNREFUSED/);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('\n');
  });

  it('rejects a search_path that would need quoting', async () => {
    const attempt = openDatabase({
      url: 'postgres://x@127.0.0.1:1/x',
      dataDir: os.tmpdir(),
      searchPath: 'a b',
    });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
  });
});

describeEachDialect('database handle', (getHandle) => {
  it('reads integers, BIGINT and count(*) included, as JS numbers', async () => {
    const { db } = getHandle();
    const { rows } = await sql<{ big: unknown; counted: unknown }>`
      select cast(${2 ** 40} as bigint) as big, (select count(*) from accounts) as counted`.execute(db);
    expect(rows[0]).toEqual({ big: 2 ** 40, counted: 0 });
  });

  it('fails loudly rather than round a BIGINT beyond 2^53 on postgres', async ({ skip }) => {
    const { db, dialect } = getHandle();
    // better-sqlite3 rounds such values (unless safeIntegers is on); we store only unix seconds there.
    if (dialect !== 'postgres') skip();
    const query = sql<{ big: unknown }>`select cast('9007199254740993' as bigint) as big`.execute(db);
    await expect(query).rejects.toThrow(/does not fit a JS number/);
    // …and the pool is still usable afterwards.
    const { rows } = await sql<{ one: unknown }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
