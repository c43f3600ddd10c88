// Vectors on SQLite: an inverted-file (IVF) index over sqlite-vec. Each vector store's vectors
// are grouped into cells around k-means centroids, and each cell is a partition of one vec0
// table, so a search scans only the cells nearest the query (a fifth of them by default)
// instead of every vector (sqlite-vec alone scans everything). A store is scanned exactly (one
// cell) until it holds `minTrainVectors`; it is retrained each time it doubles. Retraining makes a new
// generation of cells and moves vectors into it in small transactions; until it is done,
// searches probe both generations, so no vector is ever out of reach.

import { type Kysely, sql } from 'kysely';
import { nearestCentroid, nearestCentroids, normalized, trainCentroids } from './k-means.js';
import type { DatabaseSchema } from './schema.js';
import { assertSafeIdentifier, type VectorEntry, type VectorHit, vectorBytes } from './search-index.js';

export interface SqliteVectorIndexOptions {
  /** A store is split into cells from this many vectors on. */
  readonly minTrainVectors?: number;
  /** Vectors sampled to train the centroids. */
  readonly sampleSize?: number;
  /** Share of a store's cells a search probes (at least `minProbes`). */
  readonly probeFraction?: number;
  readonly minProbes?: number;
}

export interface SqliteVectorIndex {
  /** Creates the tables (idempotent). */
  create(): Promise<void>;
  write(executor: Kysely<DatabaseSchema>, entries: readonly VectorEntry[]): Promise<void>;
  search(params: {
    readonly vectorStoreIds: readonly string[];
    readonly embedding: Float32Array;
    readonly limit: number;
    /** Scan every cell: brute force. */
    readonly exact?: boolean;
  }): Promise<readonly VectorHit[]>;
  /** Trains stores that grew enough and finishes interrupted moves; forgets deleted stores. */
  maintain(): Promise<void>;
}

interface StoreState {
  readonly generation: number;
  readonly previousGeneration: number | null;
  /** Centroids of the current generation (flat k × dimensions), null while untrained. */
  readonly centroids: Float32Array | null;
  readonly previousCentroids: Float32Array | null;
}

const MOVE_BATCH = 500;

