// Runs one storage test suite against every dialect: SQLite in a fresh temp dir, PostgreSQL in a
// fresh schema with a random name (test files run in parallel processes, so each gets its own).
//
//   describeEachDialect('api keys', (getHandle) => {
//     it('…', async () => { const { db, dialect } = getHandle(); … });
//   });
//
// PostgreSQL comes from ATELIER_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
// When it cannot be reached the postgres suites FAIL, since CI has one and a silent skip would hide
// regressions; ATELIER_TEST_SKIP_POSTGRES=1 skips them on purpose.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { type DatabaseDialect, type DatabaseHandle, openDatabase } from '../database.js';
import { describeError } from '../describe-error.js';
import { migrateToLatest } from '../migrations/migrate-to-latest.js';

export const DIALECTS: readonly DatabaseDialect[] = ['sqlite', 'postgres'];

export const testDatabaseUrl =
  process.env['ATELIER_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

export const skipPostgres = process.env['ATELIER_TEST_SKIP_POSTGRES'] === '1';

export interface TestDatabase extends DatabaseHandle {
  /** The temp dir (sqlite) or the schema (postgres) this database lives in. */
  readonly location: string;
  /**
   * Opens another handle on the same database (same file, same schema), e.g. to act like a
   * restarted server. It is closed with the test database, or earlier by the caller.
   */
  reopen(): Promise<DatabaseHandle>;
  /** Closes every handle and removes the temp dir or drops the schema. */
  destroy(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  readonly dialect: DatabaseDialect;
  /** Run the migrations before handing it over (default true). */
  readonly migrate?: boolean;
}

export async function createTestDatabase({
  dialect,
  migrate = true,
}: CreateTestDatabaseOptions): Promise<TestDatabase> {
  const database = dialect === 'sqlite' ? await createSqliteDatabase() : await createPostgresDatabase();
  if (migrate) {
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      await database.destroy();
      throw error;
    }
  }
  return database;
}

export interface DescribeEachDialectOptions {
  /** Run the migrations first (default true). */
  readonly migrate?: boolean;
  /** A fresh database for the whole suite (default) or for each test. */
  readonly freshFor?: 'suite' | 'test';
}

/**
 * Defines the suite once per dialect, as `title [sqlite]` and `title [postgres]`. Call
 * `getHandle()` inside tests and hooks (the database is opened in a `beforeAll`/`beforeEach`).
 */
export function describeEachDialect(
  title: string,
  define: (getHandle: () => TestDatabase) => void,
  { migrate = true, freshFor = 'suite' }: DescribeEachDialectOptions = {},
): void {
  for (const dialect of DIALECTS) {
    const describeDialect = dialect === 'postgres' && skipPostgres ? describe.skip : describe;
    describeDialect(`${title} [${dialect}]`, () => {
      let database: TestDatabase | undefined;
      const open = async () => {
        database = await createTestDatabase({ dialect, migrate });
      };
      const close = async () => {
        await database?.destroy();
        database = undefined;
      };
      if (freshFor === 'test') {
        beforeEach(open);
        afterEach(close);
      } else {
        beforeAll(open);
        afterAll(close);
      }
      define(() => {
        if (!database)
          throw new Error(`The ${dialect} test database is not open: call getHandle() in a test or hook.`);
        return database;
      });
    });
  }
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'atelier-test-'));
  return withHandles({
    location: dataDir,
    open: () => openDatabase({ dataDir }),
    cleanUp: () => rm(dataDir, { recursive: true, force: true }),
  });
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  // Lower-case hex: a valid unquoted identifier, so it can go into search_path as is.
  const schema = `atelier_test_${randomBytes(8).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const dataDir = os.tmpdir(); // unused by postgres, required by the options
  try {
    return await withHandles({
      location: schema,
      open: () => openDatabase({ url: testDatabaseUrl, dataDir, searchPath: schema, maxConnections: 4 }),
      cleanUp: () => adminQuery(`drop schema if exists ${schema} cascade`),
    });
  } catch (error) {
    await adminQuery(`drop schema if exists ${schema} cascade`);
    throw error;
  }
}

async function withHandles({
  location,
  open,
  cleanUp,
}: {
  location: string;
  open: () => Promise<DatabaseHandle>;
  cleanUp: () => Promise<unknown>;
}): Promise<TestDatabase> {
  const handles: DatabaseHandle[] = [];
  const openTracked = async () => {
    const handle = await open();
    handles.push(handle);
    return handle;
  };
  const main = await openTracked();
  return {
    ...main,
    location,
    reopen: openTracked,
    async destroy() {
      await Promise.all(handles.map((handle) => handle.close()));
      await cleanUp();
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 5_000 });
  // An unhandled 'error' event would crash the test process instead of failing the suite.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL for the storage tests is unreachable at ${redactUrl(testDatabaseUrl)} (${describeError(error)}). ` +
        'Start it, point ATELIER_TEST_DATABASE_URL at one, or set ATELIER_TEST_SKIP_POSTGRES=1 to skip the postgres suites.',
    );
  }
  try {
    await client.query(text);
  } finally {
    await client.end().catch(() => {});
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable ATELIER_TEST_DATABASE_URL)';
  }
}
