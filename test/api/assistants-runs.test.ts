// Runs with the current `openai` client (v2): createAndPoll, the stream() helpers, function
// calling to requires_action and back with submitToolOutputsAndPoll / submitToolOutputsStream,
// cancel, expiry, incomplete runs, truncation, the built-in tools through the tool spec, and the
// validation OpenAI does. The raw SSE stream is checked event by event against the v2 spec.
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import type { FileSearchRequest } from '../../packages/server/src/tools/spec.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { type JsonSchema, validateJsonSchema } from '../support/openapi-schemas.js';
import { assertMatchesSpec, eventSchema, namedEvents, pageBody, requestRaw } from './assistants-support.js';

const LONG_MODEL = 'atelier-long';
let server: TestServer;
let client: OpenAI;
const searches: FileSearchRequest[] = [];

beforeAll(async () => {
  server = await startApiServer({
    // A second model that never ends a reply on its own: runs that must be cut or cancelled.
    models: { [MODEL]: {}, [LONG_MODEL]: { meanReplyTokens: Number.POSITIVE_INFINITY } },
    tools: {
      fileSearch: {
        async search(request) {
          searches.push(request);
          return [
            {
              fileId: 'file-handbook',
              fileName: 'handbook.md',
              score: 0.92,
              text: 'Holidays: 25 days a year.',
            },
            {
              fileId: 'file-minutes',
              fileName: 'minutes.txt',
              score: 0.41,
              text: 'The board met on Monday.',
            },
          ];
        },
      },
    },
  });
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

const cityParameters = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 24 }, days: { type: 'integer' } },
  required: ['city', 'days'],
  additionalProperties: false,
} satisfies JsonSchema;
const forecast = {
  type: 'function' as const,
  function: { name: 'get_forecast', description: 'Weather forecast', parameters: cityParameters },
};

async function newThread(content = 'What will the weather be in Oslo?') {
  return client.beta.threads.create({ messages: [{ role: 'user', content }] });
}

