// The run engine's cost: one Assistants run (queue pickup by a worker, state writes, steps and
// messages, events fanned out to a stream) against the same model call made directly on the same
// model, alternating rounds in one process; plus the time to fit a 10,000-message thread into the
// context window (from a cold and a warm token cache) and to summarize what falls out.
//
//   npm run bench:runs [-- --tokens 64 --rounds 15 --dim 256 --layers 4 --threads 1 --database postgres://…]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../packages/server/src/config/config.js';
import { STREAM_END_STATUSES } from '../packages/server/src/engine/run-events.js';
import { assembleContext } from '../packages/server/src/engine/thread-context.js';
import { summarizeWithModel } from '../packages/server/src/engine/thread-summarizer.js';
import { TokenCounter } from '../packages/server/src/engine/token-counter.js';
import { defaultSampling } from '../packages/server/src/inference/sampling.js';
import type { ChatMessage, GenerateRequest } from '../packages/server/src/inference/spec.js';
import { makeTestModel } from '../packages/server/src/inference/test-model/make-test-model.js';
import { startServer } from '../packages/server/src/main.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '15' },
    dim: { type: 'string', default: '256' },
    layers: { type: 'string', default: '4' },
    // One llama.cpp thread: on a small shared machine more threads spin against each other.
    threads: { type: 'string', default: '1' },
    messages: { type: 'string', default: '10000' },
    database: { type: 'string' },
  },
});
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
const MODEL = 'bench';
const INSTRUCTIONS = 'You are a helpful assistant. Answer briefly.';
const QUESTION = 'The quick brown fox jumps over the lazy dog. What happens next?';

const dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-bench-runs-'));
const made = await makeTestModel({
  path: path.join(dataDir, 'models', `${MODEL}.gguf`),
  name: MODEL,
  dim: Number(values.dim),
  layers: Number(values.layers),
  seed: 1,
  // Fixed-length answers: the model never ends a reply on its own, both paths stop at `tokens`.
  meanReplyTokens: Number.POSITIVE_INFINITY,
});
const config = loadConfig({
  env: {
    ATELIER_DATA_DIR: dataDir,
    ATELIER_PORT: '0',
    ATELIER_LOG_LEVEL: 'warn',
    ATELIER_THREADS: values.threads,
    ATELIER_RUN_WORKERS: '1',
    ...(values.database ? { ATELIER_DATABASE_URL: values.database } : {}),
  },
  cwd: dataDir,
});
const server = await startServer({ config, logger: pino({ level: 'warn' }), listen: false });
const { repositories } = server.storage;
const model = server.registry.languageModel(MODEL);
console.log(
  `model: dim ${made.dim}, ${made.layers} layers, ${(made.parameterCount / 1e6).toFixed(1)}M parameters, ${values.threads} threads; ${tokens} tokens per answer, ${rounds} rounds; ${server.storage.database.dialect}`,
);

