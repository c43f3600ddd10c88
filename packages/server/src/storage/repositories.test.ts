import { expect, it } from 'vitest';
import { createRepositories } from './repositories.js';
import { describeEachDialect } from './test-support/dialects.js';

describeEachDialect('createRepositories', (getHandle) => {
  it('commits a transaction’s writes together', async () => {
    const repositories = createRepositories(getHandle().db);
    const { account, workspace } = await repositories.transaction(async (trx) => {
      const account = await trx.accounts.create({ name: 'Ada' });
      // Nested work joins the same transaction (workspaces.create uses one of its own otherwise).
      const workspace = await trx.workspaces.create({
        name: 'Ada',
        kind: 'personal',
        ownerAccountId: account.id,
      });
      return { account, workspace };
    });
    expect(await repositories.accounts.findById(account.id)).toEqual(account);
    expect(await repositories.workspaces.listForAccount(account.id)).toEqual([
      { workspace, role: 'owner', joinedAt: workspace.createdAt },
    ]);
  });

  it('rolls all of them back when the work fails', async () => {
    const repositories = createRepositories(getHandle().db);
    let accountId = '';
    await expect(
      repositories.transaction(async (trx) => {
        accountId = (await trx.accounts.create({ name: 'Temporary' })).id;
        await trx.workspaces.create({ name: 'Temporary' });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(accountId).not.toBe('');
    expect(await repositories.accounts.findById(accountId)).toBeNull();
  });
});
