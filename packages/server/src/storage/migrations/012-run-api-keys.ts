// Runs record the API key that created them (null for a web session), so the usage ledger counts
// each model turn of a run against that key, as it counts the key's own chat completions.
// Depends only on `runs` (003).

import type { Kysely, Migration } from 'kysely';

export const migration012RunApiKeys: Migration = {
  async up(db: Kysely<unknown>) {
    // No foreign key: a revoked or deleted key keeps the usage it made.
    await db.schema.alterTable('runs').addColumn('api_key_id', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('runs').dropColumn('api_key_id').execute();
  },
};
