// Retrieval quality on a corpus the test builds: 240 documents about invented entities, several
// facts each among filler that reuses the same words; 240 questions, each answered by exactly
// one sentence in the corpus. Recall@5 (the answer is in one of the first five chunks) with
// keyword search alone is printed and must stay above the bar, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openRetrievalHarness,
  type RetrievalHarness,
} from '../../packages/server/src/tools/retrieval/test-support/retrieval-harness.js';
import { generateCorpus } from '../../packages/server/src/tools/retrieval/test-support/synthetic-corpus.js';
import { DIALECTS } from './vector-stores-support.js';

const corpus = generateCorpus({ documents: 240, questions: 240, seed: 7 });
// Measured 0.92 on both databases (seed 7); the bar leaves room for honest changes to chunking.
const RECALL_AT_5_BAR = 0.85;

describe.each(DIALECTS)('retrieval quality, keyword search alone [%s]', (dialect) => {
  let harness: RetrievalHarness;
  let storeId: string;

  beforeAll(async () => {
    harness = await openRetrievalHarness({ dialect });
    storeId = await harness.createVectorStore();
    // Small chunks: each document spans several, and only one holds a given answer.
    await harness.ingest(storeId, corpus.documents, { maxChunkSizeTokens: 200, chunkOverlapTokens: 50 });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('ingested the corpus into many more chunks than documents', async () => {
    expect(corpus.documents.length).toBeGreaterThanOrEqual(200);
    const store = await harness.repositories.vectorStores.find(harness.workspaceId, storeId);
    expect(store?.fileCounts).toMatchObject({ completed: corpus.documents.length, failed: 0 });
    const chunks = await harness.database.db
      .selectFrom('chunks')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(Number(chunks.count)).toBeGreaterThan(corpus.documents.length * 3);
  });

  it(`finds the answering passage in the top 5 for at least ${RECALL_AT_5_BAR * 100}% of questions`, async () => {
    let hitsAt1 = 0;
    let hitsAt5 = 0;
    let reciprocalRanks = 0;
    for (const { question, fact } of corpus.questions) {
      const { results } = await harness.retrieval.search({
        workspaceId: harness.workspaceId,
        vectorStoreIds: [storeId],
        query: question,
        maxResults: 5,
      });
      const rank = results.findIndex((result) => result.text.includes(fact));
      if (rank === 0) hitsAt1++;
      if (rank >= 0) {
        hitsAt5++;
        reciprocalRanks += 1 / (rank + 1);
      }
    }
    const total = corpus.questions.length;
    const recallAt5 = hitsAt5 / total;
    console.log(
      `[${dialect}] keyword retrieval on ${corpus.documents.length} documents, ${total} questions: ` +
        `recall@1 ${(hitsAt1 / total).toFixed(3)}, recall@5 ${recallAt5.toFixed(3)}, MRR@5 ${(reciprocalRanks / total).toFixed(3)}`,
    );
    expect(recallAt5).toBeGreaterThanOrEqual(RECALL_AT_5_BAR);
  });
});
