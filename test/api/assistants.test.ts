// Assistants v2 resources with the current `openai` client: assistants, threads and messages,
// their validation, pagination exactly like OpenAI (and the SDK's page helpers), workspace
// isolation, and every object checked against openapi-2024-05-v2.
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { assertMatchesSpec, otherWorkspace, pageBody, requestRaw } from './assistants-support.js';

let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('assistants', () => {
  it('creates, retrieves, modifies and deletes an assistant, each answer as the v2 spec says', async () => {
    const created = await client.beta.assistants.create({
      model: MODEL,
      name: 'Helper',
      description: 'Helps',
      instructions: 'Answer briefly.',
      tools: [weather, { type: 'code_interpreter' }, { type: 'file_search' }],
      metadata: { team: 'docs' },
      temperature: 0.5,
      top_p: 0.9,
      response_format: { type: 'json_object' },
    });
    assertMatchesSpec('v2', 'AssistantObject', created);
    expect(created).toMatchObject({
      id: expect.stringMatching(/^asst_[A-Za-z0-9]{24}$/),
      object: 'assistant',
      name: 'Helper',
      description: 'Helps',
      model: MODEL,
      instructions: 'Answer briefly.',
      tools: [weather, { type: 'code_interpreter' }, { type: 'file_search' }],
      tool_resources: {},
      metadata: { team: 'docs' },
      temperature: 0.5,
      top_p: 0.9,
      response_format: { type: 'json_object' },
    });
    expect(await client.beta.assistants.retrieve(created.id)).toEqual(created);

    const updated = await client.beta.assistants.update(created.id, {
      name: 'Renamed',
      tools: [weather],
      metadata: { team: 'api' },
    });
    assertMatchesSpec('v2', 'AssistantObject', updated);
    expect(updated).toMatchObject({
      name: 'Renamed',
      tools: [weather],
      metadata: { team: 'api' },
      temperature: 0.5,
    });

    const deleted = await client.beta.assistants.delete(created.id);
    assertMatchesSpec('v2', 'DeleteAssistantResponse', deleted);
    expect(deleted).toEqual({ id: created.id, object: 'assistant.deleted', deleted: true });
    await expect(client.beta.assistants.retrieve(created.id)).rejects.toMatchObject({
      status: 404,
      error: { message: `No assistant found with id '${created.id}'.`, type: 'invalid_request_error' },
    });
  });

  it('validates what the schema cannot: the model, function names, references, unknown fields', async () => {
    const refused = async (body: Record<string, unknown>) => {
      const response = await requestRaw(server, 'POST', '/assistants', body);
      expect(response.status, JSON.stringify(response.body)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      assertMatchesSpec('v2', 'ErrorResponse', response.body);
      return { status: response.status, ...response.body.error };
    };
    expect(await refused({ model: 'no-such-model' })).toMatchObject({
      status: 400,
      param: 'model',
      code: 'model_not_found',
    });
    expect(await refused({ model: MODEL, file_ids: ['file-abc'] })).toEqual({
      status: 400,
      message: "Unknown parameter: 'file_ids'.",
      type: 'invalid_request_error',
      param: 'file_ids',
      code: 'unknown_parameter',
    });
    expect(await refused({ model: MODEL, tools: [{ type: 'retrieval' }] })).toMatchObject({
      status: 400,
      param: 'tools[0].type',
    });
    expect(await refused({ model: MODEL, tools: [weather, weather] })).toMatchObject({
      status: 400,
      message: "Duplicate function name 'get_weather'.",
    });
    expect(
      await refused({ model: MODEL, tools: [{ type: 'function', function: { name: 'file_search' } }] }),
    ).toMatchObject({ status: 400, param: 'tools[0].function.name' });
    expect(
      await refused({ model: MODEL, tool_resources: { file_search: { vector_store_ids: ['vs_missing'] } } }),
    ).toMatchObject({ status: 404, param: 'tool_resources.file_search.vector_store_ids[0]' });
    expect(await refused({ model: MODEL, temperature: 3 })).toMatchObject({
      status: 400,
      param: 'temperature',
    });
    expect(await refused({ model: MODEL, metadata: { k: 'x'.repeat(513) } })).toMatchObject({
      status: 400,
      param: 'metadata.k',
    });
    expect(await refused({ model: MODEL, name: 'x'.repeat(257) })).toMatchObject({
      status: 400,
      param: 'name',
    });
  });

  it('pages like OpenAI: limit, order, after, before, has_more, and the SDK helpers walk it', async () => {
    const mine = await otherWorkspace(server);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push((await mine.beta.assistants.create({ model: MODEL, name: `a${index}` })).id);
    }
    const first = await mine.beta.assistants.list({ limit: 2, order: 'asc' });
    assertMatchesSpec('v2', 'ListAssistantsResponse', pageBody(first));
    expect(first.data.map((assistant) => assistant.id)).toEqual(ids.slice(0, 2));
    expect(pageBody(first)).toMatchObject({
      object: 'list',
      first_id: ids[0],
      last_id: ids[1],
      has_more: true,
    });

    const second = await first.getNextPage();
    expect(second.data.map((assistant) => assistant.id)).toEqual(ids.slice(2, 4));
    const walked: string[] = [];
    for await (const assistant of mine.beta.assistants.list({ limit: 2, order: 'asc' }))
      walked.push(assistant.id);
    expect(walked).toEqual(ids);

    const newestFirst = await mine.beta.assistants.list();
    expect(newestFirst.data.map((assistant) => assistant.id)).toEqual([...ids].reverse());
    expect(pageBody(newestFirst)).toMatchObject({ has_more: false });
    const before = await mine.beta.assistants.list({ limit: 2, order: 'asc', before: ids[4]! });
    expect(before.data.map((assistant) => assistant.id)).toEqual(ids.slice(2, 4));
    expect(pageBody(before)).toMatchObject({ has_more: true });
    const after = await mine.beta.assistants.list({ order: 'desc', after: ids[1]! });
    expect(after.data.map((assistant) => assistant.id)).toEqual([ids[0]]);

    for (const query of ['limit=0', 'limit=101', 'order=sideways', 'after=thread_abc']) {
      const response = await requestRaw(server, 'GET', `/assistants?${query}`);
      expect(response.status, query).toBe(400);
      assertMatchesSpec('v2', 'ErrorResponse', response.body);
    }
  });

  it("keeps each workspace's assistants, threads and messages to itself", async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'private' }] });
    const stranger = await otherWorkspace(server);
    await expect(stranger.beta.assistants.retrieve(assistant.id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.beta.assistants.delete(assistant.id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.beta.threads.retrieve(thread.id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.beta.threads.messages.list(thread.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      stranger.beta.threads.messages.create(thread.id, { role: 'user', content: 'intrusion' }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      stranger.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }),
    ).rejects.toMatchObject({ status: 404 });
    expect((await stranger.beta.assistants.list()).data.map((one) => one.id)).not.toContain(assistant.id);
    // Still there for its owner.
    expect((await client.beta.threads.messages.list(thread.id)).data).toHaveLength(1);
  });
});

