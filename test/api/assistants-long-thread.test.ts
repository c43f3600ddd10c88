// Infinitely long threads: a thread of 5,000 messages runs within the model's context window.
// The newest messages are sent, what no longer fits is summarized by the model (a rolling
// summary that later runs extend), and each run records exactly what it sent.
import type OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { assertMatchesSpec } from './assistants-support.js';

const CONTEXT = 4096;
let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer({ env: { ATELIER_CONTEXT_SIZE: String(CONTEXT) } });
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

it('a thread of 5,000 messages runs within the context window, with a summary of what was left out', async () => {
  const messages = Array.from({ length: 5000 }, (_, index) => ({
    role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: `Message ${index}: notes about the project, item ${index * 7}.`,
  }));
  const thread = await client.beta.threads.create({ messages });
  const assistant = await client.beta.assistants.create({ model: MODEL, instructions: 'Answer briefly.' });

  const run = await client.beta.threads.runs.createAndPoll(
    thread.id,
    { assistant_id: assistant.id },
    { pollIntervalMs: 100 },
  );
  assertMatchesSpec('v2', 'RunObject', run);
  expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
  const { repositories } = server.server.storage;
  const record = (await repositories.runs.findById(run.id))!.context!;
  expect(record.threadMessages).toBe(5000);
  expect(record.includedMessages).toBeGreaterThan(10);
  expect(record.includedMessages).toBeLessThan(5000);
  expect(record.droppedMessages).toBe(5000 - record.includedMessages);
  // What the model reported for the prompt stays inside the window, as the estimate said.
  expect(record.promptTokens).toBeLessThanOrEqual(CONTEXT);
  expect(record.promptTokens).toBeLessThanOrEqual(record.budgetTokens + 64);
  expect(record.summary).not.toBeNull();
  const summary = await repositories.threads.findSummary(thread.id);
  expect(summary!.messageCount).toBe(record.summary!.throughMessageCount);
  expect(summary!.text.length).toBeGreaterThan(0);
  // The newest message was sent; the thread itself is untouched.
  const newest = (await client.beta.threads.messages.list(thread.id, { limit: 2 })).data;
  expect(newest[0]).toMatchObject({ role: 'assistant', run_id: run.id });
  expect(newest[1]!.content).toEqual([
    { type: 'text', text: { value: messages[4999]!.content, annotations: [] } },
  ]);

  // The next run extends the same summary rather than starting over, and stays within a prompt cap.
  const next = await client.beta.threads.runs.createAndPoll(
    thread.id,
    { assistant_id: assistant.id, max_prompt_tokens: 1500 },
    { pollIntervalMs: 100 },
  );
  expect(next.status, JSON.stringify(next.last_error)).toBe('completed');
  const nextRecord = (await repositories.runs.findById(next.id))!.context!;
  expect(nextRecord.threadMessages).toBe(5001);
  expect(nextRecord.promptTokens).toBeLessThanOrEqual(1500);
  expect(nextRecord.includedMessages).toBeLessThan(record.includedMessages);
  expect((await repositories.threads.findSummary(thread.id))!.messageCount).toBeGreaterThan(
    summary!.messageCount,
  );
});