describe('runs', () => {
  it('createAndPoll: a run completes with an assistant message, steps and usage, all as the spec says', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, instructions: 'Be brief.' });
    const thread = await newThread();
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, metadata: { case: 'poll' } },
      { pollIntervalMs: 50 },
    );
    assertMatchesSpec('v2', 'RunObject', run);
    expect(run).toMatchObject({
      id: expect.stringMatching(/^run_/),
      object: 'thread.run',
      thread_id: thread.id,
      assistant_id: assistant.id,
      status: 'completed',
      required_action: null,
      last_error: null,
      model: MODEL,
      instructions: 'Be brief.',
      tools: [],
      metadata: { case: 'poll' },
      truncation_strategy: { type: 'auto', last_messages: null },
      tool_choice: 'auto',
      response_format: 'auto',
      parallel_tool_calls: true,
    });
    expect(run.started_at).toBeGreaterThanOrEqual(run.created_at);
    expect(run.completed_at).toBeGreaterThanOrEqual(run.started_at!);
    expect(run.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(run.usage!.total_tokens).toBe(run.usage!.prompt_tokens + run.usage!.completion_tokens);

    const messages = await client.beta.threads.messages.list(thread.id, { run_id: run.id });
    expect(messages.data).toHaveLength(1);
    const [answer] = messages.data;
    assertMatchesSpec('v2', 'MessageObject', answer);
    expect(answer).toMatchObject({
      role: 'assistant',
      status: 'completed',
      assistant_id: assistant.id,
      run_id: run.id,
    });

    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    assertMatchesSpec('v2', 'ListRunStepsResponse', pageBody(steps));
    expect(steps.data).toHaveLength(1);
    const [step] = steps.data;
    assertMatchesSpec('v2', 'RunStepObject', step);
    expect(step).toMatchObject({
      type: 'message_creation',
      status: 'completed',
      step_details: { type: 'message_creation', message_creation: { message_id: answer!.id } },
    });
    expect(step!.usage!.completion_tokens).toBeGreaterThan(0);
    expect(
      await client.beta.threads.runs.steps.retrieve(step!.id, { thread_id: thread.id, run_id: run.id }),
    ).toEqual(step);

    const updated = await client.beta.threads.runs.update(run.id, {
      thread_id: thread.id,
      metadata: { case: 'done' },
    });
    expect(updated.metadata).toEqual({ case: 'done' });
    const listed = await client.beta.threads.runs.list(thread.id);
    assertMatchesSpec('v2', 'ListRunsResponse', pageBody(listed));
    expect(listed.data.map((one) => one.id)).toEqual([run.id]);
  });

  it('a queued run carries the polling hint the SDK follows', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL });
    const thread = await newThread();
    const response = await requestRaw(server, 'POST', `/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'queued', usage: null });
    expect(Number(response.headers.get('openai-poll-after-ms'))).toBeGreaterThan(0);
    const run = await client.beta.threads.runs.poll(response.body['id'] as string, { thread_id: thread.id });
    expect(run.status).toBe('completed');
  });

  it('stream(): the official events in order, text deltas that add up to the message, on the raw wire too', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL });
    const thread = await newThread();
    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const names: string[] = [];
    let text = '';
    stream.on('event', (event) => names.push(event.event));
    stream.on('textDelta', (delta) => {
      text += delta.value ?? '';
    });
    const run = await stream.finalRun();
    const [message] = await stream.finalMessages();
    expect(run.status).toBe('completed');
    expect(message!.content).toEqual([{ type: 'text', text: { value: text, annotations: [] } }]);
    const deltas = names.filter((name) => name === 'thread.message.delta').length;
    expect(names.filter((name) => name !== 'thread.message.delta')).toEqual([
      'thread.run.created',
      'thread.run.queued',
      'thread.run.in_progress',
      'thread.run.step.created',
      'thread.run.step.in_progress',
      'thread.message.created',
      'thread.message.in_progress',
      'thread.message.completed',
      'thread.run.step.completed',
      'thread.run.completed',
    ]);
    expect(deltas).toBeGreaterThan(0);

    // The same, read raw: every event named, its data matching the spec, ending with done.
    const response = await fetch(`${server.baseURL}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: assistant.id, stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = namedEvents(await response.text());
    expect(events.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
    for (const { event, data } of events.slice(0, -1)) assertMatchesSpec('v2', eventSchema(event), data);
  });

  it('createAndRunStream and createAndRunPoll: a new thread and its run in one call', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL });
    const stream = client.beta.threads.createAndRunStream({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'Hi' }], metadata: { via: 'stream' } },
    });
    const names: string[] = [];
    stream.on('event', (event) => names.push(event.event));
    const run = await stream.finalRun();
    expect(names[0]).toBe('thread.created');
    expect(run.status).toBe('completed');
    const thread = await client.beta.threads.retrieve(run.thread_id);
    expect(thread.metadata).toEqual({ via: 'stream' });

    const polled = await client.beta.threads.createAndRunPoll(
      { assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hello' }] } },
      { pollIntervalMs: 50 },
    );
    expect(polled.status).toBe('completed');
    expect(
      (await client.beta.threads.messages.list(polled.thread_id)).data.map((message) => message.role),
    ).toEqual(['assistant', 'user']);
  });
});

