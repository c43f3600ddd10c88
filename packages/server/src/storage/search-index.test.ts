import { beforeEach, describe, expect, it } from 'vitest';
import { openSearchIndex } from './open-search-index.js';
import { createRepositories } from './repositories.js';
import type { SearchIndex } from './search-index.js';
import { describeEachDialect } from './test-support/dialects.js';

const CHUNKING = { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };

/** A unit vector pointing mostly along `axis`. */
function vector(axis: number, dimensions = 8, noise = 0.1): Float32Array {
  const out = new Float32Array(dimensions).fill(noise);
  out[axis] = 1;
  return out;
}

describeEachDialect(
  'search index',
  (getHandle) => {
    const repositories = () => createRepositories(getHandle().db);
    let index: SearchIndex;
    beforeEach(() => {
      index = openSearchIndex(getHandle());
    });

    async function workspaceWithStore() {
      const owner = await repositories().accounts.create({ name: 'Owner' });
      const workspace = await repositories().workspaces.create({ name: 'W', ownerAccountId: owner.id });
      const store = await repositories().vectorStores.create({ workspaceId: workspace.id, name: 'docs' });
      return { workspace, store };
    }

    async function addFile(
      workspaceId: string,
      vectorStoreId: string,
      name: string,
      texts: readonly string[],
    ) {
      const file = await repositories().files.create({
        workspaceId,
        filename: name,
        purpose: 'assistants',
        bytes: 10,
        sha256: 'a'.repeat(64),
      });
      await repositories().vectorStoreFiles.add({
        workspaceId,
        vectorStoreId,
        files: [{ fileId: file.id, chunking: CHUNKING }],
      });
      const ids = await repositories().chunks.replace(
        vectorStoreId,
        file.id,
        texts.map((text, position) => ({
          index: position,
          startOffset: 0,
          endOffset: text.length,
          tokenCount: 5,
          text,
        })),
      );
      return { file, ids };
    }

    it('ranks the chunk that holds the rare query terms first, within the named stores only', async () => {
      const { workspace, store } = await workspaceWithStore();
      const other = await repositories().vectorStores.create({ workspaceId: workspace.id });
      const { ids } = await addFile(workspace.id, store.id, 'a.txt', [
        'The warranty of the blender lasts three years from the date of purchase.',
        'Blenders should be cleaned after every use; the jar is dishwasher safe.',
        'Our office is open from nine to five on weekdays.',
      ]);
      await addFile(workspace.id, other.id, 'b.txt', ['The warranty of the toaster lasts one year.']);

      const hits = await index.keywordSearch({
        vectorStoreIds: [store.id],
        terms: ['warranty', 'blender'],
        limit: 10,
      });
      expect(hits[0]?.chunkId).toBe(ids[0]);
      // Stemming: "blender" matches "Blenders" too; the office chunk matches nothing.
      expect(hits.map((hit) => hit.chunkId).sort()).toEqual([ids[0], ids[1]].sort());
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);

      const both = await index.keywordSearch({
        vectorStoreIds: [store.id, other.id],
        terms: ['warranty'],
        limit: 10,
      });
      expect(both).toHaveLength(2);
    });

    it('restricts to the given files, and finds nothing for no terms or no stores', async () => {
      const { workspace, store } = await workspaceWithStore();
      const first = await addFile(workspace.id, store.id, 'x.md', ['alpha beta gamma']);
      const second = await addFile(workspace.id, store.id, 'y.md', ['alpha delta']);
      const onlySecond = await index.keywordSearch({
        vectorStoreIds: [store.id],
        terms: ['alpha'],
        limit: 10,
        fileIds: [second.file.id],
      });
      expect(onlySecond.map((hit) => hit.chunkId)).toEqual(second.ids);
      expect(
        await index.keywordSearch({ vectorStoreIds: [store.id], terms: ['alpha'], limit: 10, fileIds: [] }),
      ).toEqual([]);
      expect(await index.keywordSearch({ vectorStoreIds: [store.id], terms: [], limit: 10 })).toEqual([]);
      expect(await index.keywordSearch({ vectorStoreIds: [], terms: ['alpha'], limit: 10 })).toEqual([]);
      expect(first.ids).toHaveLength(1);
    });

    it('removes a file’s chunks from search when the file, its entry or the store goes', async () => {
      const { workspace, store } = await workspaceWithStore();
      const kept = await addFile(workspace.id, store.id, 'keep.txt', ['zebra crossing rules']);
      const removed = await addFile(workspace.id, store.id, 'remove.txt', ['zebra stripes are unique']);
      const detached = await addFile(workspace.id, store.id, 'detach.txt', ['zebra herds migrate']);
      const search = () => index.keywordSearch({ vectorStoreIds: [store.id], terms: ['zebra'], limit: 10 });
      expect(await search()).toHaveLength(3);

      await repositories().files.delete(workspace.id, removed.file.id);
      await repositories().vectorStoreFiles.delete(workspace.id, store.id, detached.file.id);
      expect((await search()).map((hit) => hit.chunkId)).toEqual(kept.ids);

      await repositories().vectorStores.delete(workspace.id, store.id);
      expect(await search()).toEqual([]);
      expect(await repositories().chunks.findMany(kept.ids)).toEqual(new Map());
    });

    describe('vectors', () => {
      it('finds nearest chunks by cosine distance, exactly and by the index, and forgets deleted chunks', async () => {
        const space = await index.useEmbeddingSpace({ model: 'test-embedder', dimensions: 8 });
        expect(space.name).toMatch(/^chunk_vectors_[0-9a-f]{12}$/);
        expect(index.space).toEqual(expect.objectContaining({ model: 'test-embedder', dimensions: 8 }));
        const { workspace, store } = await workspaceWithStore();
        const other = await repositories().vectorStores.create({ workspaceId: workspace.id });
        const { file, ids } = await addFile(workspace.id, store.id, 'v.txt', ['one', 'two', 'three']);
        const elsewhere = await addFile(workspace.id, other.id, 'w.txt', ['four']);
        const db = getHandle().db;
        await index.writeVectors(
          db,
          ids.map((chunkId, axis) => ({ chunkId, vectorStoreId: store.id, embedding: vector(axis) })),
        );
        await index.writeVectors(db, [
          { chunkId: elsewhere.ids[0]!, vectorStoreId: other.id, embedding: vector(1) },
        ]);
        // A chunk deleted before its vector arrives is skipped, not an error.
        await index.writeVectors(db, [{ chunkId: 9_999_999, vectorStoreId: store.id, embedding: vector(2) }]);

        for (const search of [index.vectorSearch, index.exactVectorSearch]) {
          const hits = await search({ vectorStoreIds: [store.id], embedding: vector(1), limit: 2 });
          expect(hits.map((hit) => hit.chunkId)).toEqual([ids[1], expect.any(Number)]);
          expect(hits[0]!.distance).toBeCloseTo(0, 5);
          expect(hits[1]!.distance).toBeGreaterThan(hits[0]!.distance);
        }
        const all = await index.vectorSearch({
          vectorStoreIds: [store.id, other.id],
          embedding: vector(1),
          limit: 10,
        });
        expect(all).toHaveLength(4);

        expect(await index.chunksWithoutVectors({ afterId: 0, limit: 10 })).toEqual([]);
        await repositories().files.delete(workspace.id, file.id);
        const left = await index.vectorSearch({
          vectorStoreIds: [store.id, other.id],
          embedding: vector(1),
          limit: 10,
        });
        expect(left.map((hit) => hit.chunkId)).toEqual(elsewhere.ids);
      });

      it('lists chunks that lack vectors, and starts over when the model changes', async () => {
        await index.useEmbeddingSpace({ model: 'test-embedder', dimensions: 8 });
        const { workspace, store } = await workspaceWithStore();
        const { ids } = await addFile(workspace.id, store.id, 'n.txt', ['no vector yet', 'nor this one']);
        const missing = await index.chunksWithoutVectors({ afterId: 0, limit: 10 });
        expect(missing.map((chunk) => chunk.id)).toEqual(ids);
        expect(missing[0]).toEqual({ id: ids[0], vectorStoreId: store.id, text: 'no vector yet' });
        expect(
          (await index.chunksWithoutVectors({ afterId: ids[0]!, limit: 10 })).map((chunk) => chunk.id),
        ).toEqual([ids[1]]);

        const previous = index.space!;
        const next = await index.useEmbeddingSpace({ model: 'another-embedder', dimensions: 4 });
        expect(next.name).not.toBe(previous.name);
        const spaces = await getHandle().db.selectFrom('embedding_spaces').select('name').execute();
        expect(spaces.map((row) => row.name)).toEqual([next.name]);
        // Every chunk needs a vector of the new model.
        expect(
          (await index.chunksWithoutVectors({ afterId: 0, limit: 100 })).map((chunk) => chunk.id),
        ).toEqual(ids);
      });
    });
  },
  { freshFor: 'test' },
);
