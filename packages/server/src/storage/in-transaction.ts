// Runs work in a transaction, joining the caller's when there already is one: Kysely refuses to
// nest transactions, and repositories may be called both on their own and inside a larger unit.

import type { Kysely, Transaction } from 'kysely';

export function inTransaction<Schema, Result>(
  db: Kysely<Schema>,
  work: (trx: Kysely<Schema>) => Promise<Result>,
): Promise<Result> {
  if (db.isTransaction) return work(db as Transaction<Schema>);
  return db.transaction().execute(work);
}
