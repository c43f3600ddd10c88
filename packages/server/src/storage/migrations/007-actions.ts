// GPT actions: imported OpenAPI documents with their auth (secrets sealed), each person's consent
// per GPT and domain, OAuth tokens per person and action (sealed), and OAuth sign-ins in
// progress (state hash + sealed PKCE verifier). `gpt_id` names a GPT without a foreign key, so
// this migration does not depend on how GPTs are stored.

import { type Kysely, type Migration, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration007: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('actions')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('owner_account_id', 'text', (column) =>
          column.references('accounts.id').onDelete('set null'),
        )
        .addColumn('gpt_id', 'text')
        .addColumn('title', 'text', (column) => column.notNull())
        .addColumn('domain', 'text', (column) => column.notNull())
        .addColumn('source_kind', 'text', (column) => column.notNull())
        .addColumn('document', 'text', (column) => column.notNull())
        .addColumn('document_url', 'text')
        .addColumn('manifest', 'text')
        .addColumn('manifest_url', 'text')
        .addColumn('auth', 'text', (column) => column.notNull())
        .addColumn('auth_secret', 'text')
        .addColumn('privacy_policy_url', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addCheckConstraint('actions_source_kind_check', sql`source_kind in ('openapi', 'plugin_manifest')`)
        .execute();
      await trx.schema
        .createIndex('actions_workspace_idx')
        .on('actions')
        .columns(['workspace_id', 'created_at'])
        .execute();
      await trx.schema.createIndex('actions_gpt_idx').on('actions').column('gpt_id').execute();

      await trx.schema
        .createTable('action_consents')
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('scope_id', 'text', (column) => column.notNull())
        .addColumn('domain', 'text', (column) => column.notNull())
        .addColumn('always_allowed', 'integer', (column) => column.notNull())
        .addColumn('last_decision', 'text', (column) => column.notNull())
        .addColumn('decided_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('action_consents_pk', ['account_id', 'scope_id', 'domain'])
        .addCheckConstraint(
          'action_consents_decision_check',
          sql`last_decision in ('allow_once', 'always_allow', 'decline')`,
        )
        .execute();

      await trx.schema
        .createTable('action_oauth_tokens')
        .addColumn('action_id', 'text', (column) =>
          column.notNull().references('actions.id').onDelete('cascade'),
        )
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('access_token', 'text', (column) => column.notNull())
        .addColumn('refresh_token', 'text')
        .addColumn('token_type', 'text', (column) => column.notNull())
        .addColumn('scope', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('action_oauth_tokens_pk', ['action_id', 'account_id'])
        .execute();
      await trx.schema
        .createIndex('action_oauth_tokens_account_idx')
        .on('action_oauth_tokens')
        .column('account_id')
        .execute();

      await trx.schema
        .createTable('action_oauth_states')
        .addColumn('state_hash', 'text', (column) => column.primaryKey())
        .addColumn('action_id', 'text', (column) =>
          column.notNull().references('actions.id').onDelete('cascade'),
        )
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('code_verifier', 'text', (column) => column.notNull())
        .addColumn('redirect_uri', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('expires_at', 'bigint', (column) => column.notNull())
        .execute();
      await trx.schema
        .createIndex('action_oauth_states_expires_idx')
        .on('action_oauth_states')
        .column('expires_at')
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      for (const table of ['action_oauth_states', 'action_oauth_tokens', 'action_consents', 'actions']) {
        await trx.schema.dropTable(table).execute();
      }
    });
  },
};