describe('function calling', () => {
  it('a forced tool_choice reaches requires_action with schema-valid arguments; outputs complete the run', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [forecast] });
    const thread = await newThread();
    let run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'function', function: { name: 'get_forecast' } } },
      { pollIntervalMs: 50 },
    );
    assertMatchesSpec('v2', 'RunObject', run);
    expect(run.status).toBe('requires_action');
    expect(run.usage).toBeNull();
    const now = Math.floor(Date.now() / 1000);
    expect(run.expires_at).toBeGreaterThanOrEqual(now + 590);
    expect(run.expires_at).toBeLessThanOrEqual(now + 601);
    const calls = run.required_action!.submit_tool_outputs.tool_calls;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      id: expect.stringMatching(/^call_/),
      type: 'function',
      function: { name: 'get_forecast' },
    });
    expect(validateJsonSchema(cityParameters, JSON.parse(calls[0]!.function.arguments))).toEqual([]);

    // The model may call again after seeing the output (it is random): answer until it stops.
    for (let round = 0; run.status === 'requires_action' && round < 5; round++) {
      run = await client.beta.threads.runs.submitToolOutputsAndPoll(
        run.id,
        {
          thread_id: thread.id,
          tool_outputs: run.required_action!.submit_tool_outputs.tool_calls.map((call) => ({
            tool_call_id: call.id,
            output: '{"temperature": 21}',
          })),
        },
        { pollIntervalMs: 50 },
      );
    }
    expect(run.status).toBe('completed');
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    for (const step of steps.data) assertMatchesSpec('v2', 'RunStepObject', step);
    expect(steps.data[0]).toMatchObject({
      type: 'tool_calls',
      status: 'completed',
      step_details: {
        type: 'tool_calls',
        tool_calls: [
          {
            id: calls[0]!.id,
            type: 'function',
            function: { name: 'get_forecast', output: '{"temperature": 21}' },
          },
        ],
      },
    });
    expect(steps.data.at(-1)).toMatchObject({ type: 'message_creation', status: 'completed' });
  });

  it('streams the call, then submitToolOutputsStream streams the rest of the run', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [forecast] });
    const thread = await newThread();
    const first = client.beta.threads.runs.stream(thread.id, {
      assistant_id: assistant.id,
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    const argumentDeltas: string[] = [];
    first.on('toolCallDelta', (delta) => {
      if (delta.type === 'function' && delta.function?.arguments)
        argumentDeltas.push(delta.function.arguments);
    });
    let run = await first.finalRun();
    expect(run.status).toBe('requires_action');
    const calls = run.required_action!.submit_tool_outputs.tool_calls;
    expect(calls).toHaveLength(1);
    expect(argumentDeltas.join('')).toBe(calls[0]!.function.arguments);
    for (let round = 0; run.status === 'requires_action' && round < 5; round++) {
      const next = client.beta.threads.runs.submitToolOutputsStream(run.id, {
        thread_id: thread.id,
        tool_outputs: run.required_action!.submit_tool_outputs.tool_calls.map((call) => ({
          tool_call_id: call.id,
          output: 'sunny',
        })),
      });
      const names: string[] = [];
      next.on('event', (event) => names.push(event.event));
      run = await next.finalRun();
      if (round === 0)
        expect(names.slice(0, 3)).toEqual([
          'thread.run.step.completed',
          'thread.run.queued',
          'thread.run.in_progress',
        ]);
    }
    expect(run.status).toBe('completed');
  });

  it('checks submitted outputs and the run state, as OpenAI does', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [forecast] });
    const thread = await newThread();
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: 'required', parallel_tool_calls: false },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    const route = `/threads/${thread.id}/runs/${run.id}/submit_tool_outputs`;
    const wrong = await requestRaw(server, 'POST', route, {
      tool_outputs: [{ tool_call_id: 'call_nope', output: 'x' }],
    });
    expect(wrong.status).toBe(400);
    const none = await requestRaw(server, 'POST', route, { tool_outputs: [] });
    expect(none.status).toBe(400);
    expect(none.body.error!['message']).toMatch(/missing/);
    // The thread is busy while the run waits.
    const second = await requestRaw(server, 'POST', `/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
    });
    expect(second.status).toBe(400);
    expect(second.body.error!['message']).toBe(`Thread ${thread.id} already has an active run ${run.id}.`);
    const message = await requestRaw(server, 'POST', `/threads/${thread.id}/messages`, {
      role: 'user',
      content: 'x',
    });
    expect(message.status).toBe(400);
    expect(message.body.error!['message']).toBe(
      `Can't add messages to ${thread.id} while a run ${run.id} is active.`,
    );

    const cancelled = await client.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    assertMatchesSpec('v2', 'RunObject', cancelled);
    expect(cancelled).toMatchObject({ status: 'cancelled', required_action: null });
    expect(cancelled.cancelled_at).toBeGreaterThan(0);
    const [step] = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ type: 'tool_calls', status: 'cancelled' });
    const late = await requestRaw(server, 'POST', route, {
      tool_outputs: [{ tool_call_id: 'call_x', output: 'x' }],
    });
    expect(late.status).toBe(400);
    expect(late.body.error!['message']).toBe('Runs in status "cancelled" do not accept tool outputs.');
    const again = await requestRaw(server, 'POST', `/threads/${thread.id}/runs/${run.id}/cancel`);
    expect(again.status).toBe(400);
    expect(again.body.error!['message']).toBe("Cannot cancel run with status 'cancelled'.");
  });

  it('a run waiting for outputs expires when its time is up', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [forecast] });
    const thread = await newThread();
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: 'required', parallel_tool_calls: false },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    // Ten minutes pass (the deadline is moved instead): the sweeper expires the run.
    await server.server.storage.repositories.runs.transition({
      id: run.id,
      from: ['requires_action'],
      changes: { expiresAt: Math.floor(Date.now() / 1000) - 1 },
    });
    let current = run;
    for (let wait = 0; wait < 50 && current.status === 'requires_action'; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    }
    assertMatchesSpec('v2', 'RunObject', current);
    expect(current.status).toBe('expired');
    const [step] = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ status: 'expired' });
    expect(step!.expired_at).toBeGreaterThan(0);
    // The thread is free again.
    expect(
      (
        await client.beta.threads.runs.createAndPoll(thread.id, {
          assistant_id: assistant.id,
          tool_choice: 'none',
        })
      ).status,
    ).toBe('completed');
  });
});

