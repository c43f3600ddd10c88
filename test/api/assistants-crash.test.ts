// Restart safety: SIGKILL the server while 20 runs are in flight (queued, or writing their answer),
// start a new one on the same data, and every run ends in a terminal state with its thread intact:
// the user's message untouched, one answer per run, no half-written or duplicated message.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTestModel } from '../../packages/server/src/inference/test-model/make-test-model.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const apiKey = 'sk-atelier-crash-0123456789abcdefghijkl';
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-crash-'));
  // Replies of a few hundred tokens: long enough to be cut off by the kill.
  await makeTestModel({
    path: path.join(dataDir, 'models', 'crash-model.gguf'),
    name: 'crash-model',
    meanReplyTokens: 300,
  });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

async function startServerProcess(): Promise<{ child: ChildProcess; client: OpenAI }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'test/support/serve-process.ts')],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        ATELIER_DATA_DIR: dataDir,
        ATELIER_PORT: '0',
        ATELIER_BOOTSTRAP_API_KEY: apiKey,
        ATELIER_LOG_LEVEL: 'warn',
        ATELIER_THREADS: '1',
        // Every run in flight at once: 20 workers over the model's 4 sequences.
        ATELIER_RUN_WORKERS: '20',
        ATELIER_PARALLEL_SEQUENCES: '4',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const match = /listening (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${output}`)));
  });
  return { child, client: new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 }) };
}

it('SIGKILL with 20 runs in flight: after a restart every run ends, messages intact and not duplicated', async () => {
  const first = await startServerProcess();
  const assistant = await first.client.beta.assistants.create({ model: 'crash-model' });
  const started: { threadId: string; runId: string; question: string }[] = [];
  for (let index = 0; index < 20; index++) {
    const question = `Question number ${index}?`;
    const thread = await first.client.beta.threads.create({
      messages: [{ role: 'user', content: question }],
    });
    const run = await first.client.beta.threads.runs.create(thread.id, {
      assistant_id: assistant.id,
      max_completion_tokens: 800,
    });
    started.push({ threadId: thread.id, runId: run.id, question });
  }
  // Kill once answers are being written (some runs may already be done: that is fine too).
  for (let wait = 0; wait < 100; wait++) {
    const writing = await first.client.beta.threads.messages.list(started[0]!.threadId);
    if (writing.data.some((message) => message.role === 'assistant')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const before = await Promise.all(
    started.map(
      async ({ threadId, runId }) =>
        (await first.client.beta.threads.runs.retrieve(runId, { thread_id: threadId })).status,
    ),
  );
  const writing = await Promise.all(
    started.map(async ({ threadId }) =>
      (await first.client.beta.threads.messages.list(threadId)).data.some(
        (message) => message.role === 'assistant' && message.status === 'in_progress',
      ),
    ),
  );
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  const inFlight = before.filter((status) => status === 'queued' || status === 'in_progress').length;
  expect(inFlight, `statuses at the kill: ${before.join(', ')}`).toBeGreaterThanOrEqual(10);
  // Some answers were half written: the restart must not keep them, nor write a second one.
  expect(writing.filter(Boolean).length).toBeGreaterThan(0);

  const second = await startServerProcess();
  const deadline = Date.now() + 90_000;
  const runs = new Map<string, OpenAI.Beta.Threads.Run>();
  for (const { threadId, runId } of started) {
    for (;;) {
      const run = await second.client.beta.threads.runs.retrieve(runId, { thread_id: threadId });
      if (['completed', 'incomplete', 'failed', 'cancelled', 'expired'].includes(run.status)) {
        runs.set(runId, run);
        break;
      }
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  for (const { threadId, runId, question } of started) {
    const run = runs.get(runId)!;
    expect(['completed', 'incomplete'], `${runId}: ${JSON.stringify(run.last_error)}`).toContain(run.status);
    const messages = (await second.client.beta.threads.messages.list(threadId, { order: 'asc' })).data;
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(messages[0]!.content).toEqual([{ type: 'text', text: { value: question, annotations: [] } }]);
    expect(messages[1]).toMatchObject({
      run_id: runId,
      status: run.status === 'completed' ? 'completed' : 'incomplete',
    });
    const steps = (await second.client.beta.threads.runs.steps.list(runId, { thread_id: threadId })).data;
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({
      status: 'completed',
      step_details: { type: 'message_creation', message_creation: { message_id: messages[1]!.id } },
    });
  }
  second.child.kill('SIGTERM');
  await new Promise((resolve) => second.child.once('exit', resolve));
});
