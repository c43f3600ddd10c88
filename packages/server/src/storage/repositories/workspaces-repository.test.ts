import { randomBase62 } from '@atelier/protocol';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../errors.js';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';

describeEachDialect('workspaces repository', (getHandle) => {
  let time = 1_700_000_000;
  const repositories = () => createRepositories(getHandle().db, { now: () => time });
  const newAccount = (name = 'Someone') =>
    repositories().accounts.create({ name, email: `${randomBase62(12)}@example.com` });
  const count = async (table: string, column: string, value: string) => {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(
      column,
    )} = ${value}`.execute(getHandle().db);
    return rows[0]?.n;
  };

  it('creates a workspace with its owner in one go', async () => {
    const owner = await newAccount('Owner');
    time += 1;
    const workspace = await repositories().workspaces.create({ name: 'Lab', ownerAccountId: owner.id });
    expect(workspace).toEqual({
      id: expect.stringMatching(/^ws_[0-9A-Za-z]{24}$/),
      name: 'Lab',
      kind: 'team',
      createdAt: time,
    });
    expect(await repositories().workspaces.findById(workspace.id)).toEqual(workspace);
    expect(await repositories().workspaces.members(workspace.id)).toEqual([
      { workspaceId: workspace.id, accountId: owner.id, role: 'owner', createdAt: time },
    ]);
  });

  it('creates nothing when the owner does not exist', async () => {
    const attempt = repositories().workspaces.create({ name: 'Ghost town', ownerAccountId: 'acct_missing' });
    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    await expect(attempt).rejects.toMatchObject({ param: 'account_id' });
    expect(await count('workspaces', 'name', 'Ghost town')).toBe(0);
  });

  it('adds members and lists an account’s workspaces with its role there', async () => {
    const ada = await newAccount('Ada');
    const grace = await newAccount('Grace');
    const personal = await repositories().workspaces.create({
      name: 'Ada',
      kind: 'personal',
      ownerAccountId: ada.id,
    });
    time += 10;
    const team = await repositories().workspaces.create({ name: 'Team', ownerAccountId: grace.id });
    time += 10;
    const member = await repositories().workspaces.addMember({ workspaceId: team.id, accountId: ada.id });
    expect(member).toEqual({ workspaceId: team.id, accountId: ada.id, role: 'member', createdAt: time });
    await repositories().workspaces.addMember({
      workspaceId: personal.id,
      accountId: grace.id,
      role: 'admin',
    });

    expect(await repositories().workspaces.listForAccount(ada.id)).toEqual([
      { workspace: personal, role: 'owner', joinedAt: personal.createdAt },
      { workspace: team, role: 'member', joinedAt: time },
    ]);
    expect(
      (await repositories().workspaces.members(team.id)).map((row) => [row.accountId, row.role]),
    ).toEqual([
      [grace.id, 'owner'],
      [ada.id, 'member'],
    ]);
    expect(await repositories().workspaces.listForAccount((await newAccount()).id)).toEqual([]);
  });

  it('refuses to add a member twice, or an unknown account or workspace', async () => {
    const owner = await newAccount();
    const workspace = await repositories().workspaces.create({ name: 'W', ownerAccountId: owner.id });
    await expect(
      repositories().workspaces.addMember({ workspaceId: workspace.id, accountId: owner.id, role: 'admin' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      repositories().workspaces.addMember({ workspaceId: workspace.id, accountId: 'acct_missing' }),
    ).rejects.toMatchObject({ status: 404, param: 'account_id' });
    await expect(
      repositories().workspaces.addMember({ workspaceId: 'ws_missing', accountId: owner.id }),
    ).rejects.toMatchObject({ status: 404, param: 'workspace_id' });
    // The failed attempts changed nothing.
    expect(await repositories().workspaces.members(workspace.id)).toHaveLength(1);
  });

  it('deletes a workspace together with its members and API keys', async () => {
    const owner = await newAccount();
    const workspace = await repositories().workspaces.create({ name: 'Doomed', ownerAccountId: owner.id });
    const other = await repositories().workspaces.create({ name: 'Survivor', ownerAccountId: owner.id });
    await repositories().apiKeys.create({ workspaceId: workspace.id, accountId: owner.id, name: 'k1' });
    await repositories().apiKeys.create({ workspaceId: workspace.id, name: 'k2' });
    await repositories().apiKeys.create({ workspaceId: other.id, name: 'k3' });
    expect(await count('api_keys', 'workspace_id', workspace.id)).toBe(2);

    expect(await repositories().workspaces.delete(workspace.id)).toBe(true);
    expect(await repositories().workspaces.findById(workspace.id)).toBeNull();
    expect(await count('workspace_members', 'workspace_id', workspace.id)).toBe(0);
    expect(await count('api_keys', 'workspace_id', workspace.id)).toBe(0);
    // Only that workspace: the account and the other workspace are untouched.
    expect(await repositories().accounts.findById(owner.id)).not.toBeNull();
    expect(await count('api_keys', 'workspace_id', other.id)).toBe(1);
    expect(await repositories().workspaces.members(other.id)).toHaveLength(1);

    expect(await repositories().workspaces.delete(workspace.id)).toBe(false);
  });

  it('drops an account’s memberships and personal keys when the account is deleted', async () => {
    const owner = await newAccount();
    const leaver = await newAccount();
    const workspace = await repositories().workspaces.create({ name: 'W', ownerAccountId: owner.id });
    await repositories().workspaces.addMember({ workspaceId: workspace.id, accountId: leaver.id });
    await repositories().apiKeys.create({ workspaceId: workspace.id, accountId: leaver.id, name: 'mine' });
    await getHandle().db.deleteFrom('accounts').where('id', '=', leaver.id).execute();
    expect((await repositories().workspaces.members(workspace.id)).map((row) => row.accountId)).toEqual([
      owner.id,
    ]);
    expect(await count('api_keys', 'account_id', leaver.id)).toBe(0);
  });
});
