// "Chat history & training", over real HTTP on both databases: with the account's switch off,
// every new chat is temporary: its owner can open it, but it is not listed or found by search,
// it never reaches a training export, and the server's sweep deletes it 30 days after creation
// (the tests move the clock forward rather than wait).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatsService } from '../../packages/server/src/platform/chats-service.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const DAY = 24 * 60 * 60;

/** A question and its complete answer, as the history API takes them. */
const exchange = (question: string, answer: string) => [
  { id: 'q1', parent_id: null, role: 'user', content: question, created_at: 1_700_000_000 },
  { id: 'a1', parent_id: 'q1', role: 'assistant', content: answer, model: MODEL, created_at: 1_700_000_001 },
];

for (const dialect of DIALECTS) {
  describe(`chat history and training [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let ada: Visitor;
    let bob: Visitor;

    /** The chats service over the server's own database, with its clock at `now`. */
    const chatsAt = (now: number) =>
      createChatsService({ repositories: server.server.storage.repositories, now: () => now });

    const titles = async (visitor: Visitor, search = '') =>
      (
        await visitor.call('GET', `/api/chats${search ? `?search=${encodeURIComponent(search)}` : ''}`)
      ).body.data.map((chat: Json) => chat.title);

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      const origin = server.baseURL.replace(/\/v1$/, '');
      ada = new Visitor(origin);
      bob = new Visitor(origin);
      expect((await ada.signUp('Ada', 'ada@example.com')).status).toBe(201);
      expect((await bob.signUp('Bob', 'bob@example.com')).status).toBe(201);
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    it('keeps the switch on the account: on by default, off on request, in the session', async () => {
      expect((await ada.call('GET', '/api/session')).body.preferences.chat_history_enabled).toBe(true);
      const saved = await ada.call('PATCH', '/api/account/preferences', {
        body: { chat_history_enabled: false },
      });
      expect(saved.status).toBe(200);
      expect(saved.body.chat_history_enabled).toBe(false);
      expect((await ada.call('GET', '/api/session')).body.preferences.chat_history_enabled).toBe(false);
      expectEnvelope(
        await ada.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: 'no' } }),
        400,
        null,
      );
      // Bob's switch is his own.
      expect((await bob.call('GET', '/api/session')).body.preferences.chat_history_enabled).toBe(true);
    });

    it('makes every new chat temporary while history is off: not listed, not found, still its owner’s', async () => {
      const created = await ada.call('POST', '/api/chats', {
        body: {
          title: 'Private diagnosis',
          temporary: false,
          messages: exchange('My symptoms', 'See a doctor'),
        },
      });
      expect(created.status).toBe(201);
      expect(created.body.temporary).toBe(true);
      expect(await titles(ada)).not.toContain('Private diagnosis');
      expect(await titles(ada, 'symptoms')).toEqual([]);
      expect(await titles(ada, 'diagnosis')).toEqual([]);
      // Its owner can open it (a reload keeps it on screen); nobody else can.
      const opened = await ada.call('GET', `/api/chats/${created.body.id}`);
      expect(opened.status).toBe(200);
      expect(opened.body.messages.map((message: Json) => message.content)).toEqual([
        'My symptoms',
        'See a doctor',
      ]);
      expectEnvelope(await bob.call('GET', `/api/chats/${created.body.id}`), 404, null);

      // Turned back on, new chats are listed again; the temporary one stays temporary.
      await ada.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: true } });
      const listed = await ada.call('POST', '/api/chats', {
        body: { title: 'Garden plans', messages: exchange('Roses?', 'Yes') },
      });
      expect(listed.body.temporary).toBe(false);
      expect(await titles(ada)).toEqual(['Garden plans']);
      expect((await ada.call('GET', `/api/chats/${created.body.id}`)).body.temporary).toBe(true);
    });

    it('never exports a temporary chat, or any chat of someone whose history is off, for training', async () => {
      await bob.call('POST', '/api/chats', {
        body: { title: 'Bob trains', messages: exchange('2+2?', '4') },
      });
      await bob.call('POST', '/api/chats', {
        body: { title: 'Bob hides', temporary: true, messages: exchange('Secret question', 'Secret answer') },
      });
      const exported = async () => {
        const examples: string[] = [];
        for await (const example of chatsAt(Math.floor(Date.now() / 1000)).trainingExamples()) {
          examples.push(example.messages.map((message) => `${message.role}: ${message.content}`).join(' | '));
        }
        return examples.sort();
      };
      expect(await exported()).toEqual(['user: 2+2? | assistant: 4', 'user: Roses? | assistant: Yes']);

      // Ada turns history off: none of her chats leave for training any more, old ones included.
      await ada.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: false } });
      expect(await exported()).toEqual(['user: 2+2? | assistant: 4']);
      await ada.call('PATCH', '/api/account/preferences', { body: { chat_history_enabled: true } });
    });

    it('sweeps temporary chats 30 days after they were created, and nothing else', async () => {
      const temporary = await bob.call('POST', '/api/chats', {
        body: { title: 'Old secret', temporary: true, messages: exchange('Hidden', 'Kept a while') },
      });
      const kept = await bob.call('POST', '/api/chats', { body: { title: 'Old but listed', messages: [] } });
      const created = temporary.body.created_at as number;

      // 29 days on: still there. Changing it does not push its deletion back.
      expect(await chatsAt(created + 29 * DAY).deleteExpiredTemporary()).toBe(0);
      await bob.call('PATCH', `/api/chats/${temporary.body.id}`, { body: { title: 'Still secret' } });
      expect((await bob.call('GET', `/api/chats/${temporary.body.id}`)).status).toBe(200);

      // 30 days and a second on: the temporary chats are gone (the other two of this file too).
      expect(await chatsAt(created + 30 * DAY + 1).deleteExpiredTemporary()).toBe(3);
      expectEnvelope(await bob.call('GET', `/api/chats/${temporary.body.id}`), 404, null);
      expect((await bob.call('GET', `/api/chats/${kept.body.id}`)).status).toBe(200);
      expect(await titles(bob)).toEqual(['Old but listed', 'Bob trains']);
    });
  });
}
