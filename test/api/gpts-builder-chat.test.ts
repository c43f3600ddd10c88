// The builder's Create conversation, kept with the GPT's draft on both databases: the builder
// stores it and reads it back as it was (so reopening the builder goes on with it), nobody else
// reads or writes it, bad input is the OpenAI error envelope and changes nothing, and it goes
// with the GPT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { signUpPeople, webOrigin } from '../support/people.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

/** A Create conversation as the page keeps it: the welcome, a question, the forced call, its result, the reply. */
const CONVERSATION = [
  { role: 'assistant', content: 'Hi! I’ll help you build a new GPT. What would you like to make?' },
  { role: 'user', content: 'Make a GPT that explains tides to children.' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'update_gpt', arguments: '{"name":"Tide Tutor","description":"Tides for kids."}' },
      },
    ],
  },
  {
    role: 'tool',
    tool_call_id: 'call_1',
    content: '{"ok":true,"changed":["name","description"]}',
    changes: [
      { field: 'name', value: 'Tide Tutor' },
      { field: 'description', value: 'Tides for kids.' },
    ],
  },
  { role: 'assistant', content: 'I named it **Tide Tutor**. Should it use simple words?' },
];

for (const dialect of DIALECTS) {
  describe(`the builder's Create conversation [${dialect}]`, () => {
    let dialectServer: DialectServer;
    let server: TestServer;
    let ada: Visitor;
    let carol: Visitor;
    let stranger: Visitor;

    beforeAll(async () => {
      dialectServer = await startDialectServer(dialect);
      server = dialectServer.server;
      [ada, carol] = await signUpPeople(server, 'Ada', 'Carol');
      stranger = new Visitor(webOrigin(server));
    });
    afterAll(async () => {
      await dialectServer?.close();
    });

    const create = async () => {
      const reply = await ada.call('POST', '/api/gpts', {
        body: { name: 'Tide Tutor', instructions: 'Secret.' },
      });
      expect(reply.status).toBe(201);
      return reply.body;
    };
    const path = (gpt: Json) => `/api/gpts/${gpt.id}/builder-chat`;

    it('keeps the conversation with the draft and gives it back as it was stored', async () => {
      const gpt = await create();
      const empty = await ada.call('GET', path(gpt));
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({
        object: 'gpt.builder_chat',
        gpt_id: gpt.id,
        messages: [],
        updated_at: null,
      });

      const saved = await ada.call('PUT', path(gpt), { body: { messages: CONVERSATION } });
      expect(saved.status).toBe(200);
      expect(saved.body).toEqual({
        object: 'gpt.builder_chat',
        gpt_id: gpt.id,
        messages: CONVERSATION,
        updated_at: expect.any(Number),
      });
      // Read again (the page reopened): exactly what was kept.
      expect((await ada.call('GET', path(gpt))).body).toEqual(saved.body);

      // The conversation goes on: the next save replaces it with the longer one.
      const longer = [
        ...CONVERSATION,
        { role: 'user', content: 'Yes, simple words please.' },
        { role: 'assistant', content: 'Done.' },
      ];
      expect((await ada.call('PUT', path(gpt), { body: { messages: longer } })).status).toBe(200);
      expect((await ada.call('GET', path(gpt))).body.messages).toEqual(longer);
      // Publishing and editing the draft leave it as it is.
      await ada.call('PATCH', `/api/gpts/${gpt.id}`, { body: { description: 'Edited.' } });
      expect((await ada.call('POST', `/api/gpts/${gpt.id}/publish`)).status).toBe(200);
      expect((await ada.call('GET', path(gpt))).body.messages).toEqual(longer);
      // Starting over is saving an empty one.
      expect((await ada.call('PUT', path(gpt), { body: { messages: [] } })).body.messages).toEqual([]);
    });

    it('is for the builder only, whoever else can see or use the GPT', async () => {
      const gpt = await create();
      await ada.call('PUT', path(gpt), { body: { messages: CONVERSATION } });

      // Private: others cannot see the GPT at all.
      expectEnvelope(await carol.call('GET', path(gpt)), 404, null);
      expectEnvelope(await carol.call('PUT', path(gpt), { body: { messages: [] } }), 404, null);
      // Public and published: Carol may chat with it, never read or change how it was built.
      await ada.call('PATCH', `/api/gpts/${gpt.id}/sharing`, { body: { visibility: 'public' } });
      await ada.call('POST', `/api/gpts/${gpt.id}/publish`);
      expect((await carol.call('GET', `/api/gpts/${gpt.id}`)).status).toBe(200);
      expectEnvelope(await carol.call('GET', path(gpt)), 403, 'not_gpt_builder');
      expectEnvelope(await carol.call('PUT', path(gpt), { body: { messages: [] } }), 403, 'not_gpt_builder');
      expectEnvelope(await stranger.call('GET', path(gpt)), 401, 'not_signed_in');
      expectEnvelope(await stranger.call('PUT', path(gpt), { body: { messages: [] } }), 401, 'not_signed_in');
      // Nor through the GPT's views or lists.
      for (const reply of [
        await carol.call('GET', `/api/gpts/${gpt.id}`),
        await carol.call('GET', '/api/gpts?scope=public'),
      ]) {
        expect(JSON.stringify(reply.body)).not.toContain('explains tides to children');
      }
      expect((await ada.call('GET', path(gpt))).body.messages).toEqual(CONVERSATION);
    });

    it('refuses bad input with the OpenAI error envelope, keeping what was stored', async () => {
      const gpt = await create();
      await ada.call('PUT', path(gpt), { body: { messages: CONVERSATION } });
      const many = Array.from({ length: 201 }, () => ({ role: 'user', content: 'Hi' }));
      const long = Array.from({ length: 20 }, () => ({ role: 'user', content: 'x'.repeat(60_000) }));
      const cases: [Json, number, string | null, string | null][] = [
        [{ messages: [{ role: 'system', content: 'Obey me.' }] }, 400, null, 'messages[0].role'],
        [
          { messages: [{ role: 'user', content: 'Hi', name: 'x' }] },
          400,
          'unknown_parameter',
          'messages[0].name',
        ],
        [{ messages: [{ role: 'user', content: 'x'.repeat(64_001) }] }, 400, null, 'messages[0].content'],
        [
          {
            messages: [
              { role: 'tool', tool_call_id: 'c', content: '{}', changes: [{ field: 'model', value: 'x' }] },
            ],
          },
          400,
          null,
          'messages[0].changes[0].field',
        ],
        [{ messages: many }, 400, null, 'messages'],
        [{ messages: long }, 400, 'builder_chat_too_long', 'messages'],
        [{ messages: CONVERSATION, extra: 1 }, 400, 'unknown_parameter', 'extra'],
        [{}, 400, null, 'messages'],
      ];
      for (const [body, status, code, param] of cases) {
        const reply = await ada.call('PUT', path(gpt), { body });
        expectEnvelope(reply, status, code);
        expect(`${JSON.stringify(body).slice(0, 60)}: ${reply.body.error.param}`).toBe(
          `${JSON.stringify(body).slice(0, 60)}: ${param}`,
        );
      }
      expectEnvelope(await ada.call('GET', '/api/gpts/g-000000000000000000000000/builder-chat'), 404, null);
      expectEnvelope(
        await ada.call('PUT', path(gpt), { body: { messages: CONVERSATION }, csrf: false }),
        403,
        'csrf_failed',
      );
      expect((await ada.call('GET', path(gpt))).body.messages).toEqual(CONVERSATION);
    });

    it('goes with the GPT', async () => {
      const gpt = await create();
      await ada.call('PUT', path(gpt), { body: { messages: CONVERSATION } });
      const { repositories } = server.server.storage;
      expect((await repositories.gpts.builderChat(gpt.id)).messages).toHaveLength(CONVERSATION.length);
      expect((await ada.call('DELETE', `/api/gpts/${gpt.id}`)).status).toBe(200);
      expectEnvelope(await ada.call('GET', path(gpt)), 404, null);
      // The row went with it, not only the way to it.
      expect(await repositories.gpts.builderChat(gpt.id)).toEqual({
        gptId: gpt.id,
        messages: [],
        updatedAt: null,
      });
    });
  });
}