export function createSqliteVectorIndex(
  db: Kysely<DatabaseSchema>,
  { name, dimensions }: { readonly name: string; readonly dimensions: number },
  {
    // Below this, a store's vectors are scanned exactly: sqlite-vec reads 32k vectors of 384
    // dimensions in about 10 ms, and recall stays perfect.
    minTrainVectors = 32_768,
    sampleSize = 4096,
    probeFraction = 0.2,
    minProbes = 8,
  }: SqliteVectorIndexOptions = {},
): SqliteVectorIndex {
  assertSafeIdentifier(name);
  const vectors = sql.table(name);
  const cells = sql.table(`${name}_cells`);
  const stores = sql.table(`${name}_stores`);
  const states = new Map<string, StoreState>();

  const cellKey = (store: string, generation: number, cell: number) => `${store}:${generation}:${cell}`;
  const cellCount = (centroids: Float32Array | null) => (centroids ? centroids.length / dimensions : 1);

  async function centroidsOf(executor: Kysely<DatabaseSchema>, store: string, generation: number) {
    const { rows } = await sql<{ cell: number; centroid: Uint8Array }>`
      select cell, centroid from ${cells} where vector_store_id = ${store} and generation = ${generation}
      order by cell`.execute(executor);
    if (rows.length === 0) return null;
    const flat = new Float32Array(rows.length * dimensions);
    for (const row of rows) {
      const bytes = row.centroid;
      flat.set(new Float32Array(bytes.buffer, bytes.byteOffset, dimensions), Number(row.cell) * dimensions);
    }
    return flat;
  }

  async function stateOf(executor: Kysely<DatabaseSchema>, store: string): Promise<StoreState | null> {
    const cached = states.get(store);
    if (cached) return cached;
    const { rows } = await sql<{ generation: number; previous_generation: number | null }>`
      select generation, previous_generation from ${stores} where vector_store_id = ${store}`.execute(
      executor,
    );
    const row = rows[0];
    if (!row) return null;
    const generation = Number(row.generation);
    const previousGeneration = row.previous_generation === null ? null : Number(row.previous_generation);
    const state: StoreState = {
      generation,
      previousGeneration,
      centroids: await centroidsOf(executor, store, generation),
      previousCentroids:
        previousGeneration === null ? null : await centroidsOf(executor, store, previousGeneration),
    };
    states.set(store, state);
    return state;
  }

  async function readCell(key: string, limit: number) {
    const { rows } = await sql<{ chunk_id: number; embedding: Uint8Array }>`
      select chunk_id, embedding from ${vectors} where cell = ${key} limit ${limit}`.execute(db);
    return rows.map((row) => ({
      chunkId: Number(row.chunk_id),
      embedding: new Float32Array(
        row.embedding.buffer.slice(row.embedding.byteOffset, row.embedding.byteOffset + dimensions * 4),
      ),
    }));
  }

  /** Moves every vector of the previous generation into the current one's cells. */
  async function finishMove(store: string): Promise<void> {
    const state = await stateOf(db, store);
    if (!state || state.previousGeneration === null || !state.centroids) return;
    const centroids = state.centroids;
    for (let cell = 0; cell < cellCount(state.previousCentroids); cell++) {
      const key = cellKey(store, state.previousGeneration, cell);
      for (;;) {
        const batch = await readCell(key, MOVE_BATCH);
        if (batch.length === 0) break;
        await db.transaction().execute(async (trx) => {
          for (const { chunkId, embedding } of batch) {
            const target = cellKey(
              store,
              state.generation,
              nearestCentroid(normalized(embedding), centroids),
            );
            await sql`delete from ${vectors} where chunk_id = ${chunkId}`.execute(trx);
            await sql`insert into ${vectors}(chunk_id, cell, embedding)
              values (cast(${chunkId} as integer), ${target}, ${vectorBytes(embedding)})`.execute(trx);
          }
        });
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await db.transaction().execute(async (trx) => {
      await sql`delete from ${cells} where vector_store_id = ${store} and generation = ${state.previousGeneration}`.execute(
        trx,
      );
      await sql`update ${stores} set previous_generation = null where vector_store_id = ${store}`.execute(
        trx,
      );
    });
    states.delete(store);
  }

  async function train(store: string): Promise<void> {
    const state = await stateOf(db, store);
    if (!state || state.previousGeneration !== null) return;
    // Reservoir sample over the store's cells (a fixed seed keeps training reproducible).
    const sample: Float32Array[] = [];
    let seen = 0;
    let seed = 0x9e3779b9;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4_294_967_296;
    };
    for (let cell = 0; cell < cellCount(state.centroids); cell++) {
      for (const { embedding } of await readCell(
        cellKey(store, state.generation, cell),
        Number.MAX_SAFE_INTEGER,
      )) {
        seen++;
        if (sample.length < sampleSize) sample.push(normalized(embedding));
        else {
          const slot = Math.floor(random() * seen);
          if (slot < sampleSize) sample[slot] = normalized(embedding);
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (seen < minTrainVectors) {
      await sql`update ${stores} set vectors = ${seen} where vector_store_id = ${store}`.execute(db);
      return;
    }
    // Cells of about a thousand vectors: a search probing a tenth of them reads a tenth of the store.
    const k = Math.min(1024, Math.max(16, 2 ** Math.round(Math.log2(seen / 1024))));
    const centroids = await trainCentroids(sample, k);
    const generation = state.generation + 1;
    states.delete(store);
    await db.transaction().execute(async (trx) => {
      for (let cell = 0; cell < centroids.length / dimensions; cell++) {
        const centroid = centroids.subarray(cell * dimensions, (cell + 1) * dimensions);
        await sql`insert into ${cells}(vector_store_id, generation, cell, centroid)
          values (${store}, ${generation}, ${cell}, ${vectorBytes(centroid)})`.execute(trx);
      }
      await sql`update ${stores} set generation = ${generation}, previous_generation = ${state.generation},
        vectors = ${seen}, trained_vectors = ${seen} where vector_store_id = ${store}`.execute(trx);
    });
    states.delete(store);
    await finishMove(store);
  }

  return {
    async create() {
      await sql`create virtual table if not exists ${vectors} using vec0(
        chunk_id integer primary key,
        cell text partition key,
        embedding float[${sql.raw(String(dimensions))}] distance_metric=cosine
      )`.execute(db);
      await sql`create table if not exists ${cells} (
        vector_store_id text not null, generation integer not null, cell integer not null, centroid blob not null,
        primary key (vector_store_id, generation, cell))`.execute(db);
      await sql`create table if not exists ${stores} (
        vector_store_id text primary key, generation integer not null, previous_generation integer,
        vectors integer not null, trained_vectors integer not null)`.execute(db);
      // However a chunk goes (its file, its store, a re-ingestion), its vector goes with it.
      await sql`create trigger if not exists ${sql.raw(`${name}_delete`)} after delete on chunks begin
        delete from ${vectors} where chunk_id = old.id;
      end`.execute(db);
    },

    async write(executor, entries) {
      const byStore = new Map<string, VectorEntry[]>();
      for (const entry of entries) {
        if (entry.embedding.length !== dimensions) {
          throw new Error(`embedding has ${entry.embedding.length} dimensions, the space ${dimensions}`);
        }
        byStore.set(entry.vectorStoreId, [...(byStore.get(entry.vectorStoreId) ?? []), entry]);
      }
      for (const [store, group] of byStore) {
        await sql`insert into ${stores}(vector_store_id, generation, previous_generation, vectors, trained_vectors)
          values (${store}, 0, null, 0, 0) on conflict (vector_store_id) do nothing`.execute(executor);
        const state = (await stateOf(executor, store))!;
        for (const entry of group) {
          const cell = state.centroids ? nearestCentroid(normalized(entry.embedding), state.centroids) : 0;
          // Only for a chunk that still exists: the delete trigger would not see a later insert.
          await sql`insert into ${vectors}(chunk_id, cell, embedding)
            select cast(${entry.chunkId} as integer), ${cellKey(store, state.generation, cell)}, ${vectorBytes(entry.embedding)}
            where exists (select 1 from chunks where id = ${entry.chunkId})`.execute(executor);
        }
        await sql`update ${stores} set vectors = vectors + ${group.length} where vector_store_id = ${store}`.execute(
          executor,
        );
      }
    },

    async search({ vectorStoreIds, embedding, limit, exact = false }) {
      const query = normalized(embedding);
      const keys: string[] = [];
      for (const store of vectorStoreIds) {
        const state = await stateOf(db, store);
        if (!state) continue;
        const generations: [number, Float32Array | null][] = [[state.generation, state.centroids]];
        if (state.previousGeneration !== null)
          generations.push([state.previousGeneration, state.previousCentroids]);
        for (const [generation, centroids] of generations) {
          const count = cellCount(centroids);
          const probes = exact
            ? count
            : Math.min(count, Math.max(minProbes, Math.ceil(count * probeFraction)));
          const chosen = centroids ? nearestCentroids(query, centroids, probes) : [0];
          for (const cell of chosen) keys.push(cellKey(store, generation, cell));
        }
      }
      if (keys.length === 0) return [];
      // vec0 answers k nearest per cell named in the IN list; the outer query keeps the best k.
      const k = Math.min(limit, 4096);
      const { rows } = await sql<{ chunk_id: number; distance: number }>`
        with hits as materialized (
          select chunk_id, distance from ${vectors}
          where embedding match ${vectorBytes(embedding)} and k = ${k} and cell in (${sql.join(keys)})
        )
        select chunk_id, distance from hits order by distance limit ${k}`.execute(db);
      return rows.map((row) => ({ chunkId: Number(row.chunk_id), distance: row.distance }));
    },

    async maintain() {
      await sql`delete from ${cells} where vector_store_id not in (select id from vector_stores)`.execute(db);
      await sql`delete from ${stores} where vector_store_id not in (select id from vector_stores)`.execute(
        db,
      );
      const { rows } = await sql<{ vector_store_id: string; previous_generation: number | null }>`
        select vector_store_id, previous_generation from ${stores}
        where previous_generation is not null
           or (vectors >= ${minTrainVectors} and vectors >= 2 * trained_vectors)`.execute(db);
      for (const row of rows) {
        if (row.previous_generation !== null) await finishMove(row.vector_store_id);
        else await train(row.vector_store_id);
      }
    },
  };
}

/** Drops the tables of an embedding space no longer in use. */
export async function dropSqliteVectorIndex(db: Kysely<DatabaseSchema>, name: string): Promise<void> {
  assertSafeIdentifier(name);
  await sql`drop trigger if exists ${sql.raw(`${name}_delete`)}`.execute(db);
  await sql`drop table if exists ${sql.table(name)}`.execute(db);
  await sql`drop table if exists ${sql.table(`${name}_cells`)}`.execute(db);
  await sql`drop table if exists ${sql.table(`${name}_stores`)}`.execute(db);
}
