// code_interpreter end to end on the server's own sandbox, with the official clients of both
// generations. One run on the test model executes whatever code that model writes (noise: the
// point is that it runs, logs and the run completes). The others use a scripted model behind the
// upstream protocol (test/support/scripted-upstream.ts) so the code is exact: state kept across
// the calls and runs of a thread, a matplotlib chart returned as an image_file that downloads as
// a PNG, a CSV the user gave (v2 tool_resources, v1 file_ids) read with pandas and a result file
// cited by a file_path annotation. Steps, messages and stream events are checked against the
// v1 and v2 specs.
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { toFile as toFileV1 } from 'openai-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { decodePng } from '../../packages/server/src/tools/code-interpreter/test-support/png.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { assertMatchesSpec, eventSchema, namedEvents, v1Client } from './assistants-support.js';

const CODER = 'scripted/coder';
let upstream: ScriptedUpstream;
let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startScriptedUpstream();
  server = await startApiServer({
    tools: 'server',
    env: {
      ATELIER_UPSTREAMS: JSON.stringify([
        { name: 'script', base_url: upstream.baseUrl, prefix: 'scripted/' },
      ]),
      ATELIER_SANDBOX_TIMEOUT_SECONDS: '20',
    },
  });
  client = server.client;
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});

const SALES_CSV = 'region,amount\nnorth,120\nsouth,80\nnorth,30\neast,50\n';
const SUMMARY_CODE = [
  'import pandas as pd',
  'sales = pd.read_csv("/mnt/data/sales.csv")',
  'summary = sales.groupby("region")["amount"].sum()',
  'summary.to_csv("/mnt/data/summary.csv")',
  'print(summary.to_string())',
].join('\n');
const SUMMARY_ANSWER = 'North sold the most. Download [the summary](sandbox:/mnt/data/summary.csv).';

type Step = OpenAI.Beta.Threads.Runs.RunStep;
type CodeCall = OpenAI.Beta.Threads.Runs.CodeInterpreterToolCall;

/** The code_interpreter calls of a run, oldest first, every step checked against the v2 spec. */
async function codeCalls(threadId: string, runId: string): Promise<CodeCall[]> {
  const steps = await client.beta.threads.runs.steps.list(runId, { thread_id: threadId, order: 'asc' });
  for (const step of steps.data) assertMatchesSpec('v2', 'RunStepObject', step);
  return steps.data.flatMap((step: Step) =>
    step.step_details.type === 'tool_calls'
      ? step.step_details.tool_calls.filter((call): call is CodeCall => call.type === 'code_interpreter')
      : [],
  );
}

async function answerOf(threadId: string, runId: string) {
  const [answer] = (await client.beta.threads.messages.list(threadId, { run_id: runId })).data;
  assertMatchesSpec('v2', 'MessageObject', answer);
  return answer!;
}

async function download(fileId: string): Promise<Buffer> {
  return Buffer.from(await (await client.files.content(fileId)).arrayBuffer());
}

describe('code_interpreter on the test model', () => {
  it('runs the code the model wrote: the step has its input and logs, the run completes', async () => {
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      tools: [{ type: 'code_interpreter' }],
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'Compute 2 + 2 in Python.' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id, tool_choice: { type: 'code_interpreter' } },
      { pollIntervalMs: 100 },
    );
    assertMatchesSpec('v2', 'RunObject', run);
    expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
    const [call] = await codeCalls(thread.id, run.id);
    expect(call!.code_interpreter.input).toEqual(expect.any(String));
    expect(call!.code_interpreter.outputs[0]).toEqual({ type: 'logs', logs: expect.any(String) });
    // Noise is seldom valid Python: what it printed or the error it raised is in the logs.
    if (call!.code_interpreter.input.trim() !== '') {
      expect((call!.code_interpreter.outputs[0] as { logs: string }).logs).not.toBe('');
    }
  });
});

