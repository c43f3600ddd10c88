// Assistants v1 with the client of that generation (openai@4.36, `OpenAI-Beta: assistants=v1`):
// assistants with `file_ids` and the assistant-files endpoints, messages with `file_ids` and the
// message-files endpoints, `retrieval`, createAndPoll, stream, submitToolOutputsAndPoll and the
// page helpers, every answer checked against the last v1 spec.
import type OpenAIv1 from 'openai-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import type { FileSearchRequest } from '../../packages/server/src/tools/spec.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { type JsonSchema, validateJsonSchema } from '../support/openapi-schemas.js';
import {
  assertMatchesSpec,
  eventSchema,
  namedEvents,
  pageBody,
  requestRaw,
  v1Client,
} from './assistants-support.js';

let server: TestServer;
let client: OpenAIv1;
let workspaceId: string;
const searches: FileSearchRequest[] = [];
const V1 = { 'OpenAI-Beta': 'assistants=v1' };

const LONG_MODEL = 'atelier-long';

beforeAll(async () => {
  server = await startApiServer({
    // A second model that never ends a reply on its own: a run cut short by a token limit.
    models: { [MODEL]: {}, [LONG_MODEL]: { meanReplyTokens: Number.POSITIVE_INFINITY } },
    tools: {
      fileSearch: {
        async search(request) {
          searches.push(request);
          return request.fileIds.map((fileId, index) => ({
            fileId,
            fileName: `${fileId}.txt`,
            score: 1 - index / 10,
            text: `Passage of ${fileId}.`,
          }));
        },
      },
    },
  });
  client = v1Client(server);
  const key = await server.server.storage.repositories.apiKeys.findActiveBySecret(server.apiKey);
  workspaceId = key!.workspaceId;
});
afterAll(async () => {
  await server?.close();
});

/** A file record of this workspace (its bytes do not matter to assistants). */
async function newFile(filename: string): Promise<string> {
  const file = await server.server.storage.repositories.files.create({
    workspaceId,
    filename,
    purpose: 'assistants',
    bytes: 3,
    sha256: 'a'.repeat(64),
  });
  return file.id;
}

const lookupParameters = {
  type: 'object',
  properties: { term: { type: 'string', maxLength: 16 } },
  required: ['term'],
  additionalProperties: false,
} satisfies JsonSchema;

