// Vectors on SQLite. The float vectors live in a plain table (one row per chunk, indexed by
// store): that is the stored truth, and the exact search (sqlite-vec's cosine distance over the
// store's rows). The approximate search runs in two passes: the store's vectors, held in memory
// as int8 codes (quantized-vectors.ts), are all scored against the query by a SIMD kernel, and
// the best few times `limit` of them are re-ranked exactly by sqlite-vec's cosine distance on
// their stored floats (primary-key lookups: vec0's own lookups cost ~100 µs each, its scan alone
// was fast). Every vector is scanned, so nothing is lost to clustering: recall is that of the
// codes' first pass, which keeps nearly all true neighbours among twice as many candidates.
//
// The codes are a cache, per process: each change to a store's vectors (a write, or a chunk's
// deletion, through a trigger) appends a row to a change log in the same transaction, and a
// search first applies the log rows it has not seen. A process that falls behind the pruned log,
// or starts, loads the store again.

import { type Kysely, sql } from 'kysely';
import { createQuantizedVectors, type QuantizedVectors } from './quantized-vectors.js';
import type { DatabaseSchema } from './schema.js';
import { assertSafeIdentifier, type VectorEntry, type VectorHit, vectorBytes } from './search-index.js';

export interface SqliteVectorIndexOptions {
  /** Candidates re-ranked exactly per store: this many times the limit… */
  readonly candidateFactor?: number;
  /** …and at least this many. */
  readonly minCandidates?: number;
  /** Memory for codes over all stores; the least recently searched stores are dropped past it. */
  readonly maxCachedBytes?: number;
  /** Change-log rows kept for other processes to catch up from (a process further behind reloads). */
  readonly keptChanges?: number;
}

export interface SqliteVectorIndex {
  /** Creates the tables (idempotent). */
  create(): Promise<void>;
  write(executor: Kysely<DatabaseSchema>, entries: readonly VectorEntry[]): Promise<void>;
  search(params: {
    readonly vectorStoreIds: readonly string[];
    readonly embedding: Float32Array;
    readonly limit: number;
    /** Compare with every float vector of the stores: brute force. */
    readonly exact?: boolean;
  }): Promise<readonly VectorHit[]>;
  /** Prunes the change log, re-quantizes stores that doubled since they were loaded, forgets deleted ones. */
  maintain(): Promise<void>;
}

interface StoreCache {
  readonly vectors: QuantizedVectors;
  /** The last change-log row applied. */
  lastSeq: number;
  /** Live vectors when the store was loaded: codes are re-calibrated once it has doubled. */
  readonly loadedSize: number;
  lastUsed: number;
}

// Below this many vectors, a store's codes are never re-calibrated (re-ranking covers them).
const MIN_RECALIBRATE = 1024;
const READ_BATCH = 2048;
const WRITE_BATCH = 100;

