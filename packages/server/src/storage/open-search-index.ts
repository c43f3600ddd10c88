// The search index for the database in use, as openDatabase picked its driver.

import type { DatabaseHandle } from './database.js';
import { createPostgresSearchIndex } from './postgres-search-index.js';
import type { SearchIndex } from './search-index.js';
import { createSqliteSearchIndex } from './sqlite-search-index.js';

export function openSearchIndex(
  database: Pick<DatabaseHandle, 'db' | 'dialect'>,
  {
    vectorCacheBytes = undefined,
  }: {
    /** SQLite: memory for the in-memory copy of vectors that vector search scans. */
    vectorCacheBytes?: number | undefined;
  } = {},
): SearchIndex {
  return database.dialect === 'postgres'
    ? createPostgresSearchIndex(database.db)
    : createSqliteSearchIndex(database.db, { vectorIndexOptions: { maxCachedBytes: vectorCacheBytes } });
}