describe('run options and limits', () => {
  it('max_completion_tokens ends a run incomplete with an incomplete message', async () => {
    const assistant = await client.beta.assistants.create({ model: LONG_MODEL });
    const thread = await newThread();
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, max_completion_tokens: 256 },
      { pollIntervalMs: 50 },
    );
    assertMatchesSpec('v2', 'RunObject', run);
    expect(run).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_completion_tokens' },
      max_completion_tokens: 256,
      completed_at: null,
    });
    expect(run.usage!.completion_tokens).toBeLessThanOrEqual(256);
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    expect(message).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_tokens' } });
    expect(message!.incomplete_at).toBeGreaterThan(0);
  });

  it('max_prompt_tokens too small for the instructions ends the run incomplete', async () => {
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      instructions: 'Answer with care. '.repeat(200),
    });
    const thread = await newThread();
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, max_prompt_tokens: 256 },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_prompt_tokens' } });
  });

  it('truncation last_messages sends only the newest messages, and the run records what it sent', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL });
    const thread = await client.beta.threads.create({
      messages: Array.from({ length: 6 }, (_, index) => ({
        role: 'user' as const,
        content: `message ${index}`,
      })),
    });
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      {
        assistant_id: assistant.id,
        truncation_strategy: { type: 'last_messages', last_messages: 2 },
        additional_instructions: 'Be nice.',
        temperature: 0.2,
        top_p: 0.5,
      },
      { pollIntervalMs: 50 },
    );
    expect(run).toMatchObject({
      status: 'completed',
      truncation_strategy: { type: 'last_messages', last_messages: 2 },
      instructions: 'Be nice.',
      temperature: 0.2,
      top_p: 0.5,
    });
    const stored = await server.server.storage.repositories.runs.findById(run.id);
    expect(stored!.context).toMatchObject({
      threadMessages: 6,
      includedMessages: 2,
      droppedMessages: 4,
      summary: null,
      truncation: { type: 'last_messages', lastMessages: 2 },
    });
  });

  it('cancelling a run in progress stops it: cancelled, its message incomplete', async () => {
    const assistant = await client.beta.assistants.create({ model: LONG_MODEL });
    const thread = await newThread();
    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const started = new Promise<string>((resolve) => stream.on('textDelta', () => resolve('writing')));
    const runId = await new Promise<string>((resolve) =>
      stream.on('runStepCreated', (step) => resolve(step.run_id)),
    );
    await started;
    const cancelling = await client.beta.threads.runs.cancel(runId, { thread_id: thread.id });
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    const run = await stream.finalRun();
    expect(run.status).toBe('cancelled');
    const [message] = (await client.beta.threads.messages.list(thread.id, { run_id: runId })).data;
    expect(message).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'run_cancelled' } });
    expect((message!.content[0] as { text: { value: string } }).text.value.length).toBeGreaterThan(0);
  });

  it('deleting a thread while its run executes stops the run quietly', async () => {
    const assistant = await client.beta.assistants.create({ model: LONG_MODEL });
    const thread = await newThread();
    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const ended = stream.done().catch(() => 'aborted');
    const runId = await new Promise<string>((resolve) =>
      stream.on('textDelta', () => resolve(stream.currentRun()!.id)),
    );
    // The client goes away; the run goes on until its thread is deleted.
    stream.abort();
    expect(await ended).toBe('aborted');
    await client.beta.threads.delete(thread.id);
    await expect(client.beta.threads.runs.retrieve(runId, { thread_id: thread.id })).rejects.toMatchObject({
      status: 404,
    });
    const other = await newThread();
    const run = await client.beta.threads.runs.createAndPoll(
      other.id,
      { assistant_id: assistant.id, max_completion_tokens: 256 },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('incomplete');
  });

  it('refuses bad runs with 400/404 and creates nothing', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [forecast] });
    const thread = await newThread();
    const post = (body: Record<string, unknown>, route = `/threads/${thread.id}/runs`) =>
      requestRaw(server, 'POST', route, body);
    const cases: [Record<string, unknown>, number, string | null][] = [
      [{ assistant_id: 'asst_missing' }, 404, 'assistant_id'],
      [{ assistant_id: assistant.id, model: 'nope' }, 400, 'model'],
      [{ assistant_id: assistant.id, max_completion_tokens: 100 }, 400, 'max_completion_tokens'],
      [
        { assistant_id: assistant.id, tool_choice: { type: 'function', function: { name: 'other' } } },
        400,
        'tool_choice',
      ],
      [{ assistant_id: assistant.id, tool_choice: { type: 'file_search' } }, 400, 'tool_choice'],
      [
        { assistant_id: assistant.id, truncation_strategy: { type: 'last_messages' } },
        400,
        'truncation_strategy.last_messages',
      ],
      [{ assistant_id: assistant.id, file_ids: [] }, 400, 'file_ids'],
      [
        {
          assistant_id: assistant.id,
          additional_messages: [{ role: 'user', content: 'x', attachments: [{ file_id: 'file-x' }] }],
        },
        404,
        null,
      ],
    ];
    for (const [body, status, param] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      assertMatchesSpec('v2', 'ErrorResponse', response.body);
      if (param) expect(response.body.error!['param'], JSON.stringify(body)).toBe(param);
    }
    expect((await post({ assistant_id: assistant.id }, '/threads/thread_missing/runs')).status).toBe(404);
    expect((await client.beta.threads.runs.list(thread.id)).data).toEqual([]);
    expect((await client.beta.threads.messages.list(thread.id)).data).toHaveLength(1);
  });
});