describe('code_interpreter with a scripted model', () => {
  it('keeps variables across the calls and the runs of a thread', async () => {
    upstream.script('Count with me.', [
      { code: 'counter = 41' },
      { code: 'counter += 1\nprint(counter)' },
      { text: 'The counter is 42.' },
    ]);
    upstream.script('Double it.', [{ code: 'print(counter * 2)' }, { text: 'Now it is 84.' }]);
    const assistant = await client.beta.assistants.create({
      model: CODER,
      tools: [{ type: 'code_interpreter' }],
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'Count with me.' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 100 },
    );
    expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
    const calls = await codeCalls(thread.id, run.id);
    expect(calls.map((call) => call.code_interpreter)).toEqual([
      { input: 'counter = 41', outputs: [{ type: 'logs', logs: '' }] },
      { input: 'counter += 1\nprint(counter)', outputs: [{ type: 'logs', logs: '42\n' }] },
    ]);
    expect(
      ((await answerOf(thread.id, run.id)).content[0] as OpenAI.Beta.Threads.TextContentBlock).text.value,
    ).toBe('The counter is 42.');

    await client.beta.threads.messages.create(thread.id, { role: 'user', content: 'Double it.' });
    const again = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 100 },
    );
    expect(again.status).toBe('completed');
    const [doubled] = await codeCalls(thread.id, again.id);
    expect(doubled!.code_interpreter.outputs).toEqual([{ type: 'logs', logs: '84\n' }]);
  });

  it('a matplotlib chart comes back as an image_file, a PNG downloadable from /v1/files', async () => {
    upstream.script('Plot the trend.', [
      {
        code: [
          'import matplotlib.pyplot as plt',
          'plt.figure(figsize=(4, 3))',
          'plt.plot([1, 2, 3, 4], [3, 1, 4, 2], marker="o")',
          'plt.title("Trend")',
          'print("plotted")',
        ].join('\n'),
      },
      { text: 'Here is the trend.' },
    ]);
    const assistant = await client.beta.assistants.create({
      model: CODER,
      tools: [{ type: 'code_interpreter' }],
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'Plot the trend.' }],
    });
    // Streamed: every event, the step deltas with their outputs included, as the v2 spec says.
    const response = await fetch(`${server.baseURL}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: assistant.id, stream: true }),
    });
    const events = namedEvents(await response.text());
    expect(events.at(-1)).toEqual({ event: 'done', data: '[DONE]' });
    for (const { event, data } of events.slice(0, -1)) assertMatchesSpec('v2', eventSchema(event), data);
    const completed = events.find((event) => event.event === 'thread.run.completed')
      ?.data as OpenAI.Beta.Threads.Run;
    expect(completed).toBeDefined();
    const outputDeltas = events
      .filter((event) => event.event === 'thread.run.step.delta')
      .flatMap((event) =>
        (event.data as OpenAI.Beta.Threads.Runs.RunStepDeltaEvent).delta.step_details?.type === 'tool_calls'
          ? (
              (event.data as OpenAI.Beta.Threads.Runs.RunStepDeltaEvent).delta.step_details as {
                tool_calls: { code_interpreter?: { outputs?: unknown[] } }[];
              }
            ).tool_calls
          : [],
      )
      .flatMap((call) => call.code_interpreter?.outputs ?? []);
    expect(outputDeltas).toEqual([
      { index: 0, type: 'logs', logs: 'plotted\n' },
      { index: 1, type: 'image', image: { file_id: expect.stringMatching(/^file-/) } },
    ]);

    const [call] = await codeCalls(thread.id, completed.id);
    expect(call!.code_interpreter.outputs).toEqual([
      { type: 'logs', logs: 'plotted\n' },
      { type: 'image', image: { file_id: expect.stringMatching(/^file-/) } },
    ]);
    const imageId = (call!.code_interpreter.outputs[1] as { image: { file_id: string } }).image.file_id;
    const answer = await answerOf(thread.id, completed.id);
    expect(answer.content).toEqual([
      { type: 'text', text: { value: 'Here is the trend.', annotations: [] } },
      { type: 'image_file', image_file: { file_id: imageId } },
    ]);
    const file = await client.files.retrieve(imageId);
    expect(file).toMatchObject({ purpose: 'assistants_output', filename: expect.stringMatching(/\.png$/) });
    const png = decodePng(await download(imageId));
    expect(png.width).toBeGreaterThanOrEqual(200);
    expect(png.height).toBeGreaterThanOrEqual(150);
  });

  it('v2: reads a CSV of tool_resources with pandas and cites the file it wrote', async () => {
    upstream.script('Summarise the sales by region.', [{ code: SUMMARY_CODE }, { text: SUMMARY_ANSWER }]);
    const csv = await client.files.create({
      file: await toFile(Buffer.from(SALES_CSV), 'sales.csv'),
      purpose: 'assistants',
    });
    const assistant = await client.beta.assistants.create({
      model: CODER,
      tools: [{ type: 'code_interpreter' }],
      tool_resources: { code_interpreter: { file_ids: [csv.id] } },
    });
    const thread = await client.beta.threads.create({
      messages: [{ role: 'user', content: 'Summarise the sales by region.' }],
    });
    const run = await client.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 100 },
    );
    expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
    const [call] = await codeCalls(thread.id, run.id);
    expect(call!.code_interpreter).toEqual({
      input: SUMMARY_CODE,
      outputs: [{ type: 'logs', logs: 'region\neast      50\nnorth    150\nsouth     80\n' }],
    });
    const answer = await answerOf(thread.id, run.id);
    const text = (answer.content[0] as OpenAI.Beta.Threads.TextContentBlock).text;
    expect(text.value).toBe(SUMMARY_ANSWER);
    const [annotation] = text.annotations;
    expect(annotation).toMatchObject({
      type: 'file_path',
      text: 'sandbox:/mnt/data/summary.csv',
      file_path: { file_id: expect.stringMatching(/^file-/) },
    });
    expect(text.value.slice(annotation!.start_index, annotation!.end_index)).toBe(annotation!.text);
    const resultId = (annotation as OpenAI.Beta.Threads.FilePathAnnotation).file_path.file_id;
    expect(await client.files.retrieve(resultId)).toMatchObject({
      filename: 'summary.csv',
      purpose: 'assistants_output',
    });
    expect((await download(resultId)).toString()).toBe('region,amount\neast,50\nnorth,150\nsouth,80\n');
  });

  it('v1: reads a CSV of the assistant’s file_ids, with the openai-v4 client', async () => {
    upstream.script('Summarise the v1 sales by region.', [{ code: SUMMARY_CODE }, { text: SUMMARY_ANSWER }]);
    const v1 = v1Client(server);
    const csv = await v1.files.create({
      file: await toFileV1(Buffer.from(SALES_CSV), 'sales.csv'),
      purpose: 'assistants',
    });
    const assistant = await v1.beta.assistants.create({
      model: CODER,
      tools: [{ type: 'code_interpreter' }],
      file_ids: [csv.id],
    });
    const thread = await v1.beta.threads.create({
      messages: [{ role: 'user', content: 'Summarise the v1 sales by region.' }],
    });
    const run = await v1.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 100 },
    );
    assertMatchesSpec('v1', 'RunObject', run);
    expect(run.status, JSON.stringify(run.last_error)).toBe('completed');
    const steps = await v1.beta.threads.runs.steps.list(thread.id, run.id, { order: 'asc' });
    for (const step of steps.data) assertMatchesSpec('v1', 'RunStepObject', step);
    expect(steps.data[0]!.step_details).toEqual({
      type: 'tool_calls',
      tool_calls: [
        {
          id: expect.stringMatching(/^call_/),
          type: 'code_interpreter',
          code_interpreter: {
            input: SUMMARY_CODE,
            outputs: [{ type: 'logs', logs: 'region\neast      50\nnorth    150\nsouth     80\n' }],
          },
        },
      ],
    });
    const answer = (await v1.beta.threads.messages.list(thread.id)).data.find(
      (message) => message.run_id === run.id,
    )!;
    assertMatchesSpec('v1', 'MessageObject', answer);
    const text = answer.content[0] as { type: 'text'; text: { value: string; annotations: unknown[] } };
    expect(text.text.annotations).toEqual([
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/summary.csv',
        start_index: SUMMARY_ANSWER.indexOf('sandbox:'),
        end_index: SUMMARY_ANSWER.indexOf('sandbox:') + 'sandbox:/mnt/data/summary.csv'.length,
        file_path: { file_id: expect.stringMatching(/^file-/) },
      },
    ]);
    const resultId = (text.text.annotations[0] as { file_path: { file_id: string } }).file_path.file_id;
    expect((await download(resultId)).toString()).toBe('region,amount\neast,50\nnorth,150\nsouth,80\n');

    // The same thread's session still has `summary`: a chart of it, in v1's shapes.
    upstream.script('Chart the v1 summary.', [
      { code: 'import matplotlib.pyplot as plt\nsummary.plot(kind="bar")\nplt.show()' },
      { text: 'The chart.' },
    ]);
    await v1.beta.threads.messages.create(thread.id, { role: 'user', content: 'Chart the v1 summary.' });
    const chart = await v1.beta.threads.runs.createAndPoll(
      thread.id,
      { assistant_id: assistant.id },
      { pollIntervalMs: 100 },
    );
    expect(chart.status, JSON.stringify(chart.last_error)).toBe('completed');
    const [chartStep] = (await v1.beta.threads.runs.steps.list(thread.id, chart.id, { order: 'asc' })).data;
    assertMatchesSpec('v1', 'RunStepObject', chartStep);
    const outputs = (
      chartStep!.step_details as { tool_calls: { code_interpreter: { outputs: unknown[] } }[] }
    ).tool_calls[0]!.code_interpreter.outputs;
    expect(outputs).toEqual([
      { type: 'logs', logs: '' },
      { type: 'image', image: { file_id: expect.stringMatching(/^file-/) } },
    ]);
    const imageId = (outputs[1] as { image: { file_id: string } }).image.file_id;
    const chartAnswer = (await v1.beta.threads.messages.list(thread.id)).data.find(
      (message) => message.run_id === chart.id,
    )!;
    assertMatchesSpec('v1', 'MessageObject', chartAnswer);
    expect(chartAnswer.content[1]).toEqual({ type: 'image_file', image_file: { file_id: imageId } });
    expect(decodePng(await download(imageId)).width).toBeGreaterThan(100);
  });
});
