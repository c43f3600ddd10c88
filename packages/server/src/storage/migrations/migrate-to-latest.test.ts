import { type Kysely, sql } from 'kysely';
import { expect, it } from 'vitest';
import { AtelierError } from '../../errors.js';
import type { DatabaseSchema } from '../schema.js';
import type { TestDatabase } from '../test-support/dialects.js';
import { createTestDatabase, describeEachDialect } from '../test-support/dialects.js';
import { migrateToLatest } from './migrate-to-latest.js';
import { migrations } from './migrations.js';

const TABLES = [
  'account_preferences',
  'accounts',
  'action_consent_grants',
  'action_consents',
  'action_oauth_states',
  'action_oauth_tokens',
  'actions',
  'api_keys',
  'assistant_files',
  'assistants',
  'chats',
  'chunks',
  'embedding_spaces',
  'file_texts',
  'files',
  'gpt_builder_chats',
  'gpt_conversations',
  'gpt_link_grants',
  'gpt_versions',
  'gpts',
  'messages',
  'model_aliases',
  'model_settings',
  'model_usage',
  'run_steps',
  'runs',
  'sessions',
  'thread_summaries',
  'threads',
  'upstreams',
  'vector_store_file_batch_files',
  'vector_store_file_batches',
  'vector_store_files',
  'vector_stores',
  'web_chat_assistants',
  'workspace_members',
  'workspaces',
];
// SQLite also lists the full-text index of chunks: an FTS5 virtual table and its shadow tables.
const SQLITE_FTS_TABLES = [
  'chunks_fts',
  'chunks_fts_config',
  'chunks_fts_data',
  'chunks_fts_docsize',
  'chunks_fts_idx',
];
const tablesOf = (database: TestDatabase) =>
  database.dialect === 'sqlite' ? [...TABLES, ...SQLITE_FTS_TABLES].sort() : TABLES;

/** Our tables in this test database only (Postgres introspection sees every schema). */
async function tableNames(
  database: TestDatabase,
  db: Kysely<DatabaseSchema> = database.db,
): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables
    .filter((table) => database.dialect === 'sqlite' || table.schema === database.location)
    .map((table) => table.name)
    .sort();
}

describeEachDialect(
  'migrateToLatest',
  (getHandle) => {
    it('creates the tables, then does nothing on a second run or after a restart', async () => {
      const database = getHandle();
      expect(await tableNames(database)).toEqual([]);

      expect(await migrateToLatest(database.db)).toEqual(Object.keys(migrations));
      expect(await tableNames(database)).toEqual(tablesOf(database));

      expect(await migrateToLatest(database.db)).toEqual([]);
      const restarted = await database.reopen();
      expect(await migrateToLatest(restarted.db)).toEqual([]);
      expect(await tableNames(database, restarted.db)).toEqual(tablesOf(database));
    });

    it('creates columns with the types the repositories expect', async () => {
      const database = getHandle();
      await migrateToLatest(database.db);
      const tables = await database.db.introspection.getTables();
      const apiKeys = tables.find(
        (table) =>
          table.name === 'api_keys' && (database.dialect === 'sqlite' || table.schema === database.location),
      );
      const column = (name: string) => apiKeys?.columns.find((candidate) => candidate.name === name);
      expect(column('created_at')).toMatchObject({
        dataType: database.dialect === 'sqlite' ? 'bigint' : 'int8',
      });
      expect(column('created_at')?.isNullable).toBe(false);
      expect(column('revoked_at')?.isNullable).toBe(true);
      expect(column('account_id')?.isNullable).toBe(true);
    });

    it('fails with a clear error naming the migration, and leaves nothing half-done', async () => {
      const database = getHandle();
      // A table in the way makes migration 001 fail after it has begun.
      await sql`create table workspace_members (x integer)`.execute(database.db);
      const attempt = migrateToLatest(database.db);
      await expect(attempt).rejects.toBeInstanceOf(AtelierError);
      await expect(attempt).rejects.toThrow(
        /^Database migration "001-accounts-workspaces-api-keys" failed: .*workspace_members/,
      );
      // accounts and workspaces were created before the failure, and rolled back with it.
      expect(await tableNames(database)).toEqual(['workspace_members']);
    });

    it('keeps schemas of one database apart (postgres: each has its own bookkeeping)', async () => {
      const database = getHandle();
      await migrateToLatest(database.db);
      // A second database beside this one (another schema on postgres) migrates on its own.
      const other = await createTestDatabase({ dialect: database.dialect, migrate: false });
      try {
        expect(await migrateToLatest(other.db)).toEqual(Object.keys(migrations));
        expect(await tableNames(other)).toEqual(tablesOf(other));
      } finally {
        await other.destroy();
      }
    });
  },
  { migrate: false, freshFor: 'test' },
);
