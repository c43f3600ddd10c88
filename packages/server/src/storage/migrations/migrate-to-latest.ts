// Brings the schema up to date at start-up, on either dialect; does nothing when it already is.

import { type Kysely, Migrator, PostgresAdapter, sql } from 'kysely';
import { AtelierError } from '../../errors.js';
import { describeError } from '../describe-error.js';
import { migrations } from './migrations.js';

/** Applies pending migrations in order; returns the names applied (empty when already up to date). */
export async function migrateToLatest<Schema>(db: Kysely<Schema>): Promise<readonly string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: await migrationTableSchema(db),
  });
  let outcome = await migrator.migrateToLatest();
  // Kysely checks for its tables by listing the columns of every table in the database and
  // looking each one up by name; a schema or table dropped by someone else during that scan
  // (another Atelier, a parallel test) fails it with 3F000 or 42P01 though nothing of ours is
  // wrong. Nothing was applied then, so trying again is safe.
  for (let attempt = 1; attempt < 6 && isConcurrentDrop(outcome); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    outcome = await migrator.migrateToLatest();
  }
  const { error, results = [] } = outcome;
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error');
    const what = failed
      ? `Database migration "${failed.migrationName}" failed`
      : 'Database migrations could not run';
    throw new AtelierError(`${what}: ${describeError(error)}`, { code: 'migration_failed', cause: error });
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/**
 * On Postgres, the schema that holds Kysely's bookkeeping tables, pinned to the current one.
 * Left unset, Kysely looks for them in every schema of the database, so a second Atelier (or a
 * parallel test) in another schema of the same database would wrongly find them "already there".
 */
async function migrationTableSchema<Schema>(db: Kysely<Schema>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new AtelierError(
      'Database migrations could not run: the PostgreSQL search_path names no existing schema.',
      {
        code: 'migration_failed',
      },
    );
  }
  return schema;
}

const concurrentDropCodes = new Set(['3F000', '42P01']);

function isConcurrentDrop(outcome: { error?: unknown; results?: readonly { status: string }[] }): boolean {
  const code = (outcome.error as { code?: unknown } | undefined)?.code;
  const nothingApplied = !outcome.results?.some((result) => result.status !== 'NotExecuted');
  return typeof code === 'string' && concurrentDropCodes.has(code) && nothingApplied;
}
