// GPTs: assistants with a face (name, description, avatar, starters, capabilities, knowledge,
// actions), sharing (visibility, a link token, the builder's training choice, a category) and
// numbered published versions; who opened a link GPT through its link; and which conversations
// were with a GPT, under which training choice. The backing assistant keeps the draft's
// instructions, model and tools (migration 003); actions are stored by their own module.

import { type Kysely, type Migration, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration006Gpts: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('gpts')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('workspace_id', 'text', (column) =>
          column.notNull().references('workspaces.id').onDelete('cascade'),
        )
        .addColumn('builder_account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        // Deleting the backing assistant (e.g. through /v1/assistants) deletes the GPT.
        .addColumn('assistant_id', 'text', (column) =>
          column.notNull().unique().references('assistants.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (column) => column.notNull())
        .addColumn('description', 'text', (column) => column.notNull())
        .addColumn('avatar_file_id', 'text')
        .addColumn('conversation_starters', 'text', (column) => column.notNull())
        .addColumn('capabilities', 'text', (column) => column.notNull())
        .addColumn('knowledge_file_ids', 'text', (column) => column.notNull())
        .addColumn('action_ids', 'text', (column) => column.notNull())
        .addColumn('draft_vector_store_id', 'text')
        .addColumn('published_vector_store_id', 'text')
        .addColumn('visibility', 'text', (column) => column.notNull())
        .addColumn('category', 'text')
        .addColumn('allow_training', 'integer', (column) => column.notNull())
        .addColumn('link_token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('link_token_sealed', 'text', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addColumn('seq', 'bigint', (column) => column.notNull())
        .addColumn('published_version', 'integer')
        .addColumn('published_at', 'bigint')
        .addCheckConstraint(
          'gpts_visibility_check',
          sql`visibility in ('private', 'link', 'workspace', 'public')`,
        )
        .execute();
      // "My GPTs", newest first.
      await trx.schema
        .createIndex('gpts_builder_seq_idx')
        .on('gpts')
        .columns(['builder_account_id', 'seq'])
        .execute();
      // GPTs shared with a workspace, and public ones.
      await trx.schema
        .createIndex('gpts_visibility_workspace_seq_idx')
        .on('gpts')
        .columns(['visibility', 'workspace_id', 'seq'])
        .execute();

      await trx.schema
        .createTable('gpt_versions')
        .addColumn('gpt_id', 'text', (column) => column.notNull().references('gpts.id').onDelete('cascade'))
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('config', 'text', (column) => column.notNull())
        .addColumn('published_at', 'bigint', (column) => column.notNull())
        .addColumn('published_by', 'text')
        // Two concurrent publishes cannot both make version n.
        .addPrimaryKeyConstraint('gpt_versions_pkey', ['gpt_id', 'version'])
        .execute();

      await trx.schema
        .createTable('gpt_link_grants')
        .addColumn('gpt_id', 'text', (column) => column.notNull().references('gpts.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (column) =>
          column.notNull().references('accounts.id').onDelete('cascade'),
        )
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('gpt_link_grants_pkey', ['gpt_id', 'account_id'])
        .execute();

      await trx.schema
        .createTable('gpt_conversations')
        .addColumn('gpt_id', 'text', (column) => column.notNull().references('gpts.id').onDelete('cascade'))
        .addColumn('conversation_id', 'text', (column) => column.notNull())
        .addColumn('chat_id', 'text', (column) => column.references('chats.id').onDelete('cascade'))
        .addColumn('thread_id', 'text', (column) => column.references('threads.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (column) => column.references('accounts.id').onDelete('set null'))
        .addColumn('workspace_id', 'text', (column) => column.notNull())
        .addColumn('version', 'integer')
        .addColumn('allow_training', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('gpt_conversations_pkey', ['gpt_id', 'conversation_id'])
        .addCheckConstraint(
          'gpt_conversations_kind_check',
          sql`(chat_id is not null and thread_id is null and conversation_id = chat_id) or (thread_id is not null and chat_id is null and conversation_id = thread_id)`,
        )
        .execute();
      // "Was this conversation with a GPT, and may it be used for training?"
      await trx.schema
        .createIndex('gpt_conversations_conversation_idx')
        .on('gpt_conversations')
        .column('conversation_id')
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      for (const table of ['gpt_conversations', 'gpt_link_grants', 'gpt_versions', 'gpts']) {
        await trx.schema.dropTable(table).execute();
      }
    });
  },
};
