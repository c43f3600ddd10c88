// The web app's own state: sign-in sessions (only a hash of each cookie's secret), each account's
// preferences (custom instructions, theme, language), and chat history until chats become
// Assistants threads. Everything an account owns goes with it (on delete cascade).

import { type Kysely, type Migration, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration005: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('sessions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('last_seen_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('user_agent', 'text')
        .execute();
      await trx.schema.createIndex('sessions_account_id_idx').on('sessions').column('account_id').execute();
      await trx.schema.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute();

      await trx.schema
        .createTable('account_preferences')
        .addColumn('account_id', 'text', (column) =>
          column.primaryKey().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('about_me', 'text', (column) => column.notNull())
        .addColumn('response_style', 'text', (column) => column.notNull())
        .addColumn('custom_instructions_enabled', 'integer', (column) => column.notNull())
        .addColumn('theme', 'text', (column) => column.notNull())
        .addColumn('language', 'text')
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addCheckConstraint('account_preferences_theme_check', sql`theme in ('system', 'light', 'dark')`)
        .execute();

      await trx.schema
        .createTable('chats')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('title', 'text', (column) => column.notNull())
        .addColumn('temporary', 'integer', (column) => column.notNull())
        .addColumn('model', 'text')
        .addColumn('messages', 'text', (column) => column.notNull())
        .addColumn('current_node_id', 'text')
        .addColumn('content_text', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_seq', 'bigint', (column) => column.notNull())
        .execute();
      // History lists a person's chats, most recently changed first.
      await trx.schema
        .createIndex('chats_account_updated_idx')
        .on('chats')
        .columns(['account_id', 'updated_seq'])
        .execute();
      // The sweep that deletes temporary chats looks them up by age.
      await trx.schema
        .createIndex('chats_temporary_updated_idx')
        .on('chats')
        .columns(['temporary', 'updated_at'])
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      for (const table of ['chats', 'account_preferences', 'sessions']) {
        await trx.schema.dropTable(table).execute();
      }
    });
  },
};
