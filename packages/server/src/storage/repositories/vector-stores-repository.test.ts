import { expect, it } from 'vitest';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';

describeEachDialect('vector stores repository: the server’s own stores', (getHandle) => {
  const repositories = () => createRepositories(getHandle().db);

  it('makes one internal store per workspace and key, even when callers race, and lists only users’ stores', async () => {
    const workspace = await repositories().workspaces.create({ name: 'W' });
    const other = await repositories().workspaces.create({ name: 'X' });
    const own = await repositories().vectorStores.create({ workspaceId: workspace.id, name: 'Mine' });
    const params = { workspaceId: workspace.id, key: 'run-files', name: 'Files given to runs' };
    const raced = await Promise.all(
      Array.from({ length: 4 }, () => repositories().vectorStores.ensureInternal(params)),
    );
    expect(new Set(raced.map((store) => store.id)).size).toBe(1);
    expect(raced[0]).toMatchObject({
      workspaceId: workspace.id,
      name: 'Files given to runs',
      expiresAfterDays: null,
      status: 'completed',
    });
    expect((await repositories().vectorStores.ensureInternal(params)).id).toBe(raced[0]!.id);
    const elsewhere = await repositories().vectorStores.ensureInternal({ ...params, workspaceId: other.id });
    expect(elsewhere.id).not.toBe(raced[0]!.id);

    const page = await repositories().vectorStores.list({
      workspaceId: workspace.id,
      limit: 10,
      order: 'desc',
    });
    expect(page.data.map((store) => store.id)).toEqual([own.id]);
    // Reachable by id, as the retrieval engine searches it.
    expect(await repositories().vectorStores.findMany(workspace.id, [raced[0]!.id])).toHaveLength(1);
  });
});