export function createSqliteVectorIndex(
  db: Kysely<DatabaseSchema>,
  { name, dimensions }: { readonly name: string; readonly dimensions: number },
  {
    candidateFactor = 2,
    minCandidates = 40,
    maxCachedBytes = 1024 * 1024 * 1024,
    keptChanges = 100_000,
  }: SqliteVectorIndexOptions = {},
): SqliteVectorIndex {
  assertSafeIdentifier(name);
  const vectors = sql.table(name);
  const changes = sql.table(`${name}_changes`);
  const caches = new Map<string, StoreCache>();
  // Loading and catching up are serialised, so a store is never loaded twice at once nor a
  // change applied out of order; scans and re-ranking run outside.
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };

  const toEmbedding = (bytes: Uint8Array) =>
    new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + dimensions * 4));

  async function logPosition(): Promise<{ first: number; last: number }> {
    // Two subqueries: SQLite reads min() or max() of a key off the b-tree only when it is alone.
    const { rows } = await sql<{ first: number | null; last: number | null }>`
      select (select min(seq) from ${changes}) as first, (select max(seq) from ${changes}) as last`.execute(
      db,
    );
    return { first: Number(rows[0]?.first ?? 0), last: Number(rows[0]?.last ?? 0) };
  }

  /** The store's vectors, read afresh. */
  async function load(store: string): Promise<StoreCache | null> {
    // The log position first: a change committed while reading is then applied again (harmless),
    // never missed.
    const { last } = await logPosition();
    const codes = createQuantizedVectors({ dimensions });
    if (!codes) return null;
    for (let after = 0; ; ) {
      const { rows } = await sql<{ chunk_id: number; embedding: Uint8Array }>`
        select chunk_id, embedding from ${vectors}
        where vector_store_id = ${store} and chunk_id > ${after}
        order by chunk_id limit ${READ_BATCH}`.execute(db);
      codes.set(
        rows.map((row) => ({ chunkId: Number(row.chunk_id), embedding: toEmbedding(row.embedding) })),
      );
      if (rows.length < READ_BATCH) break;
      after = Number(rows[rows.length - 1]!.chunk_id);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { vectors: codes, lastSeq: last, loadedSize: codes.size, lastUsed: Date.now() };
  }

  /** Applies the log rows after `cache.lastSeq` (up to `last`) to the cache. */
  async function catchUp(store: string, cache: StoreCache, last: number) {
    const { rows } = await sql<{ chunk_id: number }>`
      select distinct chunk_id from ${changes} where seq > ${cache.lastSeq} and vector_store_id = ${store}`.execute(
      db,
    );
    const ids = rows.map((row) => Number(row.chunk_id));
    for (let start = 0; start < ids.length; start += READ_BATCH) {
      const slice = ids.slice(start, start + READ_BATCH);
      const { rows: present } = await sql<{ chunk_id: number; embedding: Uint8Array }>`
        select chunk_id, embedding from ${vectors} where chunk_id in (${sql.join(slice)})`.execute(db);
      const found = new Set(present.map((row) => Number(row.chunk_id)));
      cache.vectors.set(
        present.map((row) => ({ chunkId: Number(row.chunk_id), embedding: toEmbedding(row.embedding) })),
      );
      cache.vectors.delete(slice.filter((id) => !found.has(id)));
    }
    cache.lastSeq = last;
  }

  /** Up-to-date caches for the stores (null: no SIMD here, search exactly). */
  function cachesFor(stores: readonly string[]): Promise<StoreCache[] | null> {
    return serialised(async () => {
      const { first, last } = await logPosition();
      const out: StoreCache[] = [];
      for (const store of stores) {
        let cache = caches.get(store);
        // Rows this cache still needed were pruned: start over.
        if (cache && cache.lastSeq < first - 1) cache = undefined;
        if (!cache) {
          const loaded = await load(store);
          if (!loaded) return null;
          cache = loaded;
          caches.set(store, cache);
        }
        if (cache.lastSeq < last) await catchUp(store, cache, last);
        cache.lastUsed = Date.now();
        out.push(cache);
      }
      evict(new Set(stores));
      return out;
    });
  }

  /** Drops the least recently searched caches while over the memory budget. */
  function evict(keep: ReadonlySet<string>) {
    let total = 0;
    for (const cache of caches.values()) total += cache.vectors.byteLength;
    const byAge = [...caches.entries()].sort(([, left], [, right]) => left.lastUsed - right.lastUsed);
    for (const [store, cache] of byAge) {
      if (total <= maxCachedBytes) break;
      if (keep.has(store)) continue;
      caches.delete(store);
      total -= cache.vectors.byteLength;
    }
  }

  async function exactSearch(stores: readonly string[], embedding: Float32Array, limit: number) {
    const { rows } = await sql<{ chunk_id: number; distance: number }>`
      select chunk_id, vec_distance_cosine(embedding, ${vectorBytes(embedding)}) as distance
      from ${vectors} where vector_store_id in (${sql.join([...stores])})
      order by distance, chunk_id limit ${limit}`.execute(db);
    return rows.map((row) => ({ chunkId: Number(row.chunk_id), distance: row.distance }));
  }

  return {
    async create() {
      // Little-endian float32 blobs, as sqlite-vec reads them.
      await sql`create table if not exists ${vectors} (
        chunk_id integer primary key, vector_store_id text not null, embedding blob not null)`.execute(db);
      await sql`create index if not exists ${sql.raw(`${name}_store_idx`)} on ${vectors} (vector_store_id)`.execute(
        db,
      );
      await sql`create table if not exists ${changes} (
        seq integer primary key autoincrement, vector_store_id text not null, chunk_id integer not null)`.execute(
        db,
      );
      // However a chunk goes (its file, its store, a re-ingestion), its vector goes with it, and
      // the caches hear of it.
      await sql`create trigger if not exists ${sql.raw(`${name}_delete`)} after delete on chunks begin
        delete from ${vectors} where chunk_id = old.id;
        insert into ${changes}(vector_store_id, chunk_id) values (old.vector_store_id, old.id);
      end`.execute(db);
    },

    async write(executor, entries) {
      for (const entry of entries) {
        if (entry.embedding.length !== dimensions) {
          throw new Error(`embedding has ${entry.embedding.length} dimensions, the space ${dimensions}`);
        }
      }
      for (let start = 0; start < entries.length; start += WRITE_BATCH) {
        const slice = entries.slice(start, start + WRITE_BATCH);
        const values = sql.join(
          slice.map((entry) => sql`(cast(${entry.chunkId} as integer), ${vectorBytes(entry.embedding)})`),
        );
        // Only for chunks that still exist (the delete trigger would not see a later insert), in
        // the chunk's own store.
        await sql`insert into ${vectors}(chunk_id, vector_store_id, embedding)
          select c.id, c.vector_store_id, v.column2 from (values ${values}) v join chunks c on c.id = v.column1`.execute(
          executor,
        );
        await sql`insert into ${changes}(vector_store_id, chunk_id)
          select vector_store_id, id from chunks where id in (${sql.join(slice.map((entry) => entry.chunkId))})`.execute(
          executor,
        );
      }
    },

    async search({ vectorStoreIds, embedding, limit, exact = false }) {
      const stores = [...new Set(vectorStoreIds)];
      if (stores.length === 0 || limit <= 0) return [];
      const storeCaches = exact ? null : await cachesFor(stores);
      if (!storeCaches) return exactSearch(stores, embedding, limit);
      const perStore = Math.max(limit * candidateFactor, minCandidates);
      const candidates = storeCaches.flatMap((cache) => cache.vectors.nearest(embedding, perStore));
      if (candidates.length === 0) return [];
      // Exact cosine distances from the stored floats; a chunk deleted since the cache last
      // caught up is simply not found.
      const { rows } = await sql<{ chunk_id: number; distance: number }>`
        select chunk_id, vec_distance_cosine(embedding, ${vectorBytes(embedding)}) as distance
        from ${vectors} where chunk_id in (${sql.join(candidates)})`.execute(db);
      return rows
        .map((row) => ({ chunkId: Number(row.chunk_id), distance: row.distance }))
        .sort((left, right) => left.distance - right.distance || left.chunkId - right.chunkId)
        .slice(0, limit);
    },

    async maintain() {
      await sql`delete from ${changes} where seq <= (select max(seq) from ${changes}) - ${keptChanges}`.execute(
        db,
      );
      const stores = [...caches.keys()];
      if (stores.length === 0) return;
      const rows = await db.selectFrom('vector_stores').select('id').where('id', 'in', stores).execute();
      const existing = new Set(rows.map((row) => row.id));
      for (const store of stores) {
        const cache = caches.get(store);
        if (!cache) continue;
        if (!existing.has(store)) {
          caches.delete(store);
          continue;
        }
        const size = cache.vectors.size;
        if (size < MIN_RECALIBRATE || size < 2 * cache.loadedSize) continue;
        // Loaded beside the one in use, then swapped in and brought up to date.
        const fresh = await load(store);
        if (!fresh) continue;
        await serialised(async () => {
          const { last } = await logPosition();
          await catchUp(store, fresh, last);
          caches.set(store, fresh);
        });
      }
    },
  };
}

/** Drops the tables of an embedding space no longer in use (this layout's and earlier ones'). */
export async function dropSqliteVectorIndex(db: Kysely<DatabaseSchema>, name: string): Promise<void> {
  assertSafeIdentifier(name);
  await sql`drop trigger if exists ${sql.raw(`${name}_delete`)}`.execute(db);
  for (const suffix of ['', '_changes', '_cells', '_stores']) {
    await sql`drop table if exists ${sql.table(`${name}${suffix}`)}`.execute(db);
  }
}
