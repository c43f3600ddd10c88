// "Export data": `GET /api/account/export` gives the signed-in person everything they keep here
// as one JSON download: account, preferences, workspaces, the files of their personal workspace,
// the GPTs they built, and every chat (temporary ones too) with all its versions; nothing of
// anyone else's. Over real HTTP on both databases.
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { signUpPeople, webOrigin } from '../support/people.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const exchange = (question: string, answer: string) => [
  { id: 'q1', parent_id: null, role: 'user', content: question, created_at: 1_700_000_000 },
  { id: 'a1', parent_id: 'q1', role: 'assistant', content: answer, model: MODEL, created_at: 1_700_000_001 },
];

for (const dialect of DIALECTS) {
  describe(`exporting one’s data [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let origin: string;
    let ada: Visitor;
    let bob: Visitor;

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      origin = webOrigin(server);
      [ada, bob] = await signUpPeople(server, 'Ada', 'Bob');
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    it('refuses a visitor without a session', async () => {
      expectEnvelope(await new Visitor(origin).call('GET', '/api/account/export'), 401, 'not_signed_in');
    });

    it('downloads everything of the person’s, and nothing of anyone else’s', async () => {
      await ada.call('PATCH', '/api/account/preferences', {
        body: { about_me: 'I keep bees.', theme: 'dark' },
      });
      const kept = await ada.call('POST', '/api/chats', {
        body: { title: 'Bees', messages: exchange('How many bees in a hive?', 'About 50,000.') },
      });
      const temporary = await ada.call('POST', '/api/chats', {
        body: { title: 'Secret', temporary: true, messages: exchange('Off the record?', 'Yes.') },
      });
      await bob.call('POST', '/api/chats', { body: { title: 'Bob’s', messages: exchange('Bob?', 'Bob.') } });
      const notes = await ada.sdk(server).files.create({
        file: await toFile(Buffer.from('Hive notes'), 'hive-notes.txt'),
        purpose: 'assistants',
      });
      const gpt = await ada.call('POST', '/api/gpts', {
        body: { name: 'Beekeeper', instructions: 'Answer about bees.', conversation_starters: ['Swarm?'] },
      });
      expect(gpt.status).toBe(201);

      const response = await fetch(`${origin}/api/account/export`, { headers: { cookie: ada.cookie! } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="atelier-export-\d{4}-\d{2}-\d{2}\.json"$/,
      );
      expect(response.headers.get('cache-control')).toBe('no-store');
      const exported: Json = await response.json();

      expect(exported).toMatchObject({
        object: 'account_export',
        exported_at: expect.any(Number),
        account: { name: 'Ada', email: 'ada@example.com' },
        preferences: { about_me: 'I keep bees.', theme: 'dark' },
      });
      expect(exported.workspaces.length).toBeGreaterThan(0);
      expect(exported.chats.map((chat: Json) => chat.title).sort()).toEqual(['Bees', 'Secret']);
      expect(exported.chats.find((chat: Json) => chat.id === kept.body.id)).toMatchObject({
        temporary: false,
        messages: [
          { id: 'q1', role: 'user', content: 'How many bees in a hive?' },
          { id: 'a1', role: 'assistant', content: 'About 50,000.' },
        ],
      });
      expect(exported.chats.find((chat: Json) => chat.id === temporary.body.id).temporary).toBe(true);
      expect(exported.files).toEqual([
        expect.objectContaining({
          id: notes.id,
          filename: 'hive-notes.txt',
          bytes: 10,
          purpose: 'assistants',
        }),
      ]);
      expect(exported.gpts).toEqual([
        expect.objectContaining({
          id: gpt.body.id,
          draft: expect.objectContaining({
            name: 'Beekeeper',
            instructions: 'Answer about bees.',
            conversation_starters: ['Swarm?'],
          }),
        }),
      ]);
      expect(JSON.stringify(exported)).not.toContain('Bob');

      // Bob's export is his alone.
      const bobs: Json = await (
        await fetch(`${origin}/api/account/export`, { headers: { cookie: bob.cookie! } })
      ).json();
      expect(bobs.chats.map((chat: Json) => chat.title)).toEqual(['Bob’s']);
      expect(bobs.files).toEqual([]);
      expect(bobs.gpts).toEqual([]);
    });
  });
}