describe('built-in tools', () => {
  it('file_search runs through the tool spec and the answer cites the best file', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [{ type: 'file_search' }] });
    const thread = await newThread('How many holidays do I get?');
    searches.length = 0;
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'file_search' } },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('completed');
    expect(searches).toHaveLength(1);
    expect(searches[0]).toMatchObject({ workspaceId: expect.stringMatching(/^ws_/), maxResults: 20 });
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    for (const step of steps.data) assertMatchesSpec('v2', 'RunStepObject', step);
    expect(steps.data[0]!.step_details).toMatchObject({
      type: 'tool_calls',
      tool_calls: [{ type: 'file_search', file_search: {} }],
    });
    const [answer] = (await client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
    assertMatchesSpec('v2', 'MessageObject', answer);
    const text = answer!.content[0] as OpenAI.Beta.Threads.TextContentBlock;
    const citations = text.text.annotations.filter((annotation) => annotation.type === 'file_citation');
    expect(citations[0]).toMatchObject({
      type: 'file_citation',
      file_citation: { file_id: 'file-handbook', quote: 'Holidays: 25 days a year.' },
    });
    const first = citations[0]!;
    expect(text.text.value.slice(first.start_index, first.end_index)).toBe(first.text);
  });

  it('a run that calls a tool this server lacks fails with a clear last_error', async () => {
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      tools: [{ type: 'code_interpreter' }],
    });
    const thread = await newThread('Compute 2+2 in Python.');
    const forced = await requestRaw(server, 'POST', `/threads/${thread.id}/runs`, {
      assistant_id: assistant.id,
      tool_choice: { type: 'code_interpreter' },
    });
    expect(forced.status).toBe(400);
    expect(forced.body.error).toMatchObject({ code: 'tool_unavailable' });
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: 'required' },
      { pollIntervalMs: 50 },
    );
    assertMatchesSpec('v2', 'RunObject', run);
    expect(run.status).toBe('failed');
    expect(run.last_error).toEqual({
      code: 'server_error',
      message: expect.stringMatching(/code_interpreter tool is not available on this server/),
    });
    const [step] = (await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data;
    expect(step).toMatchObject({ type: 'tool_calls', status: 'failed' });
  });
});
