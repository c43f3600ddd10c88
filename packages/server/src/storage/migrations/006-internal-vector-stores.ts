// Vector stores the server keeps for itself: the files runs search that are in no store of the
// user's (v1 `file_ids`, v2 message attachments) are indexed in one such store per workspace.
// `internal_key` names it; stores with one are left out of `GET /v1/vector_stores`.

import type { Kysely, Migration } from 'kysely';
import { inTransaction } from '../in-transaction.js';

export const migration006: Migration = {
  async up(db: Kysely<unknown>) {
    await inTransaction(db, async (trx) => {
      await trx.schema.alterTable('vector_stores').addColumn('internal_key', 'text').execute();
      // NULLs are distinct in a unique index (both dialects): users' stores never collide.
      await trx.schema
        .createIndex('vector_stores_internal_key_idx')
        .on('vector_stores')
        .columns(['workspace_id', 'internal_key'])
        .unique()
        .execute();
    });
  },
};