describe('threads and messages', () => {
  it('creates a thread with messages, lists them in order, and modifies and deletes them', async () => {
    const thread = await client.beta.threads.create({
      messages: [
        { role: 'user', content: 'first', metadata: { n: '1' } },
        { role: 'assistant', content: [{ type: 'text', text: 'second' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          ],
        },
      ],
      metadata: { topic: 'test' },
    });
    assertMatchesSpec('v2', 'ThreadObject', thread);
    expect(thread).toMatchObject({
      id: expect.stringMatching(/^thread_/),
      object: 'thread',
      metadata: { topic: 'test' },
      tool_resources: {},
    });
    const messages = await client.beta.threads.messages.list(thread.id, { order: 'asc' });
    assertMatchesSpec('v2', 'ListMessagesResponse', pageBody(messages));
    for (const message of messages.data) assertMatchesSpec('v2', 'MessageObject', message);
    expect(messages.data.map((message) => [message.role, message.content])).toEqual([
      ['user', [{ type: 'text', text: { value: 'first', annotations: [] } }]],
      ['assistant', [{ type: 'text', text: { value: 'second', annotations: [] } }]],
      [
        'user',
        [
          { type: 'text', text: { value: 'look', annotations: [] } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
        ],
      ],
    ]);
    expect(messages.data[0]).toMatchObject({
      object: 'thread.message',
      thread_id: thread.id,
      status: 'completed',
      assistant_id: null,
      run_id: null,
      attachments: [],
      metadata: { n: '1' },
    });

    const added = await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'fourth' });
    assertMatchesSpec('v2', 'MessageObject', added);
    const newest = await client.beta.threads.messages.list(thread.id, { limit: 1 });
    expect(newest.data.map((message) => message.id)).toEqual([added.id]);
    expect(pageBody(newest)).toMatchObject({ has_more: true, first_id: added.id, last_id: added.id });
    const pages: string[][] = [];
    for await (const page of (await client.beta.threads.messages.list(thread.id, { limit: 3 })).iterPages()) {
      pages.push(page.data.map((message) => message.id));
    }
    expect(pages.map((page) => page.length)).toEqual([3, 1]);

    const modified = await client.beta.threads.messages.update(added.id, {
      thread_id: thread.id,
      metadata: { k: 'v' },
    });
    expect(modified.metadata).toEqual({ k: 'v' });
    const updatedThread = await client.beta.threads.update(thread.id, { metadata: { topic: 'changed' } });
    assertMatchesSpec('v2', 'ThreadObject', updatedThread);
    expect(updatedThread.metadata).toEqual({ topic: 'changed' });

    const deleted = await client.beta.threads.messages.delete(added.id, { thread_id: thread.id });
    assertMatchesSpec('v2', 'DeleteMessageResponse', deleted);
    await expect(
      client.beta.threads.messages.retrieve(added.id, { thread_id: thread.id }),
    ).rejects.toMatchObject({
      status: 404,
    });

    const gone = await client.beta.threads.delete(thread.id);
    assertMatchesSpec('v2', 'DeleteThreadResponse', gone);
    await expect(client.beta.threads.retrieve(thread.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.beta.threads.messages.list(thread.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses bad messages: unknown files, empty parts, unknown fields, v1 fields', async () => {
    const thread = await client.beta.threads.create();
    const post = (body: unknown) => requestRaw(server, 'POST', `/threads/${thread.id}/messages`, body);
    expect(
      (await post({ role: 'user', content: 'x', attachments: [{ file_id: 'file-missing', tools: [] }] }))
        .status,
    ).toBe(404);
    expect(
      (await post({ role: 'user', content: [{ type: 'image_file', image_file: { file_id: 'file-nope' } }] }))
        .status,
    ).toBe(404);
    expect((await post({ role: 'user', content: [] })).status).toBe(400);
    expect((await post({ role: 'system', content: 'x' })).status).toBe(400);
    expect((await post({ role: 'user', content: 'x', file_ids: [] })).body.error).toMatchObject({
      message: "Unknown parameter: 'file_ids'.",
    });
    expect(
      (await requestRaw(server, 'POST', '/threads/thread_missing/messages', { role: 'user', content: 'x' }))
        .status,
    ).toBe(404);
    expect((await client.beta.threads.messages.list(thread.id)).data).toEqual([]);
  });

  it('answers for the generation the OpenAI-Beta header names, and refuses v1-only endpoints on v2', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [{ type: 'file_search' }] });
    const asV1 = await requestRaw(server, 'GET', `/assistants/${assistant.id}`, undefined, {
      'OpenAI-Beta': 'assistants=v1',
    });
    assertMatchesSpec('v1', 'AssistantObject', asV1.body);
    expect(asV1.body).toMatchObject({ tools: [{ type: 'retrieval' }], file_ids: [] });
    expect(asV1.body).not.toHaveProperty('tool_resources');
    // No header at all: v2.
    const plain = await fetch(`${server.baseURL}/assistants/${assistant.id}`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(await plain.json()).toMatchObject({ tools: [{ type: 'file_search' }], tool_resources: {} });

    const files = await requestRaw(server, 'GET', `/assistants/${assistant.id}/files`);
    expect(files.status).toBe(400);
    expect(files.body.error).toMatchObject({ code: 'invalid_beta' });
    const wrong = await requestRaw(server, 'GET', `/assistants/${assistant.id}`, undefined, {
      'OpenAI-Beta': 'assistants=v9',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'invalid_beta' });
  });
});
