// Accounts, workspaces and their members, and workspace API keys. Timestamps are unix seconds.

import { type Kysely, type Migration, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration001: Migration = {
  // Migrations take Kysely<unknown>: they describe the schema as it was then, not as the types say now.
  async up(db: Kysely<unknown>) {
    // Postgres runs each migration in the migrator's transaction; SQLite's DDL is transactional too,
    // but Kysely does not wrap it, so a failure half-way would leave tables behind without this.
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('accounts')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('email', 'text', (column) => column.unique())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();

      await trx.schema
        .createTable('workspaces')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addCheckConstraint('workspaces_kind_check', sql`kind in ('personal', 'team')`)
        .execute();

      await trx.schema
        .createTable('workspace_members')
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('workspace_members_pkey', ['workspace_id', 'account_id'])
        .addCheckConstraint('workspace_members_role_check', sql`role in ('owner', 'admin', 'member')`)
        .execute();
      // The primary key serves lookups by workspace; this one serves "my workspaces".
      await trx.schema
        .createIndex('workspace_members_account_id_idx')
        .on('workspace_members')
        .column('account_id')
        .execute();

      await trx.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        // A person's key goes with the person.
        .addColumn('account_id', 'text', (column) => column.references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('secret_hash', 'text', (column) => column.notNull().unique())
        .addColumn('redacted_value', 'text', (column) => column.notNull())
        .addColumn('role', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addCheckConstraint('api_keys_role_check', sql`role in ('admin', 'member')`)
        .execute();
      await trx.schema
        .createIndex('api_keys_workspace_id_idx')
        .on('api_keys')
        .column('workspace_id')
        .execute();
      await trx.schema.createIndex('api_keys_account_id_idx').on('api_keys').column('account_id').execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      for (const table of ['api_keys', 'workspace_members', 'workspaces', 'accounts']) {
        await trx.schema.dropTable(table).execute();
      }
    });
  },
};
