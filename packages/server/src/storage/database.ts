// Opens the one Kysely instance the server uses: better-sqlite3 in the data dir by default, or a pg
// Pool when a postgres:// URL is configured. Only this file knows about the two drivers; pg is
// loaded only when PostgreSQL is configured (it is not small, and SQLite is the default).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from 'kysely';
import type pg from 'pg';
import * as sqliteVec from 'sqlite-vec';
import { ConfigError, ServiceUnavailableError } from '../errors.js';
import { describeError } from './describe-error.js';
import type { DatabaseSchema } from './schema.js';

export type DatabaseDialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DatabaseDialect;
  /** Closes the SQLite file or ends the pool. Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Unset: SQLite file in `dataDir`. `':memory:'`: throwaway SQLite (tests). `postgres://…`: PostgreSQL. */
  readonly url?: string | undefined;
  readonly dataDir: string;
  readonly fileName?: string;
  /**
   * PostgreSQL only: comma-separated schema names for `search_path`, set on every pooled connection
   * at connect time (tests isolate themselves in a schema of their own this way).
   */
  readonly searchPath?: string | undefined;
  /** PostgreSQL only: pool size. */
  readonly maxConnections?: number;
  /** PostgreSQL only: how long to wait for a connection before giving up. */
  readonly connectTimeoutMs?: number;
  /** PostgreSQL only: an idle pooled connection failed (server restart…); the pool replaces it. */
  readonly onIdleConnectionError?: (error: Error) => void;
}

const SQLITE_BUSY_TIMEOUT_MS = 5_000;

export async function openDatabase({
  url = undefined,
  dataDir,
  fileName = 'atelier.db',
  searchPath = undefined,
  maxConnections = 10,
  connectTimeoutMs = 10_000,
  onIdleConnectionError = () => {},
}: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (url === undefined || url === ':memory:') {
    const file = url === ':memory:' ? ':memory:' : path.join(dataDir, fileName);
    return openSqlite(file, url === undefined ? dataDir : undefined);
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return openPostgres({ url, searchPath, maxConnections, connectTimeoutMs, onIdleConnectionError });
  }
  // Only the scheme goes into the message: the rest of a URL may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new ConfigError(
    `Unsupported database URL${scheme ? ` scheme "${scheme}:"` : ''}: use postgres://user:password@host:5432/database, or leave it unset for SQLite in the data directory.`,
  );
}

function openSqlite(file: string, dataDir: string | undefined): DatabaseHandle {
  let database: Sqlite.Database;
  try {
    if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
    database = new Sqlite(file);
    // WAL lets readers run beside the one writer; NORMAL is durable across crashes of the process
    // in WAL mode (only a power loss may drop the last commits), and much faster than FULL.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    // Full-text and vector search read many pages: map the file rather than copy each page.
    database.pragma('mmap_size = 268435456');
  } catch (error) {
    throw new ConfigError(`Cannot open the SQLite database at ${file}: ${describeError(error)}`);
  }
  try {
    // Vector search (sqlite-vec) on every connection: triggers on chunks write to its tables.
    // Without it (an unsupported platform) search still works by keywords; the search index says so.
    sqliteVec.load(database);
  } catch {
    // reported by the search index when vectors are asked for
  }
  const db = new Kysely<DatabaseSchema>({
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
  });
  return { db, dialect: 'sqlite', close: once(() => db.destroy()) };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew, and preparing (parsing and planning the SQL) is most of what a
 * small query costs — e.g. the API-key lookup of every request. A statement of better-sqlite3 can
 * be run again with other parameters, so the recently used ones are kept, by their SQL. One still
 * being iterated (a streamed result) is busy: the query then gets a statement of its own.
 */
function withStatementCache(database: Sqlite.Database): SqliteDatabase {
  const statements = new Map<string, Sqlite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement?.busy) return database.prepare(sql);
      if (statement) {
        // Least recently used first: move it to the end.
        statements.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

interface PostgresOptions {
  readonly url: string;
  readonly searchPath: string | undefined;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  readonly onIdleConnectionError: (error: Error) => void;
}

async function openPostgres({
  url,
  searchPath,
  maxConnections,
  connectTimeoutMs,
  onIdleConnectionError,
}: PostgresOptions): Promise<DatabaseHandle> {
  const target = describePostgresTarget(url);
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'atelier',
    types: int8AsNumber(pg),
    ...(searchPath === undefined ? {} : { options: `-c search_path=${checkSearchPath(searchPath)}` }),
  });
  // Without a listener, an idle client's error (e.g. the server restarting) would crash the process.
  pool.on('error', (error) => onIdleConnectionError(error));

  // Fail at start-up with one readable line rather than on the first request with a pool stack.
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new ServiceUnavailableError(`Cannot connect to PostgreSQL at ${target}: ${describeError(error)}`);
  }

  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  // Kysely's destroy() ends the pool it was given.
  return { db, dialect: 'postgres', close: once(() => db.destroy()) };
}

// BIGINT (int8) comes back from pg as a string, since it may exceed 2^53. Our int8 columns hold
// unix seconds and counts, far below that, so they are read as numbers; a value that would lose
// precision fails loudly instead. Per-pool overrides leave other pg users in the process alone.
function int8AsNumber(driver: typeof pg): pg.CustomTypesConfig {
  const typeParsers = new driver.TypeOverrides();
  typeParsers.setTypeParser(driver.types.builtins.INT8, (value: string) => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed)) throw new RangeError(`BIGINT ${value} does not fit a JS number`);
    return parsed;
  });
  return typeParsers;
}

function checkSearchPath(searchPath: string): string {
  // Goes into a libpq startup option, where spaces and quotes would need escaping: accept plain names.
  if (!/^[A-Za-z_][A-Za-z0-9_$]*(,[A-Za-z_][A-Za-z0-9_$]*)*$/.test(searchPath)) {
    throw new ConfigError(
      `Invalid PostgreSQL search_path "${searchPath}": use comma-separated schema names.`,
    );
  }
  return searchPath;
}

/** `host:port/database`, never the user or password. */
function describePostgresTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.searchParams.get('host') ?? (parsed.hostname || 'localhost');
    const port = parsed.port || '5432';
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    return `${host}:${port}${database ? `/${database}` : ''}`;
  } catch {
    throw new ConfigError('Invalid PostgreSQL URL: expected postgres://user:password@host:5432/database.');
  }
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= close();
    return closing;
  };
}
