// The model registry as data: stored upstreams (API keys sealed), aliases that move on a date, and
// per-model settings (capabilities, context length, prices, deprecation, fallbacks).
// Timestamps are unix seconds; JSON columns hold text.

import { type Kysely, type Migration, sql } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration004: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema
        .createTable('upstreams')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('base_url', 'text', (column) => column.notNull())
        // SecretBox output bound to the name; never the key itself.
        .addColumn('api_key_sealed', 'text')
        .addColumn('prefix', 'text', (column) => column.notNull().defaultTo(''))
        // JSON array of upstream model ids; null: discovered through the upstream's /models.
        .addColumn('models', 'text')
        .addColumn('timeout_ms', 'integer')
        .addColumn('max_concurrency', 'integer')
        .addColumn('max_retries', 'integer')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();

      await trx.schema
        .createTable('model_aliases')
        .addColumn('alias', 'text', (column) => column.primaryKey())
        .addColumn('target', 'text', (column) => column.notNull())
        // From switch_at on, the alias points at next_target (OpenAI moved gpt-3.5-turbo this way).
        .addColumn('next_target', 'text')
        .addColumn('switch_at', 'bigint')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addCheckConstraint(
          'model_aliases_switch_check',
          sql`(next_target is null and switch_at is null) or (next_target is not null and switch_at is not null)`,
        )
        .execute();

      await trx.schema
        .createTable('model_settings')
        .addColumn('model', 'text', (column) => column.primaryKey())
        .addColumn('context_length', 'integer')
        // JSON object of capability → boolean, overriding what the provider reports.
        .addColumn('capabilities', 'text')
        .addColumn('input_price_per_1k', 'double precision')
        .addColumn('output_price_per_1k', 'double precision')
        .addColumn('deprecated_at', 'bigint')
        .addColumn('shutdown_at', 'bigint')
        .addColumn('replacement', 'text')
        // JSON array of model ids tried in order when an upstream fails before the first byte.
        .addColumn('fallbacks', 'text')
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addCheckConstraint(
          'model_settings_prices_check',
          sql`(input_price_per_1k is null or input_price_per_1k >= 0) and (output_price_per_1k is null or output_price_per_1k >= 0)`,
        )
        .execute();
    });
  },

  async down(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      for (const table of ['model_settings', 'model_aliases', 'upstreams']) {
        await trx.schema.dropTable(table).execute();
      }
    });
  },
};
