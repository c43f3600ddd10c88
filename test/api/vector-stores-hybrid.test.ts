// Hybrid search with a configured embedding model (ATELIER_EMBEDDING_MODEL, here the local test
// model): every chunk gets a vector in the model's table (sqlite-vec / pgvector), search fuses
// the keyword and vector rankings, and chunks indexed before the model was configured get their
// vectors after a restart.
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, startApiServer } from '../support/api-server.js';
import { DIALECTS, type DialectServer, filler, startDialectServer } from './vector-stores-support.js';

const DOCUMENTS = [
  ['orchard.txt', 'The Pellworth orchard grows nineteen varieties of pear.'],
  ['ferry.txt', 'The Dunmere ferry crosses the strait in forty minutes.'],
  ['observatory.txt', 'The Kestrel observatory tracks comets with a two metre mirror.'],
] as const;

async function ingest(client: OpenAI) {
  const ids: string[] = [];
  for (const [filename, fact] of DOCUMENTS) {
    const content = `${filler(ids.length)}\n\n${fact}\n\n${filler(ids.length + 5)}`;
    ids.push(
      (
        await client.files.create({
          file: await toFile(Buffer.from(content), filename),
          purpose: 'assistants',
        })
      ).id,
    );
  }
  const store = await client.vectorStores.create({ name: 'hybrid' });
  const batch = await client.vectorStores.fileBatches.createAndPoll(
    store.id,
    { file_ids: ids },
    { pollIntervalMs: 50 },
  );
  expect(batch.file_counts.completed).toBe(DOCUMENTS.length);
  return { storeId: store.id, ids };
}

describe.each(DIALECTS)('hybrid search with an embedding model [%s]', (dialect) => {
  let started: DialectServer;

  beforeAll(async () => {
    started = await startDialectServer(dialect, { ATELIER_EMBEDDING_MODEL: MODEL });
  });
  afterAll(async () => {
    await started?.close();
  });

  it('embeds every chunk and finds the passage through the fused ranking', async () => {
    const { client, server } = started.server;
    const { storeId, ids } = await ingest(client);
    const { searchIndex } = server.knowledge;
    expect(searchIndex.space).toMatchObject({ model: MODEL, dimensions: expect.any(Number) });
    expect(await searchIndex.chunksWithoutVectors({ afterId: 0, limit: 10 })).toEqual([]);

    for (const [index, [, fact]] of DOCUMENTS.entries()) {
      const page = await client.vectorStores.search(storeId, { query: fact, max_num_results: 3 });
      expect(page.data.map((result) => result.file_id)).toContain(ids[index]);
      const hit = page.data.find((result) => result.file_id === ids[index])!;
      expect(hit.content[0]!.text).toContain(fact);
    }
    // Both rankings contribute to what the engine returns.
    const apiKey = await server.storage.repositories.apiKeys.findActiveBySecret(started.server.apiKey);
    const outcome = await server.knowledge.retrieval.search({
      workspaceId: apiKey!.workspaceId,
      vectorStoreIds: [storeId],
      query: DOCUMENTS[1][1],
      maxResults: 5,
    });
    expect(outcome.results.some((result) => result.matchedBy.includes('vector'))).toBe(true);
    expect(outcome.results.some((result) => result.matchedBy.includes('keyword'))).toBe(true);
  });
});

describe('embedding model configuration', () => {
  it('gives chunks indexed before a model was configured their vectors after the restart', async () => {
    const first = await startApiServer();
    const { storeId } = await ingest(first.client);
    await first.server.close();
    const second = await startApiServer({
      env: { ATELIER_DATA_DIR: first.dataDir, ATELIER_EMBEDDING_MODEL: MODEL },
    });
    try {
      const { searchIndex, ingestion } = second.server.knowledge;
      await ingestion.idle();
      // The backfill runs in the background: wait for it.
      for (let attempt = 0; attempt < 100; attempt++) {
        if ((await searchIndex.chunksWithoutVectors({ afterId: 0, limit: 1 })).length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await searchIndex.chunksWithoutVectors({ afterId: 0, limit: 10 })).toEqual([]);
      const page = await second.client.vectorStores.search(storeId, { query: DOCUMENTS[0][1] });
      expect(page.data[0]!.content[0]!.text).toContain(DOCUMENTS[0][1]);
    } finally {
      await second.close();
      await first.close().catch(() => {});
    }
  });

  it('refuses to start with an unknown embedding model, naming the setting', async () => {
    await expect(startApiServer({ env: { ATELIER_EMBEDDING_MODEL: 'no-such-model' } })).rejects.toThrow(
      /ATELIER_EMBEDDING_MODEL="no-such-model": no such model \(served: atelier-tiny\)/,
    );
  });
});
