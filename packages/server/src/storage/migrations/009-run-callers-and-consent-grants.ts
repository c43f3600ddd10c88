// Runs on a GPT call its actions for a person: each run now records who created it, and the
// calls it held back for that person's answer (a consent, a sign-in). One-time "Allow" answers
// become rows too, so they survive a restart and reach every node: one row per (person, GPT or
// action, domain, operation), taken by exactly one call. Depends only on `runs` (003) and
// `accounts` (001).

import type { Kysely, Migration } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration009RunCallersAndConsentGrants: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      // No foreign key: a run outlives nothing it needs from the account, and deleting an account
      // must not wait on its threads.
      await trx.schema.alterTable('runs').addColumn('account_id', 'text').execute();
      await trx.schema.alterTable('runs').addColumn('pending_actions', 'text').execute();

      await trx.schema
        .createTable('action_consent_grants')
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('scope_id', 'text', (column) => column.notNull())
        .addColumn('domain', 'text', (column) => column.notNull())
        // '' covers every operation of the domain.
        .addColumn('operation', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('action_consent_grants_pk', [
          'account_id',
          'scope_id',
          'domain',
          'operation',
        ])
        .execute();
      await trx.schema
        .createIndex('action_consent_grants_expires_idx')
        .on('action_consent_grants')
        .column('expires_at')
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema.dropTable('action_consent_grants').execute();
      await trx.schema.alterTable('runs').dropColumn('pending_actions').execute();
      await trx.schema.alterTable('runs').dropColumn('account_id').execute();
    });
  },
};
