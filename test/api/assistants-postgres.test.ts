// The Assistants API end to end on PostgreSQL (the other suites run on SQLite): objects, pages,
// a run to completion, a function call and back, a streamed run, and the busy-thread rule.
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipPostgres } from '../../packages/server/src/storage/test-support/dialects.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL } from '../support/api-server.js';
import { assertMatchesSpec, pageBody } from './assistants-support.js';
import { startDialectServer } from './vector-stores-support.js';

const describePostgres = skipPostgres ? describe.skip : describe;

describePostgres('assistants on postgres', () => {
  let server: TestServer;
  let close: () => Promise<void>;
  let client: OpenAI;

  beforeAll(async () => {
    ({ server, close } = await startDialectServer('postgres'));
    client = server.client;
  });
  afterAll(async () => {
    await close?.();
  });

  it('stores, pages and runs like on SQLite', async () => {
    expect(server.server.storage.database.dialect).toBe('postgres');
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
      ],
      metadata: { dialect: 'postgres' },
    });
    assertMatchesSpec('v2', 'AssistantObject', assistant);
    const thread = await client.beta.threads.create({
      messages: Array.from({ length: 5 }, (_, index) => ({
        role: 'user' as const,
        content: `m${index}`,
        attachments: [],
      })),
    });
    const first = await client.beta.threads.messages.list(thread.id, { limit: 2, order: 'asc' });
    expect(pageBody(first)).toMatchObject({ has_more: true });
    const walked: string[] = [];
    for await (const message of client.beta.threads.messages.list(thread.id, { limit: 2, order: 'asc' })) {
      walked.push((message.content[0] as OpenAI.Beta.Threads.TextContentBlock).text.value);
    }
    expect(walked).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);

    let run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: 'required' },
      { pollIntervalMs: 50 },
    );
    expect(run.status).toBe('requires_action');
    await expect(
      client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }),
    ).rejects.toMatchObject({
      status: 400,
    });
    for (let round = 0; run.status === 'requires_action' && round < 5; round++) {
      run = await client.beta.threads.runs.submitToolOutputsAndPoll(
        run.id,
        {
          thread_id: thread.id,
          tool_outputs: run.required_action!.submit_tool_outputs.tool_calls.map((call) => ({
            tool_call_id: call.id,
            output: 'ok',
          })),
        },
        { pollIntervalMs: 50 },
      );
    }
    assertMatchesSpec('v2', 'RunObject', run);
    expect(run.status).toBe('completed');

    const stream = client.beta.threads.runs.stream(thread.id, {
      assistant_id: assistant.id,
      tool_choice: 'none',
    });
    const streamed = await stream.finalRun();
    expect(streamed.status).toBe('completed');
    const runs = await client.beta.threads.runs.list(thread.id, { order: 'asc' });
    expect(runs.data.map((one) => one.id)).toEqual([run.id, streamed.id]);
    const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
    expect(steps.data[0]).toMatchObject({ type: 'tool_calls', status: 'completed' });
    expect((await client.beta.threads.delete(thread.id)).deleted).toBe(true);
  });
});
