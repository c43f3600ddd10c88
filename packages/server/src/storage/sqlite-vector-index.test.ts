import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRepositories } from './repositories.js';
import { createSqliteVectorIndex, type SqliteVectorIndex } from './sqlite-vector-index.js';
import { createTestDatabase, type TestDatabase } from './test-support/dialects.js';

const DIMENSIONS = 16;

/** Unit-ish vectors around `clusters` random directions, deterministic. */
function vectors(count: number, clusters = 12, seed = 3): Float32Array[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: DIMENSIONS }, random));
  return Array.from({ length: count }, (_, index) =>
    Float32Array.from(centres[index % clusters]!, (value) => value + random() * 0.3),
  );
}

describe('SQLite vector index (IVF over sqlite-vec)', () => {
  let database: TestDatabase;
  let index: SqliteVectorIndex;
  let storeId: string;
  let chunkIds: readonly number[];

  beforeEach(async () => {
    database = await createTestDatabase({ dialect: 'sqlite' });
    const repositories = createRepositories(database.db);
    const owner = await repositories.accounts.create({ name: 'O' });
    const workspace = await repositories.workspaces.create({ name: 'W', ownerAccountId: owner.id });
    storeId = (await repositories.vectorStores.create({ workspaceId: workspace.id })).id;
    const file = await repositories.files.create({
      workspaceId: workspace.id,
      filename: 'f.txt',
      purpose: 'assistants',
      bytes: 1,
      sha256: 'a'.repeat(64),
    });
    chunkIds = await repositories.chunks.replace(
      storeId,
      file.id,
      Array.from({ length: 1200 }, (_, position) => ({
        index: position,
        startOffset: 0,
        endOffset: 1,
        tokenCount: 1,
        text: `chunk ${position}`,
      })),
    );
    index = createSqliteVectorIndex(
      database.db,
      { name: 'chunk_vectors_test', dimensions: DIMENSIONS },
      { minTrainVectors: 400, sampleSize: 400, probeFraction: 0.25, minProbes: 2 },
    );
    await index.create();
  });
  afterEach(async () => {
    await database.destroy();
  });

  const cellsInUse = async () => {
    const { rows } = await sql<{ cell: string }>`select distinct cell from chunk_vectors_test`.execute(
      database.db,
    );
    return rows.map((row) => row.cell).sort();
  };

  it('keeps an untrained store in one cell, then splits it into cells once it is big enough', async () => {
    const data = vectors(1200);
    await index.write(
      database.db,
      chunkIds
        .slice(0, 300)
        .map((chunkId, position) => ({ chunkId, vectorStoreId: storeId, embedding: data[position]! })),
    );
    await index.maintain();
    expect(await cellsInUse()).toEqual([`${storeId}:0:0`]);

    await index.write(
      database.db,
      chunkIds
        .slice(300)
        .map((chunkId, position) => ({ chunkId, vectorStoreId: storeId, embedding: data[300 + position]! })),
    );
    await index.maintain();
    const cells = await cellsInUse();
    expect(cells.length).toBeGreaterThanOrEqual(16);
    expect(cells.every((cell) => cell.startsWith(`${storeId}:1:`))).toBe(true);

    // Every vector is still there, and the probed cells find nearly all true neighbours.
    let recall = 0;
    for (const query of vectors(40, 12, 99)) {
      const exact = await index.search({
        vectorStoreIds: [storeId],
        embedding: query,
        limit: 10,
        exact: true,
      });
      const approximate = await index.search({ vectorStoreIds: [storeId], embedding: query, limit: 10 });
      expect(exact).toHaveLength(10);
      const truth = new Set(exact.map((hit) => hit.chunkId));
      recall += approximate.filter((hit) => truth.has(hit.chunkId)).length / 10;
    }
    expect(recall / 40).toBeGreaterThan(0.9);
    const { rows } = await sql<{ count: number }>`select count(*) as count from chunk_vectors_test`.execute(
      database.db,
    );
    expect(Number(rows[0]!.count)).toBe(1200);

    // New vectors land in the trained cells; a deleted chunk takes its vector along.
    await database.db.deleteFrom('chunks').where('id', '=', chunkIds[0]!).execute();
    const after = await index.search({
      vectorStoreIds: [storeId],
      embedding: data[0]!,
      limit: 5,
      exact: true,
    });
    expect(after.map((hit) => hit.chunkId)).not.toContain(chunkIds[0]);
  });

  it('finishes moving vectors left in the previous generation (a restart mid-move)', async () => {
    const data = vectors(1200);
    await index.write(
      database.db,
      chunkIds.map((chunkId, position) => ({ chunkId, vectorStoreId: storeId, embedding: data[position]! })),
    );
    await index.maintain();
    // Pretend generation 1 is still being filled: put some vectors back into generation 0's cell.
    const moved = chunkIds.slice(0, 50);
    for (const chunkId of moved) {
      await sql`update chunk_vectors_test_stores set previous_generation = 0`.execute(database.db);
      const { rows } = await sql<{ embedding: Uint8Array }>`
        select embedding from chunk_vectors_test where chunk_id = ${chunkId}`.execute(database.db);
      await sql`delete from chunk_vectors_test where chunk_id = ${chunkId}`.execute(database.db);
      await sql`insert into chunk_vectors_test(chunk_id, cell, embedding)
        values (cast(${chunkId} as integer), ${`${storeId}:0:0`}, ${rows[0]!.embedding})`.execute(
        database.db,
      );
    }
    const fresh = createSqliteVectorIndex(
      database.db,
      { name: 'chunk_vectors_test', dimensions: DIMENSIONS },
      { minTrainVectors: 400, sampleSize: 400 },
    );
    // Searches reach both generations meanwhile.
    const hits = await fresh.search({ vectorStoreIds: [storeId], embedding: data[0]!, limit: 1 });
    expect(hits[0]?.chunkId).toBe(chunkIds[0]);
    await fresh.maintain();
    const cells = await cellsInUse();
    expect(cells.some((cell) => cell.startsWith(`${storeId}:0:`))).toBe(false);
    expect(
      (await fresh.search({ vectorStoreIds: [storeId], embedding: data[0]!, limit: 1 }))[0]?.chunkId,
    ).toBe(chunkIds[0]);
  });
});
