import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../errors.js';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';

describeEachDialect('api keys repository', (getHandle) => {
  let time = 1_700_000_000;
  const repositories = () => createRepositories(getHandle().db, { now: () => time });
  const newWorkspace = async (name = 'W') => {
    const owner = await repositories().accounts.create({ name: 'Owner' });
    const workspace = await repositories().workspaces.create({ name, ownerAccountId: owner.id });
    return { owner, workspace };
  };
  const rawRow = (id: string) =>
    getHandle().db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('returns a fresh secret once, and stores only its SHA-256', async () => {
    const { owner, workspace } = await newWorkspace();
    const { apiKey, secret } = await repositories().apiKeys.create({
      workspaceId: workspace.id,
      accountId: owner.id,
      name: 'laptop',
    });
    expect(secret).toMatch(/^sk-atelier-[0-9A-Za-z]{48}$/);
    expect(apiKey).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{24}$/),
      workspaceId: workspace.id,
      accountId: owner.id,
      name: 'laptop',
      redactedValue: `sk-at…${secret.slice(-4)}`,
      role: 'member',
      createdAt: time,
      lastUsedAt: null,
      revokedAt: null,
    });
    // The domain object carries no trace of the secret…
    expect(JSON.stringify(apiKey)).not.toContain(secret.slice(11, 20));
    // …and neither does any column of the stored row, beyond the last four characters.
    const row = await rawRow(apiKey.id);
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    const randomPart = secret.slice('sk-atelier-'.length);
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(randomPart.slice(0, 8));
      expect(String(value)).not.toContain(randomPart.slice(20, 28));
    }
  });

  it('finds an active key by its secret, and nothing for an unknown one', async () => {
    const { workspace } = await newWorkspace();
    const { apiKey, secret } = await repositories().apiKeys.create({
      workspaceId: workspace.id,
      name: 'ci',
      role: 'admin',
    });
    expect(await repositories().apiKeys.findActiveBySecret(secret)).toEqual(apiKey);
    expect(await repositories().apiKeys.findActiveBySecret(`${secret.slice(0, -1)}x`)).toBeNull();
    expect(await repositories().apiKeys.findActiveBySecret('')).toBeNull();
    expect(await repositories().apiKeys.findById(apiKey.id)).toEqual(apiKey);
    expect(await repositories().apiKeys.findById('key_missing')).toBeNull();
  });

  it('no longer finds a revoked key; revoking again changes nothing', async () => {
    const { workspace } = await newWorkspace();
    const { apiKey, secret } = await repositories().apiKeys.create({
      workspaceId: workspace.id,
      name: 'old',
    });
    time += 5;
    const revokedAt = time;
    expect(await repositories().apiKeys.revoke(apiKey.id)).toBe(true);
    expect(await repositories().apiKeys.findActiveBySecret(secret)).toBeNull();
    time += 5;
    expect(await repositories().apiKeys.revoke(apiKey.id)).toBe(true);
    expect(await repositories().apiKeys.findById(apiKey.id)).toEqual({ ...apiKey, revokedAt });
    expect(await repositories().apiKeys.revoke('key_missing')).toBe(false);
  });

  it('lists only the workspace’s keys, newest first, revoked ones on request', async () => {
    const { workspace } = await newWorkspace('mine');
    const { workspace: other } = await newWorkspace('theirs');
    const first = await repositories().apiKeys.create({ workspaceId: workspace.id, name: 'first' });
    time += 1;
    const second = await repositories().apiKeys.create({ workspaceId: workspace.id, name: 'second' });
    time += 1;
    const revoked = await repositories().apiKeys.create({ workspaceId: workspace.id, name: 'revoked' });
    await repositories().apiKeys.revoke(revoked.apiKey.id);
    await repositories().apiKeys.create({ workspaceId: other.id, name: 'elsewhere' });

    const names = async (includeRevoked?: boolean) =>
      (await repositories().apiKeys.list({ workspaceId: workspace.id, includeRevoked })).map(
        (key) => key.name,
      );
    expect(await names()).toEqual(['second', 'first']);
    expect(await names(true)).toEqual(['revoked', 'second', 'first']);
    expect(await repositories().apiKeys.list({ workspaceId: workspace.id })).toEqual([
      second.apiKey,
      first.apiKey,
    ]);
    expect(await repositories().apiKeys.list({ workspaceId: 'ws_missing' })).toEqual([]);
  });

  it('accepts a chosen secret, but not a weak or duplicate one', async () => {
    const { workspace } = await newWorkspace();
    const secret = 'sk-bootstrap-0123456789abcdefXYZ';
    const created = await repositories().apiKeys.create({ workspaceId: workspace.id, name: 'boot', secret });
    expect(created.secret).toBe(secret);
    expect(created.apiKey.redactedValue).toBe('sk-bo…fXYZ');
    expect((await repositories().apiKeys.findActiveBySecret(secret))?.id).toBe(created.apiKey.id);

    await expect(
      repositories().apiKeys.create({ workspaceId: workspace.id, name: 'again', secret }),
    ).rejects.toBeInstanceOf(ConflictError);
    for (const weak of ['short', 'has a space in it, twenty+ chars', 'x'.repeat(257)]) {
      const attempt = repositories().apiKeys.create({
        workspaceId: workspace.id,
        name: 'weak',
        secret: weak,
      });
      await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(attempt).rejects.toMatchObject({ status: 400, param: 'secret' });
    }
  });

  it('refuses keys for an unknown workspace or account', async () => {
    const { workspace } = await newWorkspace();
    const noWorkspace = repositories().apiKeys.create({ workspaceId: 'ws_missing', name: 'x' });
    await expect(noWorkspace).rejects.toBeInstanceOf(NotFoundError);
    await expect(noWorkspace).rejects.toMatchObject({ param: 'workspace_id' });
    await expect(
      repositories().apiKeys.create({ workspaceId: workspace.id, accountId: 'acct_missing', name: 'x' }),
    ).rejects.toMatchObject({ status: 404, param: 'account_id' });
    expect(await repositories().apiKeys.list({ workspaceId: workspace.id, includeRevoked: true })).toEqual(
      [],
    );
  });

  it('records the last use, never moving it backwards, as a number', async () => {
    const { workspace } = await newWorkspace();
    const { apiKey } = await repositories().apiKeys.create({ workspaceId: workspace.id, name: 'used' });
    await repositories().apiKeys.touchLastUsed(apiKey.id, time + 100);
    await repositories().apiKeys.touchLastUsed(apiKey.id, time + 50);
    const found = await repositories().apiKeys.findById(apiKey.id);
    expect(found?.lastUsedAt).toBe(time + 100);
    expect(typeof found?.createdAt).toBe('number');
    await repositories().apiKeys.touchLastUsed('key_missing', time);
  });
});
