import { randomBase62 } from '@atelier/protocol';
import { expect, it } from 'vitest';
import { createRepositories } from '../repositories.js';
import { createSecretBox } from '../secret-box.js';
import { describeEachDialect } from '../test-support/dialects.js';
import { createActionsRepository, newActionId } from './actions-repository.js';

describeEachDialect('actions repository', (getHandle) => {
  const time = 1_700_000_000;
  const box = createSecretBox('k'.repeat(32));
  const repository = () => createActionsRepository(getHandle().db, { now: () => time });
  const newMember = async () => {
    const repositories = createRepositories(getHandle().db, { now: () => time });
    const account = await repositories.accounts.create({
      name: 'B',
      email: `${randomBase62(10)}@example.com`,
    });
    const workspace = await repositories.workspaces.create({
      name: 'W',
      kind: 'personal',
      ownerAccountId: account.id,
    });
    return { account, workspace };
  };
  const newAction = async (workspaceId: string, accountId: string, gptId: string | null = null) => {
    const id = newActionId();
    return repository().create({
      id,
      workspaceId,
      ownerAccountId: accountId,
      gptId,
      title: 'Weather',
      domain: 'api.weather.example.com',
      sourceKind: 'openapi',
      document: 'openapi: 3.1.0',
      documentUrl: null,
      manifest: null,
      manifestUrl: null,
      auth: '{"type":"api_key","scheme":"bearer","headerName":null}',
      authSecret: box.seal('sk-live-123', { context: `action:${id}:auth` }),
      privacyPolicyUrl: null,
    });
  };

  it('stores an action, lists it per workspace and GPT, and updates what is given', async () => {
    const { account, workspace } = await newMember();
    const action = await newAction(workspace.id, account.id, 'gpt_1');
    expect(action.id).toMatch(/^act_[A-Za-z0-9]{24}$/);
    expect(await repository().get(action.id)).toEqual(action);
    expect(await repository().list({ workspaceId: workspace.id })).toEqual([action]);
    expect(await repository().list({ workspaceId: workspace.id, gptId: 'gpt_2' })).toEqual([]);
    const updated = await repository().update(action.id, {
      privacyPolicyUrl: 'https://example.com/privacy',
      gptId: null,
    });
    expect(updated).toEqual({ ...action, privacyPolicyUrl: 'https://example.com/privacy', gptId: null });
    expect(await repository().update('act_missing', { title: 'x' })).toBeNull();
    const rows = await getHandle().db.selectFrom('actions').selectAll().where('id', '=', action.id).execute();
    expect(JSON.stringify(rows)).not.toContain('sk-live-123');
  });

  it('keeps one consent per person, scope and domain, and replaces it on the next decision', async () => {
    const { account } = await newMember();
    const key = { accountId: account.id, scopeId: 'gpt_a', domain: 'api.example.com' };
    expect(await repository().findConsent(key)).toBeNull();
    await repository().saveConsent({
      ...key,
      alwaysAllowed: true,
      lastDecision: 'always_allow',
      decidedAt: time,
    });
    await repository().saveConsent({
      ...key,
      alwaysAllowed: false,
      lastDecision: 'decline',
      decidedAt: time + 5,
    });
    expect(await repository().findConsent(key)).toEqual({
      ...key,
      alwaysAllowed: false,
      lastDecision: 'decline',
      decidedAt: time + 5,
    });
    expect(await repository().listConsents(account.id)).toHaveLength(1);
    expect(await repository().deleteConsent(key)).toBe(true);
    expect(await repository().findConsent(key)).toBeNull();
  });

  it('keeps sealed tokens per action and person, and each OAuth state works once before it expires', async () => {
    const { account, workspace } = await newMember();
    const action = await newAction(workspace.id, account.id);
    const key = { actionId: action.id, accountId: account.id };
    const sealed = (value: string) => box.seal(value, { context: 'test' });
    await repository().saveTokens({
      ...key,
      accessToken: sealed('a1'),
      refreshToken: sealed('r1'),
      tokenType: 'Bearer',
      scope: null,
      expiresAt: time + 60,
    });
    const second = await repository().saveTokens({
      ...key,
      accessToken: sealed('a2'),
      refreshToken: null,
      tokenType: 'Bearer',
      scope: 'read',
      expiresAt: null,
    });
    expect(await repository().findTokens(key)).toEqual(second);
    expect(box.open(second.accessToken, { context: 'test' })).toBe('a2');

    await repository().createOAuthState({
      stateHash: 'h1',
      ...key,
      codeVerifier: sealed('v'),
      redirectUri: 'https://app/cb',
      expiresAt: time + 600,
    });
    await repository().createOAuthState({
      stateHash: 'h2',
      ...key,
      codeVerifier: sealed('v'),
      redirectUri: 'https://app/cb',
      expiresAt: time - 1,
    });
    expect((await repository().takeOAuthState('h1', time))?.redirectUri).toBe('https://app/cb');
    expect(await repository().takeOAuthState('h1', time)).toBeNull();
    expect(await repository().takeOAuthState('h2', time)).toBeNull();

    // Deleting the action takes its tokens and states along.
    await repository().createOAuthState({
      stateHash: 'h3',
      ...key,
      codeVerifier: sealed('v'),
      redirectUri: 'x',
      expiresAt: time + 600,
    });
    expect(await repository().delete(action.id)).toBe(true);
    expect(await repository().findTokens(key)).toBeNull();
    expect(await repository().takeOAuthState('h3', time)).toBeNull();
  });

  it('lets exactly one call take a one-time grant, even when many try at once, and keeps it across handles', async () => {
    const { account } = await newMember();
    const key = { accountId: account.id, scopeId: 'g-000000000000000000000001', domain: 'api.example.com' };
    await repository().saveGrant({ ...key, operation: 'listTasks', expiresAt: time + 600 });
    // A restarted server (another handle on the same database) finds the grant.
    const reopened = await getHandle().reopen();
    const elsewhere = createActionsRepository(reopened.db, { now: () => time });
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        (index % 2 === 0 ? repository() : elsewhere).takeGrant({ ...key, operation: 'listTasks', at: time }),
      ),
    );
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await repository().takeGrant({ ...key, operation: 'listTasks', at: time })).toBe(false);

    // A grant for the domain covers one call of any operation; an operation's own is taken first.
    await repository().saveGrant({ ...key, operation: '', expiresAt: time + 600 });
    await repository().saveGrant({ ...key, operation: 'addTask', expiresAt: time + 600 });
    expect(await repository().takeGrant({ ...key, operation: 'addTask', at: time })).toBe(true);
    expect(await repository().takeGrant({ ...key, operation: 'listTasks', at: time })).toBe(true);
    expect(await repository().takeGrant({ ...key, operation: 'listTasks', at: time })).toBe(false);

    // Expired grants are not taken, and go when the person gets a new one.
    await repository().saveGrant({ ...key, operation: 'listTasks', expiresAt: time - 1 });
    expect(await repository().takeGrant({ ...key, operation: 'listTasks', at: time })).toBe(false);
    await repository().saveGrant({ ...key, domain: 'other.example.com', operation: '', expiresAt: time + 5 });
    const rows = await getHandle().db.selectFrom('action_consent_grants').selectAll().execute();
    expect(rows.map((row) => row.domain)).toEqual(['other.example.com']);

    // Declining forgets the grants for that domain.
    await repository().saveGrant({ ...key, operation: '', expiresAt: time + 600 });
    expect(await repository().deleteGrants(key)).toBe(1);
    expect(await repository().takeGrant({ ...key, operation: 'listTasks', at: time })).toBe(false);
  });

  it('refuses an action for a workspace that does not exist', async () => {
    const { account } = await newMember();
    await expect(newAction('ws_missing', account.id)).rejects.toMatchObject({ status: 404 });
  });
});
