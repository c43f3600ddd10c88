// Two Atelier nodes on one PostgreSQL and one Redis, as DESIGN.md's scale-out describes: node A
// executes no runs (ATELIER_RUN_WORKERS=0), node B does. A run asked of A is executed by B and
// streamed back through A, event for event, and a cancel sent to A stops it on B.
import { randomBytes } from 'node:crypto';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipPostgres } from '../../packages/server/src/storage/test-support/dialects.js';
import { MODEL } from '../support/api-server.js';
import { type DialectServer, startDialectServer } from './vector-stores-support.js';

const describePostgres = skipPostgres ? describe.skip : describe;
const redisUrl = process.env['ATELIER_TEST_REDIS_URL'] || 'redis://127.0.0.1:6379';

describePostgres('two nodes sharing PostgreSQL and Redis', () => {
  let front: DialectServer;
  let worker: DialectServer;
  let client: OpenAI;

  beforeAll(async () => {
    const redis = {
      ATELIER_REDIS_URL: redisUrl,
      ATELIER_REDIS_PREFIX: `atelier-test-${randomBytes(4).toString('hex')}:`,
    };
    front = await startDialectServer('postgres', { ...redis, ATELIER_RUN_WORKERS: '0' });
    worker = await startDialectServer('postgres', { ...front.env, ATELIER_RUN_WORKERS: '1' });
    client = front.server.client;
  });
  afterAll(async () => {
    await worker?.close();
    await front?.close();
  });

  it('streams a run through the node that was asked, executed by the other one', async () => {
    expect(front.server.server.runs.workers).toBeUndefined();
    expect(worker.server.server.runs.workers).toBeDefined();
    const assistant = await client.beta.assistants.create({ model: MODEL, instructions: 'Answer briefly.' });
    const stream = client.beta.threads.createAndRun({
      assistant_id: assistant.id,
      thread: { messages: [{ role: 'user', content: 'Hello from node A' }] },
      max_completion_tokens: 256,
      stream: true,
    });
    const events: string[] = [];
    let text = '';
    let threadId: string | undefined;
    for await (const event of await stream) {
      events.push(event.event);
      if (event.event === 'thread.created') threadId = event.data.id;
      if (event.event === 'thread.message.delta') {
        for (const part of event.data.delta.content ?? [])
          if (part.type === 'text') text += part.text?.value ?? '';
      }
    }
    expect(events[0]).toBe('thread.created');
    expect(events).toContain('thread.run.in_progress');
    expect(events).toContain('thread.message.delta');
    expect(events.at(-1)).toMatch(/^thread\.run\.(completed|incomplete)$/);
    // What streamed is what was stored (by the other node).
    expect(threadId).toBeDefined();
    const messages = await client.beta.threads.messages.list(threadId!, { order: 'asc' });
    const answer = messages.data[1]?.content[0];
    expect(answer?.type === 'text' ? answer.text.value : undefined).toBe(text);
    expect(text.length).toBeGreaterThan(0);
  });

  it('cancels on the executing node a run cancelled through the other', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL });
    // The test model may end its answer at any token: a run that finished before the cancel
    // arrived proves nothing, so try again with a fresh one (a few times at most).
    for (let attempt = 1; ; attempt++) {
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: 'Write a long story.' }],
      });
      let run = await client.beta.threads.runs.create(thread.id, {
        assistant_id: assistant.id,
        max_completion_tokens: 4000,
      });
      while (run.status === 'queued') {
        await new Promise((resolve) => setTimeout(resolve, 20));
        run = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
      }
      const cancelled = await client.beta.threads.runs
        .cancel(run.id, { thread_id: thread.id })
        .then(() => true)
        .catch((error: { status?: number }) => {
          if (error.status === 400 && attempt < 5) return false; // it had already ended
          throw error;
        });
      if (!cancelled) continue;
      const started = Date.now();
      while (
        !['cancelled', 'completed', 'incomplete', 'failed'].includes(run.status) &&
        Date.now() - started < 30_000
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        run = await client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
      }
      // Without events between the nodes, the executing node finishes the answer instead.
      expect(run.status).toBe('cancelled');
      return;
    }
  });
});