try {
  const workspace = await repositories.workspaces.create({ name: 'bench' });
  const workspaceId = workspace.id;
  const assistant = await repositories.assistants.create({
    workspaceId,
    name: 'bench',
    description: null,
    model: MODEL,
    instructions: INSTRUCTIONS,
    tools: [],
    toolResources: {},
    metadata: {},
    temperature: null,
    topP: null,
    responseFormat: 'auto',
  });

  const messages: ChatMessage[] = [
    { role: 'system', content: INSTRUCTIONS },
    { role: 'user', content: [{ type: 'text', text: QUESTION }] },
  ];
  const request: GenerateRequest = {
    input: { type: 'chat', messages, tools: [], toolMode: { type: 'none' }, parallelToolCalls: true },
    sampling: defaultSampling({
      maxTokens: tokens,
    }),
    constraint: { type: 'none' },
  };

  async function direct(): Promise<number> {
    const started = performance.now();
    let generated = 0;
    for await (const event of model.generate(request))
      if (event.type === 'finish') generated = event.usage.completionTokens;
    if (generated !== tokens) throw new Error(`direct call made ${generated} tokens`);
    return performance.now() - started;
  }

  /** A run through the engine, read as a stream: created → … → incomplete (at `tokens`). */
  async function engineRun(): Promise<{ total: number; pickup: number; closing: number }> {
    const thread = await repositories.threads.create({ workspaceId });
    await repositories.messages.create({
      workspaceId,
      threadId: thread.id,
      role: 'user',
      content: [{ type: 'text', text: QUESTION, annotations: [] }],
    });
    const started = performance.now();
    const { events } = await server.runs.engine.createRun({
      workspaceId,
      threadId: thread.id,
      assistantId: assistant.id,
      // Below the API's floor of 256, allowed to the engine: both paths make the same tokens.
      options: { maxCompletionTokens: tokens, truncationStrategy: { type: 'auto', lastMessages: null } },
      additionalMessages: [],
      stream: true,
    });
    let pickedUp = 0;
    let lastDelta = 0;
    for await (const event of events!) {
      const at = performance.now();
      if (event.type === 'run' && event.event === 'in_progress') pickedUp = at;
      if (event.type === 'message-delta') lastDelta = at;
      if (
        event.type === 'run' &&
        event.event !== 'created' &&
        STREAM_END_STATUSES.includes(event.run.status)
      ) {
        if (event.run.completionTokens !== tokens)
          throw new Error(`run made ${event.run.completionTokens} tokens`);
        events!.close();
        return { total: at - started, pickup: pickedUp - started, closing: at - lastDelta };
      }
    }
    throw new Error('the run stream ended early');
  }

  await direct();
  await engineRun();
  const directTimes: number[] = [];
  const engineTimes: number[] = [];
  const pickups: number[] = [];
  const closings: number[] = [];
  for (let round = 0; round < rounds; round++) {
    directTimes.push(await direct());
    const run = await engineRun();
    engineTimes.push(run.total);
    pickups.push(run.pickup);
    closings.push(run.closing);
  }
  const d = median(directTimes);
  const e = median(engineTimes);
  console.log(
    `one run of ${tokens} tokens: direct model call ${d.toFixed(1)} ms, through the run engine ${e.toFixed(1)} ms: ` +
      `overhead ${(e - d).toFixed(1)} ms per run, ratio ${(e / d).toFixed(3)}`,
  );
  console.log(
    `  of which queue pickup (create → in_progress) ${median(pickups).toFixed(1)} ms, ` +
      `last token → run completed event ${median(closings).toFixed(1)} ms (medians of ${rounds})`,
  );

  // A 10,000-message thread: fit it into the context window.
  const count = Number(values.messages);
  const thread = await repositories.threads.create({ workspaceId });
  const insertStarted = performance.now();
  await repositories.messages.createMany(
    Array.from({ length: count }, (_, index) => ({
      workspaceId,
      threadId: thread.id,
      role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: [
        {
          type: 'text' as const,
          text: `Message ${index}: notes on the plan, item ${index * 7}, next steps.`,
          annotations: [],
        },
      ],
    })),
  );
  const insertMs = performance.now() - insertStarted;
  const assemble = async (counter: TokenCounter, withSummary: boolean) => {
    const started = performance.now();
    const context = await assembleContext({
      model,
      counter,
      messages: repositories.messages,
      threads: repositories.threads,
      threadId: thread.id,
      instructions: INSTRUCTIONS,
      tools: [],
      toolRounds: [],
      truncation: { type: 'auto', lastMessages: null },
      maxPromptTokens: null,
      completionReserve: Math.floor(model.info.contextLength / 4),
      summarizer: withSummary ? summarizeWithModel : undefined,
    });
    if (context.kind !== 'fits') throw new Error('the thread did not fit');
    return { ms: performance.now() - started, record: context.record };
  };
  const counter = new TokenCounter();
  const cold = await assemble(counter, false);
  const warm: number[] = [];
  for (let round = 0; round < rounds; round++) warm.push((await assemble(counter, false)).ms);
  const summarized = await assemble(new TokenCounter(), true);
  // Later runs find the summary caught up (each run folds in what newly fell out): simulate that.
  const firstKept = await repositories.messages.findById(summarized.record.firstIncludedMessageId!);
  await repositories.threads.saveSummary({
    threadId: thread.id,
    text: (await repositories.threads.findSummary(thread.id))!.text,
    throughSeq: firstKept!.seq - 1,
    messageCount: summarized.record.droppedMessages,
    model: MODEL,
  });
  const steadyTimes: number[] = [];
  for (let round = 0; round < rounds; round++) steadyTimes.push((await assemble(counter, true)).ms);
  console.log(
    `context assembly, ${count}-message thread (inserted in ${insertMs.toFixed(0)} ms): ${cold.record.includedMessages} messages ` +
      `fit ${model.info.contextLength} tokens of context; cold ${cold.ms.toFixed(1)} ms, warm ${median(warm).toFixed(1)} ms ` +
      `(median of ${rounds})`,
  );
  console.log(
    `  with the rolling summary: first assembly (summarizes ${summarized.record.summary?.throughMessageCount ?? 0} dropped messages with the model) ` +
      `${summarized.ms.toFixed(0)} ms; with the summary caught up ${median(steadyTimes).toFixed(1)} ms (median of ${rounds})`,
  );
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
