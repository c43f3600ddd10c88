import { expect, it } from 'vitest';
import { InvalidRequestError } from '../../errors.js';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';

describeEachDialect(
  'files repository',
  (getHandle) => {
    let time = 1_700_000_000;
    const repositories = () => createRepositories(getHandle().db, { now: () => time });

    async function workspace() {
      const owner = await repositories().accounts.create({ name: 'O' });
      return repositories().workspaces.create({ name: 'W', ownerAccountId: owner.id });
    }
    const create = (workspaceId: string, filename: string, purpose = 'assistants', sha256 = 'c'.repeat(64)) =>
      repositories().files.create({ workspaceId, filename, purpose, bytes: 1, sha256 });

    it('pages newest first by default, in creation order even within one second, by purpose', async () => {
      const { id } = await workspace();
      const files = [];
      for (let index = 0; index < 5; index++)
        files.push(await create(id, `${index}.txt`, index % 2 ? 'vision' : 'assistants'));
      const ids = files.map((file) => file.id);
      const all = await repositories().files.list({ workspaceId: id, limit: 10, order: 'desc' });
      expect(all.data.map((file) => file.id)).toEqual([...ids].reverse());
      const page = await repositories().files.list({
        workspaceId: id,
        limit: 2,
        order: 'asc',
        after: ids[0],
      });
      expect(page).toEqual({ data: [files[1], files[2]], hasMore: true });
      const before = await repositories().files.list({
        workspaceId: id,
        limit: 2,
        order: 'asc',
        before: ids[3],
      });
      expect(before.data.map((file) => file.id)).toEqual([ids[1], ids[2]]);
      expect(before.hasMore).toBe(true);
      const vision = await repositories().files.list({
        workspaceId: id,
        limit: 10,
        order: 'asc',
        purpose: 'vision',
      });
      expect(vision.data.map((file) => file.filename)).toEqual(['1.txt', '3.txt']);
      // A deleted cursor still marks its place.
      await repositories().files.delete(id, ids[2]!);
      const next = await repositories().files.list({
        workspaceId: id,
        limit: 10,
        order: 'asc',
        after: ids[2],
      });
      expect(next.data.map((file) => file.id)).toEqual([ids[3], ids[4]]);
      await expect(
        repositories().files.list({ workspaceId: id, limit: 1, order: 'asc', after: 'file-nope' }),
      ).rejects.toBeInstanceOf(InvalidRequestError);
    });

    it('keeps workspaces apart, hides expired files and lists them for the sweeper', async () => {
      const mine = await workspace();
      const theirs = await workspace();
      const file = await create(mine.id, 'mine.txt');
      expect(await repositories().files.find(theirs.id, file.id)).toBeNull();
      expect(await repositories().files.delete(theirs.id, file.id)).toBeNull();
      expect(await repositories().files.find(mine.id, file.id)).toEqual(file);

      const expiring = await repositories().files.create({
        workspaceId: mine.id,
        filename: 'soon.txt',
        purpose: 'assistants',
        bytes: 1,
        sha256: 'd'.repeat(64),
        expiresAfterSeconds: 3600,
      });
      expect(expiring.expiresAt).toBe(time + 3600);
      time += 3601;
      expect(await repositories().files.find(mine.id, expiring.id)).toBeNull();
      expect((await repositories().files.listExpired(10)).map((expired) => expired.id)).toEqual([
        expiring.id,
      ]);
    });

    it('knows which blobs are still referenced', async () => {
      const { id } = await workspace();
      const one = await create(id, 'a.txt', 'assistants', 'e'.repeat(64));
      await create(id, 'b.txt', 'assistants', 'e'.repeat(64));
      expect(await repositories().files.referencedBlobs(['e'.repeat(64), 'f'.repeat(64)])).toEqual(
        new Set(['e'.repeat(64)]),
      );
      await repositories().files.delete(id, one.id);
      expect(await repositories().files.isBlobReferenced('e'.repeat(64))).toBe(true);
    });
  },
  { freshFor: 'test' },
);
