import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresSearchIndex } from './postgres-search-index.js';
import { createRepositories } from './repositories.js';
import type { SearchIndex } from './search-index.js';
import { createTestDatabase, skipPostgres, type TestDatabase } from './test-support/dialects.js';

// Keyword search on PostgreSQL scores BM25 from what the tsvector holds: each chunk's score must
// be the one computed here from the texts (term frequencies, token counts, document frequencies),
// and the two phases (rare terms first) must give the same first results as ranking every match.
const CHUNKS = 2_400;

/** Deterministic chunk contents: how often each word occurs, and a token count. */
function chunk(position: number) {
  const counts = new Map<string, number>();
  // 'harbor' in half the chunks (common), 'lantern' in a fifth, 'zebra' and 'orchid' in few.
  if (position % 2 === 0) counts.set('harbor', 1 + (position % 5));
  if (position % 5 === 1) counts.set('lantern', 1 + (position % 3));
  if (position % 97 === 3) counts.set('zebra', 1 + (position % 4));
  if (position % 131 === 7) counts.set('orchid', 1 + (position % 6));
  counts.set('granite', 1);
  const text = [...counts].flatMap(([word, count]) => Array<string>(count).fill(word)).join(' ');
  return { counts, text, tokenCount: 50 + ((position * 37) % 400) };
}

describe.skipIf(skipPostgres)('PostgreSQL keyword search (BM25 from tsvectors)', () => {
  let database: TestDatabase;
  let storeId: string;
  let ids: readonly number[];
  let index: SearchIndex;

  beforeAll(async () => {
    database = await createTestDatabase({ dialect: 'postgres' });
    const repositories = createRepositories(database.db);
    const owner = await repositories.accounts.create({ name: 'O' });
    const workspace = await repositories.workspaces.create({ name: 'W', ownerAccountId: owner.id });
    storeId = (await repositories.vectorStores.create({ workspaceId: workspace.id })).id;
    const file = await repositories.files.create({
      workspaceId: workspace.id,
      filename: 'words.txt',
      purpose: 'assistants',
      bytes: 1,
      sha256: 'a'.repeat(64),
    });
    ids = await repositories.chunks.replace(
      storeId,
      file.id,
      Array.from({ length: CHUNKS }, (_, position) => {
        const { text, tokenCount } = chunk(position);
        return { index: position, startOffset: 0, endOffset: text.length, tokenCount, text };
      }),
    );
    index = createPostgresSearchIndex(database.db);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  /** BM25 (k1 1.2, b 0.75, Lucene's idf) of every chunk holding a term, best first. */
  function expected(terms: readonly string[]) {
    const chunks = Array.from({ length: CHUNKS }, (_, position) => chunk(position));
    const average = chunks.reduce((sum, entry) => sum + entry.tokenCount, 0) / CHUNKS;
    const idf = new Map(
      terms.map((term) => {
        const holding = chunks.filter((entry) => entry.counts.has(term)).length;
        return [term, Math.log(1 + (CHUNKS - holding + 0.5) / (holding + 0.5))];
      }),
    );
    return chunks
      .map((entry, position) => {
        let score = 0;
        for (const term of terms) {
          const tf = entry.counts.get(term) ?? 0;
          score += (idf.get(term)! * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * entry.tokenCount) / average));
        }
        return { chunkId: ids[position]!, score, matches: terms.some((term) => entry.counts.has(term)) };
      })
      .filter((entry) => entry.matches)
      .sort((left, right) => right.score - left.score || left.chunkId - right.chunkId);
  }

  it('searches a small store exactly and a large one by the HNSW index, to the same nearest chunks', async () => {
    // 2,400 vectors along 8 axes, each a little apart from the others on its axis.
    const embeddingOf = (position: number) => {
      const out = new Float32Array(8).fill(0.05);
      out[position % 8] = 1;
      out[(position + 1) % 8] = 0.1 + (position / CHUNKS) * 0.5;
      return out;
    };
    const small = createPostgresSearchIndex(database.db);
    const large = createPostgresSearchIndex(database.db, { exactMaxVectors: 0 });
    for (const searchIndex of [small, large])
      await searchIndex.useEmbeddingSpace({ model: 'axes', dimensions: 8 });
    await small.writeVectors(
      database.db,
      ids.map((chunkId, position) => ({ chunkId, vectorStoreId: storeId, embedding: embeddingOf(position) })),
    );
    const query = embeddingOf(803);
    const truth = await small.exactVectorSearch({ vectorStoreIds: [storeId], embedding: query, limit: 5 });
    expect(truth[0]!.chunkId).toBe(ids[803]);
    for (const searchIndex of [small, large]) {
      const hits = await searchIndex.vectorSearch({ vectorStoreIds: [storeId], embedding: query, limit: 5 });
      expect(hits.map((hit) => hit.chunkId)).toEqual(truth.map((hit) => hit.chunkId));
    }
  });

  it('scores each chunk as BM25 over its term frequencies and token count', async () => {
    for (const terms of [['zebra'], ['lantern', 'orchid'], ['harbor', 'lantern']]) {
      const hits = await index.keywordSearch({ vectorStoreIds: [storeId], terms, limit: 40 });
      const truth = expected(terms);
      expect(hits).toHaveLength(Math.min(40, truth.length));
      const byId = new Map(truth.map((entry) => [entry.chunkId, entry.score]));
      for (const hit of hits) expect(hit.score).toBeCloseTo(byId.get(hit.chunkId)!, 5);
      expect(hits.slice(0, 10).map((hit) => hit.chunkId)).toEqual(
        truth.slice(0, 10).map((entry) => entry.chunkId),
      );
    }
  });

  it('answers a rare term with common ones in two phases, with the same first results', async () => {
    // 'zebra' is rare (in 25 chunks), 'harbor' and 'granite' are common: candidates are the
    // chunks holding 'zebra', and the check proves no other chunk can outrank the first five.
    const terms = ['zebra', 'harbor', 'granite'];
    const hits = await index.keywordSearch({ vectorStoreIds: [storeId], terms, limit: 10 });
    const truth = expected(terms);
    expect(hits.slice(0, 5).map((hit) => hit.chunkId)).toEqual(
      truth.slice(0, 5).map((entry) => entry.chunkId),
    );
    for (const hit of hits) {
      expect(hit.score).toBeCloseTo(truth.find((entry) => entry.chunkId === hit.chunkId)!.score, 5);
    }
    // Only common terms: every match is ranked.
    const common = await index.keywordSearch({ vectorStoreIds: [storeId], terms: ['harbor'], limit: 5 });
    expect(common.map((hit) => hit.chunkId)).toEqual(
      expected(['harbor'])
        .slice(0, 5)
        .map((entry) => entry.chunkId),
    );
  });
});
