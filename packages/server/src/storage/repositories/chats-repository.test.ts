import { randomBase62 } from '@atelier/protocol';
import { expect, it } from 'vitest';
import { createRepositories } from '../repositories.js';
import { describeEachDialect } from '../test-support/dialects.js';
import type { ChatMessage } from './chats-repository.js';

const message = (id: string, parentId: string | null, content: string): ChatMessage => ({
  id,
  parentId,
  role: parentId === null ? 'user' : 'assistant',
  content,
  model: null,
  status: 'complete',
  createdAt: 1,
});

describeEachDialect('chats repository', (getHandle) => {
  let time = 1_700_000_000;
  const repositories = () => createRepositories(getHandle().db, { now: () => time });
  const newAccount = () =>
    repositories().accounts.create({ name: 'Someone', email: `${randomBase62(10)}@example.com` });

  it('stores a message tree and gives it back, only to its owner', async () => {
    const owner = await newAccount();
    const other = await newAccount();
    const messages = [message('q', null, 'Where is Jeju?'), message('a', 'q', 'An island in Korea.')];
    const chat = await repositories().chats.create({
      accountId: owner.id,
      title: 'Jeju',
      messages,
      currentNodeId: 'a',
    });
    expect(await repositories().chats.find(owner.id, chat.id)).toEqual({
      id: chat.id,
      accountId: owner.id,
      title: 'Jeju',
      temporary: false,
      model: null,
      messages,
      currentNodeId: 'a',
      createdAt: time,
      updatedAt: time,
      workspaceId: null,
      assistantId: null,
      gptId: null,
    });
    expect(await repositories().chats.find(other.id, chat.id)).toBeNull();
    expect(await repositories().chats.update(other.id, chat.id, { title: 'Mine' })).toBeNull();
    expect(await repositories().chats.delete(other.id, chat.id)).toBe(false);
    expect((await repositories().chats.find(owner.id, chat.id))?.title).toBe('Jeju');
  });

  it('lists most recently changed first, in pages, without temporary chats', async () => {
    const owner = await newAccount();
    const chats = repositories().chats;
    const a = await chats.create({ accountId: owner.id, title: 'A' });
    const b = await chats.create({ accountId: owner.id, title: 'B' });
    await chats.create({ accountId: owner.id, title: 'T', temporary: true });
    const c = await chats.create({ accountId: owner.id, title: 'C' });
    await chats.update(owner.id, a.id, { title: 'A2' });
    const first = await chats.list({ accountId: owner.id, limit: 2 });
    expect(first.data.map((chat) => chat.title)).toEqual(['A2', 'C']);
    expect(first.hasMore).toBe(true);
    const second = await chats.list({ accountId: owner.id, limit: 2, after: c.id });
    expect(second.data.map((chat) => chat.id)).toEqual([b.id]);
    expect(second.hasMore).toBe(false);
  });

  it('searches titles and message text, not the JSON around them', async () => {
    const owner = await newAccount();
    const chats = repositories().chats;
    await chats.create({
      accountId: owner.id,
      title: 'Recipes',
      messages: [message('q', null, 'Kimchi stew')],
    });
    await chats.create({
      accountId: owner.id,
      title: 'Travel',
      messages: [message('q', null, '100% sure_thing')],
    });
    const titles = async (search: string) =>
      (await chats.list({ accountId: owner.id, limit: 10, search })).data.map((chat) => chat.title);
    expect(await titles('KIMCHI')).toEqual(['Recipes']);
    expect(await titles('travel')).toEqual(['Travel']);
    expect(await titles('100%')).toEqual(['Travel']);
    expect(await titles('e_t')).toEqual(['Travel']);
    expect(await titles('parentId')).toEqual([]);
  });

  it('deletes temporary chats older than a moment, and nothing else', async () => {
    const owner = await newAccount();
    const chats = repositories().chats;
    time = 1_800_000_000;
    const old = await chats.create({ accountId: owner.id, title: 'old', temporary: true });
    const kept = await chats.create({ accountId: owner.id, title: 'kept' });
    time += 100;
    const recent = await chats.create({ accountId: owner.id, title: 'recent', temporary: true });
    expect(await chats.deleteTemporaryBefore(time)).toBeGreaterThanOrEqual(1);
    expect(await chats.find(owner.id, old.id)).toBeNull();
    expect(await chats.find(owner.id, kept.id)).not.toBeNull();
    expect(await chats.find(owner.id, recent.id)).not.toBeNull();
  });
});
