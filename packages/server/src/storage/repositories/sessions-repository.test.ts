import { randomBase62 } from '@atelier/protocol';
import { expect, it } from 'vitest';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';
import { hashSessionSecret } from './sessions-repository.js';

describeEachDialect('sessions and preferences repositories', (getHandle) => {
  const time = 1_700_000_000;
  const repositories = () => createRepositories(getHandle().db, { now: () => time });
  const newMember = async () => {
    const account = await repositories().accounts.create({
      name: 'P',
      email: `${randomBase62(10)}@example.com`,
    });
    const workspace = await repositories().workspaces.create({
      name: 'W',
      kind: 'personal',
      ownerAccountId: account.id,
    });
    return { account, workspace };
  };

  it('stores only the hash of a session secret and finds the session by the secret until it expires', async () => {
    const { account, workspace } = await newMember();
    const { session, secret } = await repositories().sessions.create({
      accountId: account.id,
      workspaceId: workspace.id,
      expiresAt: time + 60,
      userAgent: 'x'.repeat(1000),
    });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.userAgent).toHaveLength(256);
    const rows = await getHandle()
      .db.selectFrom('sessions')
      .selectAll()
      .where('id', '=', session.id)
      .execute();
    expect(rows[0]?.token_hash).toBe(hashSessionSecret(secret));
    expect(JSON.stringify(rows)).not.toContain(secret);

    expect(await repositories().sessions.findActiveBySecret(secret, time)).toEqual({
      session,
      workspaceRole: 'owner',
    });
    expect(await repositories().sessions.findActiveBySecret(secret, time + 60)).toBeNull();
    expect(await repositories().sessions.findActiveBySecret(`${secret}x`, time)).toBeNull();
    await repositories().sessions.touch(session.id, { lastSeenAt: time + 30, expiresAt: time + 90 });
    expect((await repositories().sessions.findActiveBySecret(secret, time + 60))?.session.expiresAt).toBe(
      time + 90,
    );
  });

  it('reports a session whose account left the workspace, and ends sessions with the account', async () => {
    const { account, workspace } = await newMember();
    const team = await repositories().workspaces.create({ name: 'Team' });
    await repositories().workspaces.addMember({
      workspaceId: team.id,
      accountId: account.id,
      role: 'member',
    });
    const { secret } = await repositories().sessions.create({
      accountId: account.id,
      workspaceId: team.id,
      expiresAt: time + 60,
    });
    expect((await repositories().sessions.findActiveBySecret(secret, time))?.workspaceRole).toBe('member');
    await getHandle()
      .db.deleteFrom('workspace_members')
      .where('account_id', '=', account.id)
      .where('workspace_id', '=', team.id)
      .execute();
    expect((await repositories().sessions.findActiveBySecret(secret, time))?.workspaceRole).toBeNull();

    const other = await repositories().sessions.create({
      accountId: account.id,
      workspaceId: workspace.id,
      expiresAt: time + 60,
    });
    expect(await repositories().accounts.delete(account.id)).toBe(true);
    expect(await repositories().sessions.findActiveBySecret(other.secret, time)).toBeNull();
  });

  it('reads default preferences until they change, then changes only what was given', async () => {
    const { account } = await newMember();
    const preferences = repositories().accountPreferences;
    expect(await preferences.get(account.id)).toMatchObject({
      theme: 'system',
      aboutMe: '',
      customInstructionsEnabled: true,
      chatHistoryEnabled: true,
    });
    await preferences.update(account.id, { aboutMe: 'Seoul', theme: 'dark', chatHistoryEnabled: false });
    const updated = await preferences.update(account.id, { language: 'ko' });
    expect(updated).toEqual({
      aboutMe: 'Seoul',
      responseStyle: '',
      customInstructionsEnabled: true,
      chatHistoryEnabled: false,
      theme: 'dark',
      language: 'ko',
      updatedAt: time,
    });
    expect(await preferences.get(account.id)).toEqual(updated);
  });
});
