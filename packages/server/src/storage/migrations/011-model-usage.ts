// What models were used for: requests and tokens per minute, workspace, API key, person, model
// and endpoint (migration 011). Rows only ever grow: each flush of the usage ledger adds to them.

import type { Kysely, Migration } from 'kysely';

export const migration011ModelUsage: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('model_usage')
      .addColumn('workspace_id', 'text', (column) => column.notNull())
      // Unix seconds at the start of the minute.
      .addColumn('minute', 'bigint', (column) => column.notNull())
      // The served model that answered (after aliases and fallbacks).
      .addColumn('model', 'text', (column) => column.notNull())
      // chat/completions, completions or embeddings.
      .addColumn('endpoint', 'text', (column) => column.notNull())
      // '' for a web session (no key), and for a workspace key's person: key columns must be set.
      .addColumn('api_key_id', 'text', (column) => column.notNull().defaultTo(''))
      .addColumn('account_id', 'text', (column) => column.notNull().defaultTo(''))
      .addColumn('requests', 'bigint', (column) => column.notNull())
      .addColumn('input_tokens', 'bigint', (column) => column.notNull())
      .addColumn('cached_input_tokens', 'bigint', (column) => column.notNull())
      .addColumn('output_tokens', 'bigint', (column) => column.notNull())
      // Requests whose tokens were estimated (the upstream sent no usage).
      .addColumn('estimated_requests', 'bigint', (column) => column.notNull())
      .addPrimaryKeyConstraint('model_usage_pkey', [
        'workspace_id',
        'minute',
        'model',
        'endpoint',
        'api_key_id',
        'account_id',
      ])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('model_usage').execute();
  },
};
