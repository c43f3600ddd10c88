// Web chats on the run engine, over real HTTP: a chat is backed by Assistants threads in the
// person's workspace and each answer is a run, streamed as the official Assistants events;
// continuing a branch continues its thread, regenerating or editing starts a thread of its own
// with a copy of the conversation so far; stopping cancels the run and keeps what it wrote; and
// one person can never read, list, continue, regenerate or stop another's chat, nor reach its
// threads through /v1. Files go with a question as v2 attachments (file_search, code_interpreter)
// and images as image_file content, when the server has the tools.
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatsService } from '../../packages/server/src/platform/chats-service.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import type { BuiltInTools } from '../../packages/server/src/tools/spec.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { solidPng } from '../support/png.js';
import { expectEnvelope, type Json, parseSse, Visitor } from '../support/web-visitor.js';

/** A model that never ends a reply by itself: answers that must be stopped. */
const LONG_MODEL = 'atelier-long';

describe('web chats are threads, each answer a run', () => {
  let server: TestServer;
  let origin: string;
  let ada: Visitor;
  let bob: Visitor;

  /** Reads the chat until `answerId` is no longer being written. */
  const settled = async (visitor: Visitor, chatId: string, answerId: string): Promise<Json> => {
    for (;;) {
      const chat = (await visitor.call('GET', `/api/chats/${chatId}`)).body;
      const answer = chat.messages.find((message: Json) => message.id === answerId);
      if (answer?.status !== 'in_progress') return chat;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const threadMessages = async (visitor: Visitor, threadId: string) =>
    (await visitor.sdk(server).beta.threads.messages.list(threadId, { order: 'asc' })).data.map(
      (message) => ({
        role: message.role,
        text: message.content.map((part) => (part.type === 'text' ? part.text.value : part.type)).join(''),
      }),
    );

  beforeAll(async () => {
    server = await startApiServer({
      models: { [MODEL]: {}, [LONG_MODEL]: { meanReplyTokens: Number.POSITIVE_INFINITY } },
    });
    origin = server.baseURL.replace(/\/v1$/, '');
    ada = new Visitor(origin);
    bob = new Visitor(origin);
    await ada.signUp('Ada', 'ada@example.com');
    await bob.signUp('Bob', 'bob@example.com');
  });
  afterAll(async () => {
    await server?.close();
  });

  let chatId: string;
  let firstThread: string;

  it('starts a chat with its first question and answers it with a run on a thread of the person’s workspace', async () => {
    await ada.call('PATCH', '/api/account/preferences', {
      body: { about_me: 'I keep bees in Jeju.', custom_instructions_enabled: true },
    });
    const started = await ada.call('POST', '/api/chats', {
      body: {
        title: 'Bees',
        message: { id: 'q1', content: 'How do bees make honey?', answer_id: 'a1', model: MODEL },
      },
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      chat: { title: 'Bees', temporary: false },
      question: {
        id: 'q1',
        parent_id: null,
        role: 'user',
        content: 'How do bees make honey?',
        status: 'complete',
      },
      answer: { id: 'a1', parent_id: 'q1', role: 'assistant', status: 'in_progress', model: MODEL },
      run_id: expect.stringMatching(/^run_/),
    });
    chatId = started.body.chat.id;
    firstThread = started.body.answer.thread_id;
    expect(firstThread).toMatch(/^thread_/);

    const chat = await settled(ada, chatId, 'a1');
    const answer = chat.messages.find((message: Json) => message.id === 'a1');
    expect(answer).toMatchObject({ status: 'complete', run_id: started.body.run_id, thread_id: firstThread });
    expect(answer.content.length).toBeGreaterThan(0);
    // The parts keep the text as the model wrote it; `content` is that text trimmed.
    expect(answer.parts).toEqual([{ type: 'text', text: { value: expect.any(String), annotations: [] } }]);
    const written = answer.parts[0].text.value;
    expect(written.trim()).toBe(answer.content);
    expect(chat.current_node_id).toBe('a1');

    // The same thread and run, through the API, signed in as Ada: the engine's own records.
    expect(await threadMessages(ada, firstThread)).toEqual([
      { role: 'user', text: 'How do bees make honey?' },
      { role: 'assistant', text: written },
    ]);
    const run = await ada
      .sdk(server)
      .beta.threads.runs.retrieve(started.body.run_id, { thread_id: firstThread });
    expect(run).toMatchObject({ status: 'completed', model: MODEL, metadata: { atelier_chat_id: chatId } });
    // Custom instructions go with every answer, from the account (not from the page).
    expect(run.instructions).toContain('I keep bees in Jeju.');
  });

  it('streams an answer as the run’s Assistants events, after the messages it added', async () => {
    const reply = await fetch(`${origin}/api/chats/${chatId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: ada.cookie!, 'x-atelier-csrf': ada.csrf! },
      body: JSON.stringify({
        id: 'q2',
        parent_id: 'a1',
        content: 'And wax?',
        answer_id: 'a2',
        model: MODEL,
        stream: true,
      }),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await reply.text());
    expect(events[0]).toMatchObject({
      event: 'chat.turn',
      data: { question: { id: 'q2', parent_id: 'a1' }, answer: { id: 'a2', status: 'in_progress' } },
    });
    const names = events.map((event) => event.event);
    expect(names.slice(1, 3)).toEqual(['thread.run.created', 'thread.run.queued']);
    expect(names).toContain('thread.message.delta');
    expect(names.slice(-2)).toEqual(['thread.run.completed', 'done']);
    const streamed = events
      .filter((event) => event.event === 'thread.message.delta')
      .flatMap((event) => event.data.delta.content)
      .map((part: Json) => part.text?.value ?? '')
      .join('');

    // Continuing the branch continued its thread; the stored answer is what was streamed.
    const chat = await settled(ada, chatId, 'a2');
    const answer = chat.messages.find((message: Json) => message.id === 'a2');
    expect(answer).toMatchObject({ status: 'complete', thread_id: firstThread, content: streamed.trim() });
    expect(answer.parts[0].text.value).toBe(streamed);
    expect((await threadMessages(ada, firstThread)).map((message) => message.text)).toEqual([
      'How do bees make honey?',
      expect.any(String),
      'And wax?',
      answer.parts[0].text.value,
    ]);
  });

  it('regenerates into a thread of its own, both answers kept as versions', async () => {
    const again = await ada.call('POST', `/api/chats/${chatId}/messages/q2/answers`, {
      body: { answer_id: 'a2b', model: MODEL },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ question: null, answer: { id: 'a2b', parent_id: 'q2' } });
    const forked = again.body.answer.thread_id;
    expect(forked).not.toBe(firstThread);
    const chat = await settled(ada, chatId, 'a2b');
    expect(
      chat.messages.filter((message: Json) => message.parent_id === 'q2').map((m: Json) => m.id),
    ).toEqual(['a2', 'a2b']);
    expect(chat.current_node_id).toBe('a2b');
    // The new thread holds a copy of the conversation up to the question, then the new answer.
    const texts = (await threadMessages(ada, forked)).map((message) => message.text);
    expect(texts.slice(0, 3)).toEqual(['How do bees make honey?', expect.any(String), 'And wax?']);
    expect(texts).toHaveLength(4);
    // The first thread is untouched.
    expect(await threadMessages(ada, firstThread)).toHaveLength(4);
  });

  it('edits a question into a new branch on a thread of its own; the old branch stays', async () => {
    const edited = await ada.call('POST', `/api/chats/${chatId}/messages`, {
      body: { id: 'q2e', parent_id: 'a1', content: 'And royal jelly?', answer_id: 'a2e', model: MODEL },
    });
    expect(edited.status).toBe(200);
    const thread = edited.body.answer.thread_id;
    expect([firstThread]).not.toContain(thread);
    await settled(ada, chatId, 'a2e');
    expect((await threadMessages(ada, thread)).map((message) => message.text).slice(0, 3)).toEqual([
      'How do bees make honey?',
      expect.any(String),
      'And royal jelly?',
    ]);
    // Back on the old branch, the answer continues there, on its thread.
    expect(
      (await ada.call('PATCH', `/api/chats/${chatId}`, { body: { current_node_id: 'a2' } })).body
        .current_node_id,
    ).toBe('a2');
    const follow = await ada.call('POST', `/api/chats/${chatId}/messages`, {
      body: { id: 'q3', parent_id: 'a2', content: 'Thanks', answer_id: 'a3', model: MODEL },
    });
    expect(follow.body.answer.thread_id).toBe(firstThread);
    await settled(ada, chatId, 'a3');
  });

  it('refuses a second answer while one is being written, and stops it on request, keeping what it wrote', async () => {
    const long = await ada.call('POST', `/api/chats/${chatId}/messages`, {
      body: { id: 'q4', parent_id: 'a3', content: 'Tell me everything', answer_id: 'a4', model: LONG_MODEL },
    });
    expect(long.status).toBe(200);
    expectEnvelope(
      await ada.call('POST', `/api/chats/${chatId}/messages`, {
        body: { id: 'q5', parent_id: 'a3', content: 'Meanwhile?', answer_id: 'a5', model: MODEL },
      }),
      409,
      'answer_in_progress',
    );
    // Wait until it wrote something, then stop it.
    const thread = long.body.answer.thread_id;
    for (;;) {
      const step = await ada.sdk(server).beta.threads.runs.retrieve(long.body.run_id, { thread_id: thread });
      if (step.status === 'in_progress') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stop = await ada.call('POST', `/api/chats/${chatId}/messages/a4/stop`);
    expect(stop.status).toBe(200);
    const chat = await settled(ada, chatId, 'a4');
    expect(chat.messages.find((message: Json) => message.id === 'a4')).toMatchObject({ status: 'stopped' });
    const run = await ada.sdk(server).beta.threads.runs.retrieve(long.body.run_id, { thread_id: thread });
    expect(run.status).toBe('cancelled');
  });

  it('refuses an unknown model, an id used twice and a question after a message that does not exist', async () => {
    expectEnvelope(
      await ada.call('POST', '/api/chats', {
        body: { title: 'Nope', message: { id: 'x', content: 'Hi', answer_id: 'y', model: 'no-such-model' } },
      }),
      400,
      'model_not_found',
    );
    // No empty chat was left behind.
    expect((await ada.call('GET', '/api/chats')).body.data.map((chat: Json) => chat.title)).toEqual(['Bees']);
    expectEnvelope(
      await ada.call('POST', `/api/chats/${chatId}/messages`, {
        body: { id: 'q1', parent_id: 'a4', content: 'Again', answer_id: 'z', model: MODEL },
      }),
      400,
      null,
    );
    expectEnvelope(
      await ada.call('POST', `/api/chats/${chatId}/messages`, {
        body: { id: 'q9', parent_id: 'nowhere', content: 'Lost', answer_id: 'a9', model: MODEL },
      }),
      400,
      null,
    );
  });

  it('never lets another person read, list, continue, regenerate, stop or reach the threads of a chat', async () => {
    expectEnvelope(await bob.call('GET', `/api/chats/${chatId}`), 404, null);
    expect((await bob.call('GET', '/api/chats')).body.data).toEqual([]);
    expect((await bob.call('GET', '/api/chats?search=bees')).body.data).toEqual([]);
    expectEnvelope(
      await bob.call('POST', `/api/chats/${chatId}/messages`, {
        body: { id: 'b1', parent_id: 'a4', content: 'Mine now', answer_id: 'b2', model: MODEL },
      }),
      404,
      null,
    );
    expectEnvelope(
      await bob.call('POST', `/api/chats/${chatId}/messages/q2/answers`, {
        body: { answer_id: 'b3', model: MODEL },
      }),
      404,
      null,
    );
    expectEnvelope(await bob.call('POST', `/api/chats/${chatId}/messages/a4/stop`), 404, null);
    expectEnvelope(await bob.call('PATCH', `/api/chats/${chatId}`, { body: { title: 'Mine' } }), 404, null);
    expectEnvelope(await bob.call('DELETE', `/api/chats/${chatId}`), 404, null);
    await expect(bob.sdk(server).beta.threads.retrieve(firstThread)).rejects.toMatchObject({ status: 404 });
    await expect(bob.sdk(server).beta.threads.messages.list(firstThread)).rejects.toMatchObject({
      status: 404,
    });
    // A stranger without a session gets nothing either.
    expectEnvelope(await new Visitor(origin).call('GET', `/api/chats/${chatId}`), 401, 'not_signed_in');
    // Ada's chat is as she left it.
    const chat = (await ada.call('GET', `/api/chats/${chatId}`)).body;
    expect(chat.title).toBe('Bees');
    expect(chat.messages.some((message: Json) => message.id.startsWith('b'))).toBe(false);
  });

  it('says which built-in tools it has, and refuses files for a tool it does not have', async () => {
    expect((await ada.call('GET', '/api/session')).body.capabilities).toEqual({
      file_search: false,
      code_interpreter: false,
    });
    const file = await ada.sdk(server).files.create({
      file: await toFile(Buffer.from('Hive notes'), 'hive.txt'),
      purpose: 'assistants',
    });
    const refused = await ada.call('POST', '/api/chats', {
      body: {
        message: {
          id: 'q',
          content: 'Read this',
          attachments: [{ file_id: file.id, tools: [{ type: 'file_search' }] }],
          answer_id: 'a',
          model: MODEL,
        },
      },
    });
    expectEnvelope(refused, 400, 'tool_unavailable');
    expect(refused.body.error.param).toBe('attachments[0].tools');
  });

  it('sweeps a temporary chat with its threads 30 days after it was created', async () => {
    const started = await ada.call('POST', '/api/chats', {
      body: {
        temporary: true,
        message: { id: 'q', content: 'Just between us', answer_id: 'a', model: MODEL },
      },
    });
    const temporary = await settled(ada, started.body.chat.id, 'a');
    const thread = started.body.answer.thread_id;
    expect((await ada.sdk(server).beta.threads.retrieve(thread)).id).toBe(thread);
    const later = createChatsService({
      repositories: server.server.storage.repositories,
      now: () => temporary.created_at + 30 * 24 * 60 * 60 + 1,
    });
    expect(await later.deleteExpiredTemporary()).toBe(1);
    expectEnvelope(await ada.call('GET', `/api/chats/${temporary.id}`), 404, null);
    await expect(ada.sdk(server).beta.threads.retrieve(thread)).rejects.toMatchObject({ status: 404 });
  });

  it('deletes a chat with its threads', async () => {
    const threads: string[] = [
      ...new Set(
        (await ada.call('GET', `/api/chats/${chatId}`)).body.messages.map(
          (message: Json) => message.thread_id,
        ),
      ),
    ] as string[];
    expect(threads.length).toBeGreaterThanOrEqual(3);
    expect((await ada.call('DELETE', `/api/chats/${chatId}`)).status).toBe(200);
    for (const thread of threads) {
      await expect(ada.sdk(server).beta.threads.retrieve(thread)).rejects.toMatchObject({ status: 404 });
    }
  });
});

describe('files in web chats', () => {
  let server: TestServer;
  let ada: Visitor;
  let bob: Visitor;
  const tools: BuiltInTools = {
    fileSearch: { search: async () => [] },
    codeInterpreter: { execute: async () => ({ logs: '', imageFileIds: [], files: [] }) },
  };

  beforeAll(async () => {
    server = await startApiServer({ tools });
    const origin = server.baseURL.replace(/\/v1$/, '');
    ada = new Visitor(origin);
    bob = new Visitor(origin);
    await ada.signUp('Ada', 'ada@example.com');
    await bob.signUp('Bob', 'bob@example.com');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends documents to file_search, data to the code interpreter and images to the model, as v2 messages', async () => {
    expect((await ada.call('GET', '/api/session')).body.capabilities).toEqual({
      file_search: true,
      code_interpreter: true,
    });
    const sdk = ada.sdk(server);
    const notes = await sdk.files.create({
      file: await toFile(Buffer.from('The queen lays 2,000 eggs a day.'), 'notes.txt'),
      purpose: 'assistants',
    });
    const sales = await sdk.files.create({
      file: await toFile(Buffer.from('month,jars\nMay,40\nJune,55\n'), 'sales.csv'),
      purpose: 'assistants',
    });
    const photo = await sdk.files.create({ file: await toFile(solidPng(), 'hive.png'), purpose: 'vision' });

    const started = await ada.call('POST', '/api/chats', {
      body: {
        message: {
          id: 'q1',
          content: [
            { type: 'text', text: 'What do my files say?' },
            { type: 'image_file', image_file: { file_id: photo.id } },
          ],
          attachments: [
            { file_id: notes.id, tools: [{ type: 'file_search' }] },
            { file_id: sales.id, tools: [{ type: 'code_interpreter' }] },
          ],
          answer_id: 'a1',
          model: MODEL,
        },
      },
    });
    expect(started.status).toBe(201);
    const thread = started.body.answer.thread_id;

    // The thread's message is the question as a v2 message, attachments and image included.
    const [question] = (await sdk.beta.threads.messages.list(thread, { order: 'asc' })).data;
    expect(question).toMatchObject({
      role: 'user',
      content: [
        { type: 'text', text: { value: 'What do my files say?' } },
        { type: 'image_file', image_file: { file_id: photo.id } },
      ],
      attachments: [
        { file_id: notes.id, tools: [{ type: 'file_search' }] },
        { file_id: sales.id, tools: [{ type: 'code_interpreter' }] },
      ],
    });
    // The run may use both tools the server has.
    const run = await sdk.beta.threads.runs.retrieve(started.body.run_id, { thread_id: thread });
    expect(run.tools.map((tool) => tool.type).sort()).toEqual(['code_interpreter', 'file_search']);

    // The chat shows the question with its files, named.
    const chat = (await ada.call('GET', `/api/chats/${started.body.chat.id}`)).body;
    expect(chat.messages[0]).toMatchObject({
      content: 'What do my files say?',
      parts: [
        { type: 'text', text: { value: 'What do my files say?' } },
        { type: 'image_file', image_file: { file_id: photo.id } },
      ],
      attachments: [
        { file_id: notes.id, tools: [{ type: 'file_search' }] },
        { file_id: sales.id, tools: [{ type: 'code_interpreter' }] },
      ],
    });
    expect(chat.files).toEqual({
      [notes.id]: { filename: 'notes.txt', bytes: 32, purpose: 'assistants' },
      [sales.id]: { filename: 'sales.csv', bytes: 26, purpose: 'assistants' },
      [photo.id]: { filename: 'hive.png', bytes: solidPng().length, purpose: 'vision' },
    });
  });

  it('never lets a question carry someone else’s file', async () => {
    const notes = await ada.sdk(server).files.create({
      file: await toFile(Buffer.from('Private'), 'private.txt'),
      purpose: 'assistants',
    });
    const attempt = await bob.call('POST', '/api/chats', {
      body: {
        title: 'Borrowed',
        message: {
          id: 'q',
          content: 'Summarize',
          attachments: [{ file_id: notes.id, tools: [{ type: 'file_search' }] }],
          answer_id: 'a',
          model: MODEL,
        },
      },
    });
    expectEnvelope(attempt, 404, null);
    expect((await bob.call('GET', '/api/chats')).body.data).toEqual([]);
  });
});