describe('assistants v1', () => {
  it('assistants with file_ids and retrieval, and the assistant-files endpoints', async () => {
    const [first, second] = [await newFile('a.txt'), await newFile('b.txt')];
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      name: 'Librarian',
      tools: [
        { type: 'retrieval' },
        { type: 'function', function: { name: 'lookup', parameters: lookupParameters } },
      ],
      file_ids: [first],
    });
    assertMatchesSpec('v1', 'AssistantObject', assistant);
    expect(assistant).toMatchObject({
      object: 'assistant',
      tools: [{ type: 'retrieval' }, { type: 'function', function: { name: 'lookup' } }],
      file_ids: [first],
    });
    expect(assistant).not.toHaveProperty('tool_resources');

    const attached = await client.beta.assistants.files.create(assistant.id, { file_id: second });
    assertMatchesSpec('v1', 'AssistantFileObject', attached);
    expect(attached).toMatchObject({ id: second, object: 'assistant.file', assistant_id: assistant.id });
    const files = await client.beta.assistants.files.list(assistant.id, { order: 'asc' });
    assertMatchesSpec('v1', 'ListAssistantFilesResponse', pageBody(files));
    expect(files.data.map((file) => file.id)).toEqual([first, second]);
    const afterFirst = await client.beta.assistants.files.list(assistant.id, { order: 'asc', after: first });
    expect(afterFirst.data.map((file) => file.id)).toEqual([second]);
    // A cursor that is no file id is refused, as on every other list.
    for (const cursor of ['after', 'before'] as const) {
      await expect(
        client.beta.assistants.files.list(assistant.id, { [cursor]: 'file-unknown' }),
      ).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: cursor } });
    }
    expect((await client.beta.assistants.retrieve(assistant.id)).file_ids).toEqual([first, second]);
    expect(await client.beta.assistants.files.retrieve(assistant.id, second)).toEqual(attached);
    const removed = await client.beta.assistants.files.del(assistant.id, second);
    assertMatchesSpec('v1', 'DeleteAssistantFileResponse', removed);
    expect(removed).toEqual({ id: second, object: 'assistant.file.deleted', deleted: true });
    await expect(client.beta.assistants.files.retrieve(assistant.id, second)).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      client.beta.assistants.files.create(assistant.id, { file_id: 'file-unknown' }),
    ).rejects.toMatchObject({
      status: 404,
    });

    // Seen through v2, the same assistant has file_search and its files reach the code interpreter.
    const asV2 = await requestRaw(server, 'GET', `/assistants/${assistant.id}`);
    assertMatchesSpec('v2', 'AssistantObject', asV2.body);
    expect(asV2.body).toMatchObject({ tools: [{ type: 'file_search' }, { type: 'function' }] });

    const refused = await requestRaw(server, 'POST', '/assistants', { model: MODEL, tool_resources: {} }, V1);
    expect(refused.body.error).toMatchObject({
      message: "Unknown parameter: 'tool_resources'.",
      code: 'unknown_parameter',
    });
    const v2Tool = await requestRaw(
      server,
      'POST',
      '/assistants',
      { model: MODEL, tools: [{ type: 'file_search' }] },
      V1,
    );
    expect(v2Tool.status).toBe(400);
    const deleted = await client.beta.assistants.del(assistant.id);
    assertMatchesSpec('v1', 'DeleteAssistantResponse', deleted);
  });

  it('threads and messages with file_ids, the message-files endpoints, and auto-pagination', async () => {
    const file = await newFile('notes.txt');
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'See the notes.', file_ids: [file] }],
      metadata: { v: '1' },
    });
    assertMatchesSpec('v1', 'ThreadObject', thread);
    expect(thread).not.toHaveProperty('tool_resources');
    for (let index = 0; index < 4; index++) {
      await client.beta.threads.messages.create(thread.id, { role: 'user', content: `more ${index}` });
    }
    const all: OpenAIv1.Beta.Threads.Message[] = [];
    for await (const message of client.beta.threads.messages.list(thread.id, { limit: 2, order: 'asc' }))
      all.push(message);
    expect(
      all.map((message) => message.content[0]?.type === 'text' && message.content[0].text.value),
    ).toEqual(['See the notes.', 'more 0', 'more 1', 'more 2', 'more 3']);
    for (const message of all) assertMatchesSpec('v1', 'MessageObject', message);
    expect(all[0]).toMatchObject({ file_ids: [file] });
    expect(all[0]).not.toHaveProperty('attachments');

    const files = await client.beta.threads.messages.files.list(thread.id, all[0]!.id);
    assertMatchesSpec('v1', 'ListMessageFilesResponse', pageBody(files));
    expect(files.data).toEqual([
      { id: file, object: 'thread.message.file', created_at: all[0]!.created_at, message_id: all[0]!.id },
    ]);
    const later = await newFile('later.txt');
    // A file id that is not on the message is placed by when that file was made: newest first, it comes before.
    const afterLater = await client.beta.threads.messages.files.list(thread.id, all[0]!.id, { after: later });
    expect(afterLater.data.map((item) => item.id)).toEqual([file]);
    expect(
      (await client.beta.threads.messages.files.list(thread.id, all[0]!.id, { after: file })).data,
    ).toEqual([]);
    for (const cursor of ['after', 'before'] as const) {
      await expect(
        client.beta.threads.messages.files.list(thread.id, all[0]!.id, { [cursor]: 'file-unknown' }),
      ).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: cursor } });
    }
    const one = await client.beta.threads.messages.files.retrieve(thread.id, all[0]!.id, file);
    assertMatchesSpec('v1', 'MessageFileObject', one);
    await expect(
      client.beta.threads.messages.files.retrieve(thread.id, all[0]!.id, 'file-other'),
    ).rejects.toMatchObject({
      status: 404,
    });
    const del = await requestRaw(
      server,
      'DELETE',
      `/threads/${thread.id}/messages/${all[1]!.id}`,
      undefined,
      V1,
    );
    expect(del.body.error).toMatchObject({ code: 'invalid_beta' });
    await expect(
      client.beta.threads.messages.create(thread.id, {
        role: 'user',
        content: 'x',
        file_ids: ['file-missing'],
      }),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe('runs v1', () => {
  it('createAndPoll and stream complete runs; objects match the v1 spec', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, instructions: 'Be brief.' });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hello' }] });
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 50 },
    );
    assertMatchesSpec('v1', 'RunObject', run);
    expect(run).toMatchObject({ status: 'completed', file_ids: [], tools: [], instructions: 'Be brief.' });
    expect(run).not.toHaveProperty('top_p');
    const steps = await client.beta.threads.runs.steps.list(thread.id, run.id);
    for (const step of steps.data) assertMatchesSpec('v1', 'RunStepObject', step);

    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    let text = '';
    stream.on('textDelta', (delta) => {
      text += delta.value ?? '';
    });
    const streamed = await stream.finalRun();
    expect(streamed.status).toBe('completed');
    const [message] = await stream.finalMessages();
    // 4.x keeps the deltas' `index` in its snapshot, as it did against OpenAI.
    expect(message!.content[0]).toMatchObject({ type: 'text', text: { value: text } });

    const raw = await fetch(`${server.baseURL}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json', ...V1 },
      body: JSON.stringify({ assistant_id: assistant.id, stream: true }),
    });
    const events = namedEvents(await raw.text());
    expect(events.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
    for (const { event, data } of events.slice(0, -1)) assertMatchesSpec('v1', eventSchema(event), data);

    const required = await requestRaw(
      server,
      'POST',
      `/threads/${thread.id}/runs`,
      { assistant_id: assistant.id, tool_choice: 'required' },
      V1,
    );
    expect(required.status).toBe(400);
  });

  it('a run cut short by a token limit is completed to a v1 client, polled and streamed', async () => {
    // v1 knew no `incomplete`: its createAndPoll polls on (without pause) while a status is
    // unknown to it, and its stream helper never sees a final run.
    const assistant = await client.beta.assistants.create({ model: LONG_MODEL });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hello' }] });
    const limits = { assistant_id: assistant.id, max_completion_tokens: 256 } as { assistant_id: string };
    const run = await client.beta.threads.runs.createAndPoll(thread.id, limits, { pollIntervalMs: 50 });
    assertMatchesSpec('v1', 'RunObject', run);
    expect(run).toMatchObject({
      status: 'completed',
      incomplete_details: { reason: 'max_completion_tokens' },
    });
    expect(run.completed_at).toBeGreaterThanOrEqual(run.created_at);
    expect(run.usage!.completion_tokens).toBeLessThanOrEqual(256);

    const stream = client.beta.threads.runs.stream(thread.id, limits);
    const streamed = await stream.finalRun();
    expect(streamed).toMatchObject({
      status: 'completed',
      incomplete_details: { reason: 'max_completion_tokens' },
    });
    const raw = await fetch(`${server.baseURL}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json', ...V1 },
      body: JSON.stringify({ ...limits, stream: true }),
    });
    const runEvents = namedEvents(await raw.text())
      .map(({ event }) => event)
      .filter((event) => event.startsWith('thread.run.') && !event.startsWith('thread.run.step.'));
    expect(runEvents.at(-1)).toBe('thread.run.completed');
    expect(runEvents).not.toContain('thread.run.incomplete');
  });

  it('function calling with submitToolOutputsAndPoll, and retrieval that cites the files', async () => {
    const file = await newFile('policy.txt');
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: lookupParameters } },
        { type: 'retrieval' },
      ],
      file_ids: [file],
    });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Look it up.' }] });
    let run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'function', function: { name: 'lookup' } } },
      { pollIntervalMs: 50 },
    );
    assertMatchesSpec('v1', 'RunObject', run);
    expect(run.status).toBe('requires_action');
    const [call] = run.required_action!.submit_tool_outputs.tool_calls;
    expect(validateJsonSchema(lookupParameters, JSON.parse(call!.function.arguments))).toEqual([]);
    for (let round = 0; run.status === 'requires_action' && round < 5; round++) {
      run = await client.beta.threads.runs.submitToolOutputsAndPoll(
        thread.id,
        run.id,
        {
          tool_outputs: run.required_action!.submit_tool_outputs.tool_calls.map((one) => ({
            tool_call_id: one.id,
            output: 'found',
          })),
        },
        { pollIntervalMs: 50 },
      );
    }
    expect(run.status).toBe('completed');

    searches.length = 0;
    const retrieval = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'retrieval' } },
      { pollIntervalMs: 50 },
    );
    expect(retrieval.status).toBe('completed');
    expect(searches[0]).toMatchObject({ fileIds: [file] });
    const steps = await client.beta.threads.runs.steps.list(thread.id, retrieval.id, { order: 'asc' });
    for (const step of steps.data) assertMatchesSpec('v1', 'RunStepObject', step);
    expect(steps.data[0]!.step_details).toMatchObject({
      type: 'tool_calls',
      tool_calls: [{ type: 'retrieval', retrieval: {} }],
    });
    const [answer] = (await client.beta.threads.messages.list(thread.id, { limit: 1 })).data;
    assertMatchesSpec('v1', 'MessageObject', answer);
    const content = answer!.content[0] as OpenAIv1.Beta.Threads.TextContentBlock;
    expect(content.text.annotations[0]).toMatchObject({
      type: 'file_citation',
      file_citation: { file_id: file },
    });
  });
});
