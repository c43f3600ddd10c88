// Web chats on the engine: each chat's messages are written to Assistants threads in its
// workspace and each answer is a run (see docs/decisions/2026-11-25-web-chat-on-runs.md), with
// the assistant those runs use; a workspace's default one for plain chats is remembered in
// `web_chat_assistants`. Also the account's "chat history & training" switch (off: new chats
// are temporary), and temporary chats swept by their age since creation.

import type { Kysely, Migration } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration008: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema
        .alterTable('account_preferences')
        .addColumn('chat_history_enabled', 'integer', (column) => column.notNull().defaultTo(1))
        .execute();
      // The sweep deletes temporary chats 30 days after they were created.
      await trx.schema
        .createIndex('chats_temporary_created_idx')
        .on('chats')
        .columns(['temporary', 'created_at'])
        .execute();
      // Null for a chat that has no thread yet (or was written before chats had threads).
      await trx.schema.alterTable('chats').addColumn('workspace_id', 'text').execute();
      await trx.schema.alterTable('chats').addColumn('assistant_id', 'text').execute();
      await trx.schema
        .createTable('web_chat_assistants')
        .addColumn('workspace_id', 'text', (column) =>
          column.primaryKey().references('workspaces.id').onDelete('cascade'),
        )
        // No foreign key: someone may delete it through the API; a new one is made then.
        .addColumn('assistant_id', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema.dropTable('web_chat_assistants').execute();
      await trx.schema.alterTable('chats').dropColumn('assistant_id').execute();
      await trx.schema.alterTable('chats').dropColumn('workspace_id').execute();
      await trx.schema.dropIndex('chats_temporary_created_idx').execute();
      await trx.schema.alterTable('account_preferences').dropColumn('chat_history_enabled').execute();
    });
  },
};
