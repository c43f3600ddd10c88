import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkText } from '../tools/retrieval/chunk-text.js';
import { queryTerms } from '../tools/retrieval/query-terms.js';
import { generateCorpus } from '../tools/retrieval/test-support/synthetic-corpus.js';
import { createRepositories } from './repositories.js';
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
