import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chunkText } from '../tools/retrieval/chunk-text.js';
import { queryTerms } from '../tools/retrieval/query-terms.js';
import { generateCorpus } from '../tools/retrieval/test-support/synthetic-corpus.js';
import { createRepositories } from './repositories.js';
import { embeddingSpaceName, vectorBytes } from './search-index.js';
import { createSqliteSearchIndex } from './sqlite-search-index.js';
import { createTestDatabase, type TestDatabase } from './test-support/dialects.js';

// The two-phase keyword search (candidates by rare terms, common terms scored in JS) must score
// each chunk exactly as FTS5's bm25() over all terms does, and rank nearly the same: only a chunk
// holding none of the rare terms can be missed. Both run here on the same small index, with
// "common" set low so the two phases are exercised.
describe('SQLite keyword search in two phases', () => {
  let database: TestDatabase;
  let storeId: string;
  const corpus = generateCorpus({ documents: 120, questions: 60, seed: 11 });

  beforeAll(async () => {
    database = await createTestDatabase({ dialect: 'sqlite' });
    const repositories = createRepositories(database.db);
    const owner = await repositories.accounts.create({ name: 'O' });
    const workspace = await repositories.workspaces.create({ name: 'W', ownerAccountId: owner.id });
    storeId = (await repositories.vectorStores.create({ workspaceId: workspace.id })).id;
    for (const document of corpus.documents) {
      const file = await repositories.files.create({
        workspaceId: workspace.id,
        filename: document.filename,
        purpose: 'assistants',
        bytes: 1,
        sha256: 'a'.repeat(64),
      });
      const { chunks } = await chunkText(document.text, { maxChunkSizeTokens: 120, chunkOverlapTokens: 20 });
      await repositories.chunks.replace(storeId, file.id, chunks);
    }
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('scores like bm25() over every term, and ranks nearly the same', async () => {
    const twoPhase = createSqliteSearchIndex(database.db, { twoPhaseMinChunks: 0, commonMinDocuments: 20 });
    const onePhase = createSqliteSearchIndex(database.db, { twoPhaseMinChunks: Number.POSITIVE_INFINITY });
    let overlap = 0;
    let sameFirst = 0;
    let scoresCompared = 0;
    for (const { question } of corpus.questions) {
      const terms = queryTerms(question);
      const fast = await twoPhase.keywordSearch({ vectorStoreIds: [storeId], terms, limit: 5 });
      const exact = await onePhase.keywordSearch({ vectorStoreIds: [storeId], terms, limit: 50 });
      const exactScores = new Map(exact.map((hit) => [hit.chunkId, hit.score]));
      for (const hit of fast) {
        const score = exactScores.get(hit.chunkId);
        if (score === undefined) continue;
        expect(hit.score).toBeCloseTo(score, 6);
        scoresCompared++;
      }
      const top = new Set(exact.slice(0, 5).map((hit) => hit.chunkId));
      overlap += fast.filter((hit) => top.has(hit.chunkId)).length / 5;
      if (fast[0]?.chunkId === exact[0]?.chunkId) sameFirst++;
    }
    expect(scoresCompared).toBeGreaterThan(150);
    expect(overlap / corpus.questions.length).toBeGreaterThan(0.95);
    expect(sameFirst).toBe(corpus.questions.length);
  });
});

describe('SQLite vectors kept in an earlier table layout', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase({ dialect: 'sqlite' });
  });
  afterEach(async () => {
    await database.destroy();
  });

  it('are carried over to the current layout for the same model, not embedded again', async () => {
    const db = database.db;
    const repositories = createRepositories(db);
    const owner = await repositories.accounts.create({ name: 'O' });
    const workspace = await repositories.workspaces.create({ name: 'W', ownerAccountId: owner.id });
    const store = await repositories.vectorStores.create({ workspaceId: workspace.id });
    const file = await repositories.files.create({
      workspaceId: workspace.id,
      filename: 'f.txt',
      purpose: 'assistants',
      bytes: 1,
      sha256: 'a'.repeat(64),
    });
    const ids = await repositories.chunks.replace(
      store.id,
      file.id,
      Array.from({ length: 30 }, (_, position) => ({
        index: position,
        startOffset: 0,
        endOffset: 1,
        tokenCount: 1,
        text: `chunk ${position}`,
      })),
    );
    const vector = (position: number) =>
      Float32Array.from({ length: 8 }, (_, axis) => (axis === position % 8 ? 1 : 0.1 * position));
    // The clustered layout as the first release wrote it: vec0 cells, centroids, a delete trigger.
    const old = embeddingSpaceName('embedder', 8, 'ivf1');
    await sql`create virtual table ${sql.table(old)} using vec0(
      chunk_id integer primary key, cell text partition key, embedding float[8] distance_metric=cosine)`.execute(
      db,
    );
    await sql`create table ${sql.table(`${old}_cells`)} (vector_store_id text, generation integer, cell integer, centroid blob)`.execute(
      db,
    );
    await sql`create table ${sql.table(`${old}_stores`)} (vector_store_id text primary key)`.execute(db);
    await sql`create trigger ${sql.raw(`${old}_delete`)} after delete on chunks begin
      delete from ${sql.table(old)} where chunk_id = old.id; end`.execute(db);
    for (const [position, chunkId] of ids.entries()) {
      await sql`insert into ${sql.table(old)}(chunk_id, cell, embedding)
        values (cast(${chunkId} as integer), ${`${store.id}:0:0`}, ${vectorBytes(vector(position))})`.execute(
        db,
      );
    }
    await db
      .insertInto('embedding_spaces')
      .values({ name: old, model: 'embedder', dimensions: 8, created_at: 0 })
      .execute();

    const index = createSqliteSearchIndex(db);
    const space = await index.useEmbeddingSpace({ model: 'embedder', dimensions: 8 });
    expect(space.name).not.toBe(old);
    expect(await index.chunksWithoutVectors({ afterId: 0, limit: 100 })).toEqual([]);
    const hits = await index.vectorSearch({ vectorStoreIds: [store.id], embedding: vector(17), limit: 1 });
    expect(hits[0]?.chunkId).toBe(ids[17]);
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where name like ${`${old}%`}`.execute(db);
    expect(rows).toEqual([]);
    expect((await db.selectFrom('embedding_spaces').select('name').execute()).map((row) => row.name)).toEqual(
      [space.name],
    );
    // Deleting chunks goes through the current trigger only.
    await repositories.files.delete(workspace.id, file.id);
    expect(await index.vectorSearch({ vectorStoreIds: [store.id], embedding: vector(17), limit: 1 })).toEqual(
      [],
    );
  });
});
