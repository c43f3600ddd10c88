import { expect, it } from 'vitest';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';

const CHUNKING = { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };

describeEachDialect(
  'vector store files repository (ingestion queue)',
  (getHandle) => {
    let time = 1_700_000_000;
    const repositories = () => createRepositories(getHandle().db, { now: () => time });

    async function queued(count = 1) {
      const owner = await repositories().accounts.create({ name: 'O' });
      const workspace = await repositories().workspaces.create({ name: 'W', ownerAccountId: owner.id });
      const store = await repositories().vectorStores.create({ workspaceId: workspace.id });
      const files = [];
      for (let index = 0; index < count; index++) {
        files.push(
          await repositories().files.create({
            workspaceId: workspace.id,
            filename: `f${index}.txt`,
            purpose: 'assistants',
            bytes: 3,
            sha256: 'b'.repeat(64),
          }),
        );
      }
      await repositories().vectorStoreFiles.add({
        workspaceId: workspace.id,
        vectorStoreId: store.id,
        files: files.map((file) => ({ fileId: file.id, chunking: CHUNKING })),
      });
      return { workspace, store, files };
    }

    it('hands each waiting file to one claimant, in order, with what ingestion needs', async () => {
      const { store, files } = await queued(3);
      const first = await repositories().vectorStoreFiles.claim({ limit: 2, leaseSeconds: 60 });
      expect(first.map((claim) => claim.fileId)).toEqual([files[0]!.id, files[1]!.id]);
      expect(first[0]).toMatchObject({
        vectorStoreId: store.id,
        attempt: 1,
        chunking: CHUNKING,
        filename: 'f0.txt',
        sha256: 'b'.repeat(64),
      });
      const second = await repositories().vectorStoreFiles.claim({ limit: 5, leaseSeconds: 60 });
      expect(second.map((claim) => claim.fileId)).toEqual([files[2]!.id]);
      expect(await repositories().vectorStoreFiles.claim({ limit: 5, leaseSeconds: 60 })).toEqual([]);
    });

    it('gives a claim whose lease ran out (a dead worker) to the next claimant, and the old one loses its writes', async () => {
      const { workspace, store, files } = await queued(1);
      const [stale] = await repositories().vectorStoreFiles.claim({ limit: 1, leaseSeconds: 30 });
      time += 31;
      const [fresh] = await repositories().vectorStoreFiles.claim({ limit: 1, leaseSeconds: 30 });
      expect(fresh).toMatchObject({ fileId: files[0]!.id, attempt: 2 });
      expect(await repositories().vectorStoreFiles.complete(stale!, 10)).toBe(false);
      expect(await repositories().vectorStoreFiles.renew(stale!, 30)).toBe(false);
      expect(await repositories().vectorStoreFiles.complete(fresh!, 10)).toBe(true);
      const done = await repositories().vectorStoreFiles.find(workspace.id, store.id, files[0]!.id);
      expect(done).toMatchObject({ status: 'completed', usageBytes: 10, lastError: null });
    });

    it('frees every claim at start-up of a single process (its earlier self is gone)', async () => {
      await queued(2);
      const claims = await repositories().vectorStoreFiles.claim({ limit: 10, leaseSeconds: 600 });
      expect(claims.length).toBeGreaterThanOrEqual(2);
      expect(await repositories().vectorStoreFiles.claim({ limit: 10, leaseSeconds: 600 })).toEqual([]);
      expect(await repositories().vectorStoreFiles.releaseAllClaims()).toBe(claims.length);
      expect(await repositories().vectorStoreFiles.claim({ limit: 10, leaseSeconds: 600 })).toHaveLength(
        claims.length,
      );
      for (const claim of await repositories().vectorStoreFiles.claim({ limit: 10, leaseSeconds: 0 })) {
        await repositories().vectorStoreFiles.fail(claim, { code: 'server_error', message: 'test' });
      }
    });

    it('retries later, fails with a reason, and a cancelled or removed file is lost to its worker', async () => {
      time += 1000;
      const { workspace, store, files } = await queued(3);
      const claims = await repositories().vectorStoreFiles.claim({ limit: 3, leaseSeconds: 60 });
      const [retried, failed, cancelled] = claims;
      expect(await repositories().vectorStoreFiles.retryLater(retried!, time + 20)).toBe(true);
      expect(await repositories().vectorStoreFiles.claim({ limit: 3, leaseSeconds: 60 })).toEqual([]);
      time += 21;
      expect((await repositories().vectorStoreFiles.claim({ limit: 3, leaseSeconds: 60 }))[0]).toMatchObject({
        fileId: retried!.fileId,
        attempt: 2,
      });

      expect(
        await repositories().vectorStoreFiles.fail(failed!, { code: 'invalid_file', message: 'Unreadable.' }),
      ).toBe(true);
      expect(
        await repositories().vectorStoreFiles.find(workspace.id, store.id, failed!.fileId),
      ).toMatchObject({
        status: 'failed',
        lastError: { code: 'invalid_file', message: 'Unreadable.' },
      });

      expect(await repositories().vectorStoreFiles.cancelInProgress(store.id, [cancelled!.fileId])).toBe(1);
      expect(await repositories().vectorStoreFiles.complete(cancelled!, 1)).toBe(false);
      expect(await repositories().vectorStoreFiles.find(workspace.id, store.id, files[2]!.id)).toMatchObject({
        status: 'cancelled',
      });
    });

    it('re-adding a file is idempotent unless it failed or the chunking changed', async () => {
      const { workspace, store, files } = await queued(1);
      const fileId = files[0]!.id;
      const [claim] = await repositories().vectorStoreFiles.claim({ limit: 1, leaseSeconds: 60 });
      await repositories().vectorStoreFiles.complete(claim!, 5);
      const again = await repositories().vectorStoreFiles.add({
        workspaceId: workspace.id,
        vectorStoreId: store.id,
        files: [{ fileId, chunking: CHUNKING, attributes: { tag: 'x' } }],
      });
      expect(again[0]).toMatchObject({ status: 'completed', attributes: { tag: 'x' } });
      const rechunked = await repositories().vectorStoreFiles.add({
        workspaceId: workspace.id,
        vectorStoreId: store.id,
        files: [{ fileId, chunking: { maxChunkSizeTokens: 200, chunkOverlapTokens: 0 } }],
      });
      expect(rechunked[0]).toMatchObject({
        status: 'in_progress',
        attributes: { tag: 'x' },
        chunking: { maxChunkSizeTokens: 200, chunkOverlapTokens: 0 },
      });
      expect(await repositories().vectorStoreFiles.hasPending()).toBe(true);
    });
  },
  { freshFor: 'test' },
);
