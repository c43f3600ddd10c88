import { describe, expect, it } from 'vitest';
import { openSearchIndex } from '../../storage/open-search-index.js';
import { createRepositories } from '../../storage/repositories.js';
import { describeEachDialect } from '../../storage/test-support/dialects.js';
import { createRetrieval } from './search-vector-stores.js';

describe('vector store search', () => {
  describeEachDialect('which stores it searches', (getHandle) => {
    it('finds the passage in a live store, refuses an expired one, and does not see other workspaces', async () => {
      let clock = 1_800_000_000;
      const repositories = createRepositories(getHandle().db, { now: () => clock });
      const retrieval = createRetrieval({
        repositories,
        searchIndex: openSearchIndex(getHandle()),
        embeddingModel: null,
      });
      const owner = await repositories.accounts.create({ name: 'O' });
      const workspace = await repositories.workspaces.create({ name: 'W', ownerAccountId: owner.id });
      const stranger = await repositories.workspaces.create({ name: 'S', ownerAccountId: owner.id });
      const store = await repositories.vectorStores.create({
        workspaceId: workspace.id,
        expiresAfterDays: 1,
      });
      const file = await repositories.files.create({
        workspaceId: workspace.id,
        filename: 'notes.txt',
        purpose: 'assistants',
        bytes: 10,
        sha256: 'a'.repeat(64),
      });
      await repositories.vectorStoreFiles.add({
        workspaceId: workspace.id,
        vectorStoreId: store.id,
        files: [{ fileId: file.id, chunking: { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 } }],
      });
      await repositories.chunks.replace(store.id, file.id, [
        {
          index: 0,
          startOffset: 0,
          endOffset: 33,
          tokenCount: 8,
          text: 'The lighthouse keeper feeds gulls.',
        },
      ]);

      const found = await retrieval.search({
        workspaceId: workspace.id,
        vectorStoreIds: [store.id],
        query: 'gulls',
      });
      expect(found.results.map((result) => result.filename)).toEqual(['notes.txt']);
      await expect(
        retrieval.search({ workspaceId: stranger.id, vectorStoreIds: [store.id], query: 'gulls' }),
      ).rejects.toMatchObject({ status: 404, param: 'vector_store_id' });

      // The search itself counts as activity; two idle days later the store has expired.
      clock += 2 * 86_400;
      await expect(
        retrieval.search({ workspaceId: workspace.id, vectorStoreIds: [store.id], query: 'gulls' }),
      ).rejects.toMatchObject({ status: 400, code: 'vector_store_expired' });
    });
  });
});
