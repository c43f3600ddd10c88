import { newGptId, randomBase62 } from '@atelier/protocol';
import { expect, it } from 'vitest';
import { AtelierError } from '../../errors.js';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';
import type { GptCreateParams } from './gpts-repository.js';

describeEachDialect('gpts repository', (getHandle) => {
  let time = 1_700_000_000;
  const repositories = () => createRepositories(getHandle().db, { now: () => time });

  async function builderAndWorkspace() {
    const account = await repositories().accounts.create({
      name: 'Grace',
      email: `${randomBase62(10)}@example.com`,
    });
    const workspace = await repositories().workspaces.create({ name: 'Team', ownerAccountId: account.id });
    return { account, workspace };
  }

  function params(workspaceId: string, builderAccountId: string): GptCreateParams {
    return {
      id: newGptId(),
      workspaceId,
      builderAccountId,
      face: {
        name: 'Tide tables',
        description: 'Answers about tides.',
        avatarFileId: null,
        conversationStarters: ['When is high tide?'],
        capabilities: { browsing: false, imageGeneration: false, codeInterpreter: true },
        knowledgeFileIds: [],
        actionIds: [],
      },
      assistant: {
        instructions: 'Speak like a harbour master.',
        model: 'atelier-tiny',
        tools: [{ type: 'code_interpreter' }],
        toolResources: {},
        temperature: null,
        topP: null,
        responseFormat: 'auto',
      },
      visibility: 'private',
      category: null,
      allowTraining: false,
      linkTokenHash: randomBase62(64),
      linkTokenSealed: 'sealed',
    };
  }

  it('keeps the draft in the GPT row and its backing assistant, and finds it every way', async () => {
    const { account, workspace } = await builderAndWorkspace();
    const created = await repositories().gpts.create(params(workspace.id, account.id));
    expect(created).toMatchObject({
      workspaceId: workspace.id,
      builderAccountId: account.id,
      builderName: 'Grace',
      visibility: 'private',
      allowTraining: false,
      published: null,
      createdAt: time,
      draft: {
        name: 'Tide tables',
        instructions: 'Speak like a harbour master.',
        model: 'atelier-tiny',
        tools: [{ type: 'code_interpreter' }],
        conversationStarters: ['When is high tide?'],
        capabilities: { browsing: false, imageGeneration: false, codeInterpreter: true },
      },
    });
    // The backing assistant is an ordinary assistant of the workspace, marked as the GPT's.
    const assistant = await repositories().assistants.find(workspace.id, created.assistantId);
    expect(assistant).toMatchObject({
      name: 'Tide tables',
      instructions: 'Speak like a harbour master.',
      metadata: { atelier_gpt_id: created.id },
    });
    expect((await repositories().gpts.find(created.id))?.id).toBe(created.id);
    expect((await repositories().gpts.findByAssistantId(created.assistantId))?.id).toBe(created.id);
    expect((await repositories().gpts.findByLinkTokenHash(created.linkTokenHash))?.id).toBe(created.id);
    expect(await repositories().gpts.find(newGptId())).toBeNull();
  });

  it('autosaves the draft without touching what was published, and numbers versions', async () => {
    const { account, workspace } = await builderAndWorkspace();
    const gpt = await repositories().gpts.create(params(workspace.id, account.id));
    time += 10;
    const first = await repositories().gpts.publish({
      id: gpt.id,
      config: gpt.draft,
      publishedBy: account.id,
      publishedVectorStoreId: null,
    });
    expect(first?.published).toMatchObject({
      version: 1,
      publishedAt: time,
      config: { name: 'Tide tables' },
    });

    time += 10;
    const edited = await repositories().gpts.updateDraft(gpt.id, {
      face: { name: 'Tides', conversationStarters: [] },
      assistant: { instructions: 'Be brief.' },
    });
    expect(edited?.draft).toMatchObject({
      name: 'Tides',
      instructions: 'Be brief.',
      model: 'atelier-tiny',
      conversationStarters: [],
      description: 'Answers about tides.',
    });
    expect(edited?.updatedAt).toBe(time);
    // Users still get version 1.
    expect(edited?.published).toMatchObject({
      version: 1,
      config: { name: 'Tide tables', instructions: 'Speak like a harbour master.' },
    });

    const second = await repositories().gpts.publish({
      id: gpt.id,
      config: edited!.draft,
      publishedBy: account.id,
      publishedVectorStoreId: 'vs_published',
    });
    expect(second?.published).toMatchObject({
      version: 2,
      config: { name: 'Tides', instructions: 'Be brief.' },
    });
    expect(second?.publishedVectorStoreId).toBe('vs_published');
    expect((await repositories().gpts.versions(gpt.id)).map((version) => version.version)).toEqual([2, 1]);
    expect(await repositories().gpts.updateDraft(newGptId(), { face: { name: 'x' } })).toBeNull();
  });

  it('refuses two publishes of the same version', async () => {
    const { account, workspace } = await builderAndWorkspace();
    const gpt = await repositories().gpts.create(params(workspace.id, account.id));
    const publish = () =>
      repositories().gpts.publish({
        id: gpt.id,
        config: gpt.draft,
        publishedBy: account.id,
        publishedVectorStoreId: null,
      });
    const outcomes = await Promise.allSettled([publish(), publish(), publish()]);
    const versions = await repositories().gpts.versions(gpt.id);
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    // However the writes interleave, each success made exactly one version and each loser was a 409.
    expect(versions.length).toBe(fulfilled);
    expect(versions.map((version) => version.version)).toEqual(
      Array.from({ length: fulfilled }, (_, index) => fulfilled - index),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toBeInstanceOf(AtelierError);
        expect((outcome.reason as AtelierError).status).toBe(409);
      }
    }
  });

  it('changes sharing at once; a new link drops the grants of the old one', async () => {
    const { account, workspace } = await builderAndWorkspace();
    const visitor = await repositories().accounts.create({ name: 'Visitor', email: null });
    const gpt = await repositories().gpts.create(params(workspace.id, account.id));
    await repositories().gpts.addLinkGrant(gpt.id, visitor.id);
    await repositories().gpts.addLinkGrant(gpt.id, visitor.id);
    expect(await repositories().gpts.hasLinkGrant(gpt.id, visitor.id)).toBe(true);

    const shared = await repositories().gpts.updateSharing(gpt.id, {
      visibility: 'link',
      category: 'education',
      allowTraining: true,
    });
    expect(shared).toMatchObject({ visibility: 'link', category: 'education', allowTraining: true });
    expect(await repositories().gpts.hasLinkGrant(gpt.id, visitor.id)).toBe(true);

    const rotated = await repositories().gpts.updateSharing(gpt.id, {
      link: { hash: 'new-hash', sealed: 's2' },
    });
    expect(rotated?.linkTokenHash).toBe('new-hash');
    expect(await repositories().gpts.findByLinkTokenHash(gpt.linkTokenHash)).toBeNull();
    expect(await repositories().gpts.hasLinkGrant(gpt.id, visitor.id)).toBe(false);
  });

  it("lists a builder's GPTs newest first in pages, and only published shared ones", async () => {
    const { account, workspace } = await builderAndWorkspace();
    const made = [];
    for (let index = 0; index < 3; index++) {
      made.push(await repositories().gpts.create(params(workspace.id, account.id)));
    }
    const first = await repositories().gpts.listForBuilder({ builderAccountId: account.id, limit: 2 });
    expect(first.data.map((gpt) => gpt.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.hasMore).toBe(true);
    const second = await repositories().gpts.listForBuilder({
      builderAccountId: account.id,
      limit: 2,
      after: first.data[1]!.id,
    });
    expect(second.data.map((gpt) => gpt.id)).toEqual([made[0]!.id]);
    expect(second.hasMore).toBe(false);

    await repositories().gpts.updateSharing(made[0]!.id, { visibility: 'workspace' });
    await repositories().gpts.updateSharing(made[1]!.id, { visibility: 'workspace' });
    await repositories().gpts.publish({
      id: made[1]!.id,
      config: made[1]!.draft,
      publishedBy: account.id,
      publishedVectorStoreId: null,
    });
    const shared = await repositories().gpts.listShared({
      scope: 'workspace',
      workspaceIds: [workspace.id],
      limit: 10,
    });
    // Never published: not shared yet.
    expect(shared.data.map((gpt) => gpt.id)).toEqual([made[1]!.id]);
    expect(
      (await repositories().gpts.listShared({ scope: 'workspace', workspaceIds: [], limit: 10 })).data,
    ).toEqual([]);
  });

  it('records the training choice of a conversation once, counts use, and deletes everything', async () => {
    const { account, workspace } = await builderAndWorkspace();
    const user = await repositories().accounts.create({ name: 'User', email: null });
    const gpt = await repositories().gpts.create(params(workspace.id, account.id));
    const chat = await repositories().chats.create({ accountId: user.id, title: 'Tides' });
    const thread = await repositories().threads.create({ workspaceId: workspace.id });

    const recorded = await repositories().gpts.recordConversation({
      gptId: gpt.id,
      conversation: { kind: 'chat', id: chat.id },
      accountId: user.id,
      workspaceId: workspace.id,
      version: 1,
      allowTraining: false,
    });
    expect(recorded).toMatchObject({
      kind: 'chat',
      conversationId: chat.id,
      allowTraining: false,
      version: 1,
    });
    // A later record of the same conversation keeps the choice it started under.
    const again = await repositories().gpts.recordConversation({
      gptId: gpt.id,
      conversation: { kind: 'chat', id: chat.id },
      accountId: user.id,
      workspaceId: workspace.id,
      version: 2,
      allowTraining: true,
    });
    expect(again).toMatchObject({ allowTraining: false, version: 1 });
    await repositories().gpts.recordConversation({
      gptId: gpt.id,
      conversation: { kind: 'thread', id: thread.id },
      accountId: user.id,
      workspaceId: workspace.id,
      version: null,
      allowTraining: true,
    });
    expect(await repositories().gpts.usage(gpt.id)).toEqual({ conversations: 2, users: 1 });
    expect((await repositories().gpts.conversationsOf(thread.id))[0]).toMatchObject({
      kind: 'thread',
      allowTraining: true,
    });

    // The conversation goes, its record with it.
    await repositories().chats.delete(user.id, chat.id);
    expect(await repositories().gpts.usage(gpt.id)).toEqual({ conversations: 1, users: 1 });

    expect(await repositories().gpts.delete(gpt.id)).toBe(true);
    expect(await repositories().gpts.find(gpt.id)).toBeNull();
    expect(await repositories().assistants.find(workspace.id, gpt.assistantId)).toBeNull();
    expect(await repositories().gpts.conversationsOf(thread.id)).toEqual([]);
    expect(await repositories().gpts.delete(gpt.id)).toBe(false);
  });
});
