// Web chats with a GPT, on both databases, over real HTTP: a person starts a chat with a public
// GPT (`gpt_id`), its answers are runs on the GPT (the scripted model sees its instructions), the
// history lists the chat with the GPT's face, continuing and regenerating keep the GPT, and
// neither another person nor the GPT's builder can read it. An action call awaiting consent
// leaves the answer `pending` with the held calls; after the person's answer `…/continue` makes
// the allowed call (or tells the model of the Decline, sending nothing) and the answer appears in
// the same message, after what the model said before the call (other devices hear the new words
// at offsets after it). A GPT no longer shared leaves its chats readable and unanswerable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  type LocalServer,
  sendJson,
  startLocalServer,
} from '../../packages/server/src/tools/outbound/test-support/local-server.js';
import { signUpPeople, webOrigin } from '../support/people.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { tasksDocument } from '../support/tasks-openapi.js';
import { expectEnvelope, type Json, parseSse, type SseEvent, type Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const MODEL = 'scripted/coder';
const INSTRUCTIONS = 'You are the harbour keeper of Seogwipo. Always mention the tide.';

for (const dialect of DIALECTS) {
  describe(`web chats with a GPT [${dialect}]`, () => {
    let upstream: ScriptedUpstream;
    let tasksApi: LocalServer;
    let dialectServer: DialectServer;
    let server: TestServer;
    let origin: string;
    let ada: Visitor;
    let carol: Visitor;
    let bea: Visitor;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      tasksApi = await startLocalServer((request, response) => {
        if (request.method === 'GET') return sendJson(response, 200, [{ id: 1, title: 'Buy rope' }]);
        return sendJson(response, 201, { id: 2, ...JSON.parse(request.body || '{}') });
      });
      dialectServer = await startDialectServer(dialect, {
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'script', base_url: upstream.baseUrl, prefix: 'scripted/' },
        ]),
        ATELIER_OUTBOUND_ALLOW: '127.0.0.1',
      });
      server = dialectServer.server;
      origin = webOrigin(server);
      [ada, carol, bea] = await signUpPeople(server, 'Ada', 'Carol', 'Bea');
    });
    afterAll(async () => {
      await dialectServer?.close();
      await upstream?.close();
      await tasksApi?.close();
    });

    /** A GPT of Ada's, published for everyone. */
    const publicGpt = async (body: Json) => {
      const created = await ada.call('POST', '/api/gpts', {
        body: {
          name: 'Harbour keeper',
          model: MODEL,
          instructions: INSTRUCTIONS,
          visibility: 'public',
          ...body,
        },
      });
      expect(created.status).toBe(201);
      expect((await ada.call('POST', `/api/gpts/${created.body.id}/publish`)).status).toBe(200);
      return created.body;
    };

    /** Reads the chat until `answerId` is no longer being written. */
    const settled = async (visitor: Visitor, chatId: string, answerId: string): Promise<Json> => {
      for (;;) {
        const chat = (await visitor.call('GET', `/api/chats/${chatId}`)).body;
        const answer = chat.messages.find((message: Json) => message.id === answerId);
        if (answer?.status !== 'in_progress') return { chat, answer };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    /** Listens to the person's live events, as another device does, until `stop`. */
    const listen = async (visitor: Visitor) => {
      const abort = new AbortController();
      const response = await fetch(`${origin}/api/events`, {
        headers: { cookie: visitor.cookie!, accept: 'text/event-stream' },
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let ready: () => void = () => {};
      const opened = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const reading = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            text += decoder.decode(value, { stream: true });
            if (text.includes('event: ready')) ready();
          }
        } catch {
          // Stopped.
        }
      })();
      await opened;
      /** The whole events heard so far, pings left out. */
      const events = () =>
        parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2)).filter((event) => event.event !== 'ping');
      return {
        events,
        /** Ends the stream; its whole events, pings left out. */
        async stop() {
          abort.abort();
          await reading;
          return events();
        },
      };
    };

    /** The system prompt of the model's newest request. */
    const systemPrompt = () => {
      const messages = upstream.requests.at(-1)!['messages'] as { role: string; content: string }[];
      return messages.find((message) => message.role === 'system')?.content ?? '';
    };

    let gpt: Json;
    let chatId: string;

    it("starts a chat with a public GPT: answered with the GPT's instructions, listed with its face", async () => {
      gpt = await publicGpt({});
      const question = 'When is high tide?';
      upstream.script(question, [{ text: 'At 06:42, says the harbour keeper.' }]);
      const started = await carol.call('POST', '/api/chats', {
        body: {
          gpt_id: gpt.id,
          title: 'Tides',
          message: { id: 'q1', content: question, answer_id: 'a1' },
        },
      });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({
        chat: {
          title: 'Tides',
          model: `gpt-${gpt.id}`,
          gpt_id: gpt.id,
          gpt: { id: gpt.id, name: 'Harbour keeper', avatar_url: null, available: true },
        },
        answer: { id: 'a1', status: 'in_progress', model: `gpt-${gpt.id}` },
      });
      chatId = started.body.chat.id;
      const { chat, answer } = await settled(carol, chatId, 'a1');
      expect(answer).toMatchObject({ status: 'complete', content: 'At 06:42, says the harbour keeper.' });
      expect(systemPrompt()).toContain(INSTRUCTIONS);
      // The run names the GPT, never its instructions or model.
      const run = await carol
        .sdk(server)
        .beta.threads.runs.retrieve(answer.run_id, { thread_id: answer.thread_id });
      expect(run).toMatchObject({ assistant_id: gpt.id, instructions: '', model: `gpt-${gpt.id}` });
      expect(JSON.stringify(chat)).not.toContain(INSTRUCTIONS);

      const history = await carol.call('GET', '/api/chats');
      expect(history.body.data).toEqual([
        expect.objectContaining({
          id: chatId,
          title: 'Tides',
          gpt_id: gpt.id,
          gpt: { id: gpt.id, name: 'Harbour keeper', avatar_url: null, available: true },
        }),
      ]);
      // Recorded as a conversation with the GPT, under its builder's training choice (no).
      const recorded = await server.server.storage.repositories.gpts.conversationsOf(chatId);
      expect(recorded).toEqual([
        expect.objectContaining({ gptId: gpt.id, kind: 'chat', allowTraining: false }),
      ]);
    });

    it('continues and regenerates with the GPT; counts the chat once for its builder', async () => {
      const question = 'And the low tide?';
      upstream.script(question, [{ text: 'At 12:50.' }]);
      const asked = await carol.call('POST', `/api/chats/${chatId}/messages`, {
        body: { id: 'q2', parent_id: 'a1', content: question, answer_id: 'a2' },
      });
      expect(asked.status).toBe(200);
      expect((await settled(carol, chatId, 'a2')).answer).toMatchObject({
        status: 'complete',
        content: 'At 12:50.',
      });
      expect(systemPrompt()).toContain(INSTRUCTIONS);

      // Another answer to the same question: a new thread with a copy, on the same GPT.
      upstream.script(question, [{ text: 'Just before one.' }]);
      const again = await carol.call('POST', `/api/chats/${chatId}/messages/q2/answers`, {
        body: { answer_id: 'a2b' },
      });
      expect(again.status).toBe(200);
      const { answer } = await settled(carol, chatId, 'a2b');
      expect(answer).toMatchObject({
        status: 'complete',
        content: 'Just before one.',
        model: `gpt-${gpt.id}`,
      });
      expect(systemPrompt()).toContain(INSTRUCTIONS);

      // A GPT's chat takes no other model.
      expectEnvelope(
        await carol.call('POST', `/api/chats/${chatId}/messages`, {
          body: { id: 'q3', parent_id: 'a2b', content: 'Hi', answer_id: 'a3', model: MODEL },
        }),
        400,
        null,
      );
      // The builder sees counts only: one chat (its two threads are not counted again), one person.
      expect((await ada.call('GET', `/api/gpts/${gpt.id}`)).body.usage).toEqual({
        conversations: 1,
        users: 1,
      });
    });

    it('is read by nobody but the person: not by another user, not by the builder', async () => {
      expectEnvelope(await bea.call('GET', `/api/chats/${chatId}`), 404, null);
      expectEnvelope(await ada.call('GET', `/api/chats/${chatId}`), 404, null);
      expect((await ada.call('GET', '/api/chats')).body.data).toEqual([]);
      expect((await bea.call('GET', '/api/chats')).body.data).toEqual([]);
      expectEnvelope(
        await ada.call('POST', `/api/chats/${chatId}/messages`, {
          body: { id: 'x1', parent_id: 'a2b', content: 'Peek', answer_id: 'x2' },
        }),
        404,
        null,
      );
    });

    it('refuses a GPT the person may not chat with, and a plain chat without a model', async () => {
      const hidden = await ada.call('POST', '/api/gpts', { body: { name: 'Private log', model: MODEL } });
      const refused = await carol.call('POST', '/api/chats', {
        body: { gpt_id: hidden.body.id, message: { id: 'q1', content: 'Hello', answer_id: 'a1' } },
      });
      expectEnvelope(refused, 404, null);
      expect(refused.body.error.param).toBe('gpt_id');
      const plain = await carol.call('POST', '/api/chats', {
        body: { message: { id: 'q1', content: 'Hello', answer_id: 'a1' } },
      });
      expectEnvelope(plain, 400, null);
      expect(plain.body.error.param).toBe('model');
      // Neither left a chat behind.
      expect((await carol.call('GET', '/api/chats')).body.data.map((chat: Json) => chat.id)).toEqual([
        chatId,
      ]);
    });

    it('waits for consent before an action call, then continues the same answer; Decline sends nothing', async () => {
      const action = await ada.call('POST', '/api/actions', {
        body: {
          text: tasksDocument(tasksApi.url),
          auth: { type: 'none' },
          privacy_policy_url: 'https://tasks.example/privacy',
        },
      });
      expect(action.status).toBe(201);
      const tasks = await publicGpt({ name: 'Task keeper', action_ids: [action.body.id] });
      const question = 'What is on my list?';
      // The model says a word before it calls: the answer keeps it when it goes on.
      const before = 'Let me check your list.';
      upstream.script(question, [
        { text: before, call: { name: 'listTasks', arguments: {} } },
        { text: 'Rope.' },
      ]);
      const sentBefore = tasksApi.requests.length;

      // Streamed, as the page asks: the run ends incomplete, naming the held call.
      const response = await fetch(`${origin}/api/chats`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: carol.cookie!,
          'x-atelier-csrf': carol.csrf!,
        },
        body: JSON.stringify({
          gpt_id: tasks.id,
          message: { id: 'q1', content: question, answer_id: 'a1', stream: true },
        }),
      });
      expect(response.status).toBe(200);
      const events = parseSse(await response.text());
      const tasksChat = events[0]!.data.chat.id;
      const ended = events.find((event) => event.event === 'thread.run.incomplete');
      expect(ended?.data.atelier_pending_actions).toEqual([
        expect.objectContaining({ type: 'consent_required', operation: 'listTasks', domain: '127.0.0.1' }),
      ]);
      const { answer: pending } = await settled(carol, tasksChat, 'a1');
      expect(pending).toMatchObject({
        status: 'pending',
        content: before,
        parts: [{ type: 'text', text: { value: before, annotations: [] } }],
        pending_actions: [
          expect.objectContaining({
            type: 'consent_required',
            action_id: action.body.id,
            operation: 'listTasks',
            can_always_allow: true,
            preview: expect.objectContaining({ method: 'GET', url: `${tasksApi.url}/tasks` }),
          }),
        ],
      });
      expect(tasksApi.requests.length).toBe(sentBefore);

      // Only a pending answer goes on (the first chat's are complete).
      expectEnvelope(
        await carol.call('POST', `/api/chats/${chatId}/messages/a1/continue`, { body: {} }),
        409,
        'answer_not_pending',
      );
      const allowed = await carol.call('POST', `/api/gpts/${tasks.id}/consents`, {
        body: {
          action_id: action.body.id,
          domain: '127.0.0.1',
          operation: 'listTasks',
          decision: 'allow_once',
        },
      });
      expect(allowed.status).toBe(200);
      const otherDevice = await listen(carol);
      const continued = await carol.call('POST', `/api/chats/${tasksChat}/messages/a1/continue`, {
        body: {},
      });
      expect(continued.status).toBe(200);
      expect(continued.body.answer).toMatchObject({ id: 'a1', status: 'in_progress', content: before });
      // While it is written, and once it is done: the first run's words, then the new run's.
      const going = (await carol.call('GET', `/api/chats/${tasksChat}`)).body.messages.find(
        (message: Json) => message.id === 'a1',
      );
      expect(going.status === 'complete' || going.content.startsWith(before)).toBe(true);
      const { answer: done } = await settled(carol, tasksChat, 'a1');
      expect(done).toMatchObject({
        status: 'complete',
        content: `${before}\n\nRope.`,
        parts: [
          { type: 'text', text: { value: before, annotations: [] } },
          { type: 'text', text: { value: 'Rope.', annotations: [] } },
        ],
      });
      expect(done.pending_actions).toBeUndefined();
      // Another device of Carol's hears the new words where the earlier ones end. The last of them
      // may come a little after the answer is saved (words are sent every 50 ms, and the machine
      // may be busy): heard up to the end of the saved answer, or the deadline, then compared.
      const deltasIn = (events: readonly SseEvent[]) =>
        events
          .filter((event) => event.event === 'chat.answer.delta' && event.data.chat_id === tasksChat)
          .map((event) => event.data);
      await expect
        .poll(
          () =>
            Math.max(
              before.length,
              ...deltasIn(otherDevice.events()).map((delta) => delta.offset + delta.delta.length),
            ),
          { timeout: 10_000, message: 'the other device heard the answer up to its end' },
        )
        .toBeGreaterThanOrEqual(done.content.length);
      const deltas = deltasIn(await otherDevice.stop());
      expect(deltas[0]).toMatchObject({ message_id: 'a1', offset: before.length });
      let heard = before;
      for (const delta of deltas) {
        expect(delta.offset).toBe(heard.length);
        heard += delta.delta;
      }
      expect(heard).toBe(done.content);
      expect(tasksApi.requests.length).toBe(sentBefore + 1);
      expect(tasksApi.requests.at(-1)).toMatchObject({ method: 'GET', url: '/tasks' });
      // Once done, it is not pending any more.
      expectEnvelope(
        await carol.call('POST', `/api/chats/${tasksChat}/messages/a1/continue`, { body: {} }),
        409,
        'answer_not_pending',
      );

      // Decline: the model hears it, nothing is sent.
      const add = 'Add rope to my list';
      upstream.script(add, [
        { call: { name: 'addTask', arguments: { title: 'Rope' } } },
        { text: 'Not added.' },
      ]);
      const asked = await carol.call('POST', `/api/chats/${tasksChat}/messages`, {
        body: { id: 'q2', parent_id: 'a1', content: add, answer_id: 'a2' },
      });
      expect(asked.status).toBe(200);
      const { answer: held } = await settled(carol, tasksChat, 'a2');
      expect(held).toMatchObject({
        status: 'pending',
        pending_actions: [expect.objectContaining({ operation: 'addTask', can_always_allow: false })],
      });
      await carol.call('POST', `/api/gpts/${tasks.id}/consents`, {
        body: { action_id: action.body.id, domain: '127.0.0.1', operation: 'addTask', decision: 'decline' },
      });
      expect(
        (await carol.call('POST', `/api/chats/${tasksChat}/messages/a2/continue`, { body: {} })).status,
      ).toBe(200);
      expect((await settled(carol, tasksChat, 'a2')).answer).toMatchObject({
        status: 'complete',
        content: 'Not added.',
      });
      expect(tasksApi.requests.length).toBe(sentBefore + 1);
    });

    it('keeps a chat readable once its GPT is no longer shared, and says why it cannot be answered', async () => {
      expect(
        (await ada.call('PATCH', `/api/gpts/${gpt.id}/sharing`, { body: { visibility: 'private' } })).status,
      ).toBe(200);
      const chat = await carol.call('GET', `/api/chats/${chatId}`);
      expect(chat.status).toBe(200);
      expect(chat.body.gpt).toEqual({ id: gpt.id, name: null, avatar_url: null, available: false });
      expect(chat.body.messages.find((message: Json) => message.id === 'a1').content).toBe(
        'At 06:42, says the harbour keeper.',
      );
      const listed = (await carol.call('GET', '/api/chats')).body.data.find(
        (entry: Json) => entry.id === chatId,
      );
      expect(listed.gpt.available).toBe(false);
      const refused = await carol.call('POST', `/api/chats/${chatId}/messages`, {
        body: { id: 'q9', parent_id: 'a2b', content: 'Still there?', answer_id: 'a9' },
      });
      expectEnvelope(refused, 403, 'gpt_unavailable');
      expect(refused.body.error.message).toContain('no longer available');
      expectEnvelope(
        await carol.call('POST', `/api/chats/${chatId}/messages/q2/answers`, { body: { answer_id: 'a9' } }),
        403,
        'gpt_unavailable',
      );
      // Nothing was added to the chat.
      expect((await carol.call('GET', `/api/chats/${chatId}`)).body.messages).toHaveLength(5);

      // Deleted: the same.
      expect((await ada.call('DELETE', `/api/gpts/${gpt.id}`)).status).toBe(200);
      expect((await carol.call('GET', `/api/chats/${chatId}`)).body.gpt).toMatchObject({ available: false });
    });
  });
}
