import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRepositories, type Repositories } from './repositories.js';
import { createSqliteVectorIndex, type SqliteVectorIndex } from './sqlite-vector-index.js';
import { createTestDatabase, type TestDatabase } from './test-support/dialects.js';

const DIMENSIONS = 24;
const TABLE = 'chunk_vectors_test';

/** Deterministic vectors: a shared direction plus a little of several clusters' (weak structure). */
function vectors(count: number, seed = 3): Float32Array[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  const centres = Array.from({ length: 12 }, () => Float32Array.from({ length: DIMENSIONS }, random));
  return Array.from({ length: count }, (_, index) =>
    Float32Array.from(centres[index % 12]!, (value, dimension) => 1 + (dimension % 3) + value + random()),
  );
}

function cosineDistance(left: Float32Array, right: Float32Array): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index]! * right[index]!;
    leftNorm += left[index]! ** 2;
    rightNorm += right[index]! ** 2;
  }
  return 1 - dot / Math.sqrt(leftNorm * rightNorm);
}

describe('SQLite vector index (int8 codes in memory, exact re-ranking)', () => {
  let database: TestDatabase;
  let repositories: Repositories;
  let workspaceId: string;
  let storeId: string;
  let chunkIds: readonly number[];
  let index: SqliteVectorIndex;
  const data = vectors(1500);

  async function addChunks(store: string, count: number): Promise<readonly number[]> {
    const file = await repositories.files.create({
      workspaceId,
      filename: 'f.txt',
      purpose: 'assistants',
      bytes: 1,
      sha256: 'a'.repeat(64),
    });
    return repositories.chunks.replace(
      store,
      file.id,
      Array.from({ length: count }, (_, position) => ({
        index: position,
        startOffset: 0,
        endOffset: 1,
        tokenCount: 1,
        text: `chunk ${position}`,
      })),
    );
  }

  const open = (db = database.db, options = {}) =>
    createSqliteVectorIndex(db, { name: TABLE, dimensions: DIMENSIONS }, options);

  const entries = (ids: readonly number[], offset = 0, store = storeId) =>
    ids.map((chunkId, position) => ({ chunkId, vectorStoreId: store, embedding: data[offset + position]! }));

  beforeEach(async () => {
    database = await createTestDatabase({ dialect: 'sqlite' });
    repositories = createRepositories(database.db);
    const owner = await repositories.accounts.create({ name: 'O' });
    workspaceId = (await repositories.workspaces.create({ name: 'W', ownerAccountId: owner.id })).id;
    storeId = (await repositories.vectorStores.create({ workspaceId })).id;
    chunkIds = await addChunks(storeId, 1500);
    index = open();
    await index.create();
  });
  afterEach(async () => {
    await database.destroy();
  });

  it('finds what brute force finds, with exact cosine distances', async () => {
    await index.write(database.db, entries(chunkIds));
    let recall = 0;
    for (const query of vectors(40, 99)) {
      const exact = await index.search({
        vectorStoreIds: [storeId],
        embedding: query,
        limit: 10,
        exact: true,
      });
      const approximate = await index.search({ vectorStoreIds: [storeId], embedding: query, limit: 10 });
      expect(exact).toHaveLength(10);
      expect(approximate).toHaveLength(10);
      const truth = new Set(exact.map((hit) => hit.chunkId));
      recall += approximate.filter((hit) => truth.has(hit.chunkId)).length / 10;
      for (const hit of approximate) {
        const position = chunkIds.indexOf(hit.chunkId);
        expect(hit.distance).toBeCloseTo(cosineDistance(query, data[position]!), 5);
      }
      expect(approximate.map((hit) => hit.distance)).toEqual(
        [...approximate.map((hit) => hit.distance)].sort((left, right) => left - right),
      );
    }
    expect(recall / 40).toBeGreaterThanOrEqual(0.95);
    // A vector's own neighbour is itself.
    const self = await index.search({ vectorStoreIds: [storeId], embedding: data[7]!, limit: 1 });
    expect(self[0]?.chunkId).toBe(chunkIds[7]);
  });

  it('sees vectors written and chunks deleted after it first searched, also by another connection', async () => {
    await index.write(database.db, entries(chunkIds.slice(0, 500)));
    expect(
      (await index.search({ vectorStoreIds: [storeId], embedding: data[600]!, limit: 1 }))[0]?.chunkId,
    ).not.toBe(chunkIds[600]);
    // Another process: its own connection, its own cache.
    const other = await database.reopen();
    const elsewhere = open(other.db);
    expect(
      (await elsewhere.search({ vectorStoreIds: [storeId], embedding: data[3]!, limit: 1 }))[0]?.chunkId,
    ).toBe(chunkIds[3]);

    await elsewhere.write(other.db, entries(chunkIds.slice(500), 500));
    await other.db.deleteFrom('chunks').where('id', '=', chunkIds[3]!).execute();
    for (const searcher of [index, elsewhere]) {
      const hits = await searcher.search({ vectorStoreIds: [storeId], embedding: data[600]!, limit: 1 });
      expect(hits[0]?.chunkId).toBe(chunkIds[600]);
      const gone = await searcher.search({ vectorStoreIds: [storeId], embedding: data[3]!, limit: 50 });
      expect(gone.map((hit) => hit.chunkId)).not.toContain(chunkIds[3]);
    }
  });

  it('keeps stores apart, and forgets a deleted store', async () => {
    const otherStore = (await repositories.vectorStores.create({ workspaceId })).id;
    const otherIds = await addChunks(otherStore, 100);
    await index.write(database.db, [...entries(chunkIds.slice(0, 100)), ...entries(otherIds, 0, otherStore)]);
    const mine = await index.search({ vectorStoreIds: [storeId], embedding: data[5]!, limit: 100 });
    expect(mine).toHaveLength(100);
    expect(mine.every((hit) => chunkIds.includes(hit.chunkId))).toBe(true);
    const both = await index.search({ vectorStoreIds: [storeId, otherStore], embedding: data[5]!, limit: 2 });
    expect(both.map((hit) => hit.chunkId).sort()).toEqual([chunkIds[5], otherIds[5]].sort());

    await repositories.vectorStores.delete(workspaceId, otherStore);
    await index.maintain();
    expect(await index.search({ vectorStoreIds: [otherStore], embedding: data[5]!, limit: 5 })).toEqual([]);
    const { rows } = await sql<{ count: number }>`select count(*) as count from chunk_vectors_test`.execute(
      database.db,
    );
    expect(Number(rows[0]!.count)).toBe(100);
  });

  it('starts over from the stored vectors after a restart, and when the change log was pruned past it', async () => {
    await index.write(database.db, entries(chunkIds.slice(0, 1000)));
    expect(
      (await index.search({ vectorStoreIds: [storeId], embedding: data[10]!, limit: 1 }))[0]?.chunkId,
    ).toBe(chunkIds[10]);
    // A restarted process finds everything.
    const restarted = open(database.db);
    expect(
      (await restarted.search({ vectorStoreIds: [storeId], embedding: data[999]!, limit: 1 }))[0]?.chunkId,
    ).toBe(chunkIds[999]);

    // Another process writes and deletes, then prunes the log to its last rows: the first cache
    // cannot catch up from the log any more, and reloads.
    const pruning = open(database.db, { keptChanges: 2 });
    await pruning.write(database.db, entries(chunkIds.slice(1000), 1000));
    await database.db.deleteFrom('chunks').where('id', 'in', chunkIds.slice(0, 20)).execute();
    await pruning.maintain();
    const { rows } = await sql<{
      count: number;
    }>`select count(*) as count from chunk_vectors_test_changes`.execute(database.db);
    expect(Number(rows[0]!.count)).toBeLessThanOrEqual(3);
    expect(
      (await index.search({ vectorStoreIds: [storeId], embedding: data[1400]!, limit: 1 }))[0]?.chunkId,
    ).toBe(chunkIds[1400]);
    const hits = await index.search({ vectorStoreIds: [storeId], embedding: data[10]!, limit: 30 });
    expect(hits.map((hit) => hit.chunkId)).not.toContain(chunkIds[10]);
  });

  it('re-calibrates the codes once a store has doubled, finding vectors unlike the first ones', async () => {
    await index.write(database.db, entries(chunkIds.slice(0, 100)));
    await index.search({ vectorStoreIds: [storeId], embedding: data[0]!, limit: 1 });
    // Vectors far outside the value ranges the first hundred set.
    const unlike = chunkIds.slice(100).map((chunkId, position) => ({
      chunkId,
      vectorStoreId: storeId,
      embedding: Float32Array.from(data[position]!, (value, dimension) =>
        dimension === position % DIMENSIONS ? value * 40 : -value,
      ),
    }));
    await index.write(database.db, unlike);
    await index.maintain();
    let recall = 0;
    for (const { embedding } of unlike.slice(0, 40)) {
      const exact = await index.search({ vectorStoreIds: [storeId], embedding, limit: 10, exact: true });
      const truth = new Set(exact.map((hit) => hit.chunkId));
      const approximate = await index.search({ vectorStoreIds: [storeId], embedding, limit: 10 });
      recall += approximate.filter((hit) => truth.has(hit.chunkId)).length / 10;
    }
    expect(recall / 40).toBeGreaterThanOrEqual(0.95);
  });

  it('holds codes within its memory budget, reloading a store it dropped', async () => {
    const otherStore = (await repositories.vectorStores.create({ workspaceId })).id;
    const otherIds = await addChunks(otherStore, 300);
    await index.write(database.db, [
      ...entries(chunkIds.slice(0, 300)),
      ...entries(otherIds, 300, otherStore),
    ]);
    const small = open(database.db, { maxCachedBytes: 1 });
    for (let round = 0; round < 2; round++) {
      for (const [store, ids] of [
        [storeId, chunkIds],
        [otherStore, otherIds],
      ] as const) {
        const hits = await small.search({
          vectorStoreIds: [store],
          embedding: data[store === storeId ? 42 : 342]!,
          limit: 1,
        });
        expect(hits[0]?.chunkId).toBe(ids[42]);
      }
    }
  });

  it('skips vectors of chunks that no longer exist, and rejects the wrong dimensions', async () => {
    await index.write(database.db, [{ chunkId: 9_999_999, vectorStoreId: storeId, embedding: data[0]! }]);
    expect(await index.search({ vectorStoreIds: [storeId], embedding: data[0]!, limit: 5 })).toEqual([]);
    await expect(
      index.write(database.db, [
        { chunkId: chunkIds[0]!, vectorStoreId: storeId, embedding: new Float32Array(3) },
      ]),
    ).rejects.toThrow(/dimensions/);
  });
});
