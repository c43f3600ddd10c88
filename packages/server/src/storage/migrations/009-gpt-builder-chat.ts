// The builder's Create conversation, stored with the GPT's draft so that reopening the builder
// shows it and goes on with it: one row per GPT, deleted with the GPT. Depends only on `gpts`
// (006), so it runs in either order with any other 009 migration.

import type { Kysely, Migration } from 'kysely';

export const migration009GptBuilderChat: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('gpt_builder_chats')
      .addColumn('gpt_id', 'text', (column) => column.primaryKey().references('gpts.id').onDelete('cascade'))
      .addColumn('messages', 'text', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('gpt_builder_chats').execute();
  },
};
