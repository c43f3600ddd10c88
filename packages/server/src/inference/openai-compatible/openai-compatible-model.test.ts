// The engine's view of an upstream model, against an upstream that streams what OpenAI streams
// (the tool-call delta pattern quoted in vllm-project/vllm#14951), and ones that misbehave.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSampling } from '../sampling.js';
import type { GenerateEvent, GenerateRequest, ModelInfo } from '../spec.js';
import { OpenAICompatibleModel, UpstreamResponseError } from './openai-compatible-model.js';
import { UpstreamClient } from './upstream-client.js';

const servers: Server[] = [];
const clients: UpstreamClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

type Answer = { status?: number; sse?: unknown[]; json?: unknown; end?: 'done' | 'cut' | 'reset' };

/** An upstream answering each request with the next answer; records the bodies it got. */
async function model(
  ...answers: Answer[]
): Promise<{ model: OpenAICompatibleModel; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += String(chunk);
    });
    request.on('end', () => {
      bodies.push(JSON.parse(text));
      const answer = answers.shift() ?? { status: 500, json: {} };
      if (answer.sse) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const event of answer.sse) response.write(`data: ${JSON.stringify(event)}\n\n`);
        if (answer.end === 'reset') {
          // The connection breaks mid-stream, once what was written has gone.
          setTimeout(() => response.socket?.destroy(), 50);
          return;
        }
        if (answer.end !== 'cut') response.write('data: [DONE]\n\n');
        response.end();
        return;
      }
      response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.json));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new UpstreamClient({
    name: 'lab',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    apiKey: 'sk-x',
    timeoutMs: 5_000,
    maxConcurrency: undefined,
    maxRetries: 0,
  });
  clients.push(client);
  const info = { id: 'lab/gpt', provider: 'openai-compatible' } as ModelInfo;
  return { model: new OpenAICompatibleModel({ info, client, upstreamModel: 'gpt' }), bodies };
}

const request: GenerateRequest = {
  input: {
    type: 'chat',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Bergen?' }] },
    ],
    tools: [{ name: 'get_weather', description: 'Forecast', parameters: { type: 'object' } }],
    toolMode: { type: 'auto' },
    parallelToolCalls: true,
  },
  sampling: defaultSampling({
    maxTokens: 50,
    temperature: 0.5,
    seed: 7,
  }),
  constraint: { type: 'none' },
};

async function collect(events: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** The chunk that opens tool call `index` (get_weather), and one that adds to its arguments. */
const callStart = (index: number, id: string) =>
  chunk({ tool_calls: [{ index, id, type: 'function', function: { name: 'get_weather', arguments: '' } }] });
const callArguments = (index: number, text: string) =>
  chunk({ tool_calls: [{ index, function: { arguments: text } }] });

describe('OpenAICompatibleModel.generate', () => {
  it('asks for a stream with usage, in the upstream model name, and turns OpenAI tool-call deltas into events', async () => {
    const { model: upstream, bodies } = await model({
      sse: [
        chunk({ role: 'assistant', content: null }),
        callStart(0, 'call_a'),
        callArguments(0, '{"city":'),
        callStart(1, 'call_b'),
        callArguments(0, '"Oslo"}'),
        callArguments(1, '{"city":"Bergen"}'),
        chunk({}, 'tool_calls'),
        {
          id: 'chatcmpl-1',
          choices: [],
          usage: { prompt_tokens: 30, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 8 } },
        },
      ],
    });
    const events = await collect(upstream.generate(request));
    expect(events).toEqual([
      { type: 'tool-call-start', index: 0, id: 'call_a', name: 'get_weather' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
      { type: 'tool-call-start', index: 1, id: 'call_b', name: 'get_weather' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '"Oslo"}' },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '{"city":"Bergen"}' },
      {
        type: 'finish',
        reason: 'tool_calls',
        usage: { promptTokens: 30, completionTokens: 12, cachedPromptTokens: 8 },
      },
    ]);
    expect(bodies[0]).toMatchObject({
      model: 'gpt',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Oslo and Bergen?' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Forecast', parameters: { type: 'object' } },
        },
      ],
      tool_choice: 'auto',
      max_tokens: 50,
      temperature: 0.5,
      seed: 7,
    });
    expect(bodies[0]).not.toHaveProperty('parallel_tool_calls');
  });

  it('keeps only the first tool call when parallel_tool_calls is false, even if the upstream sends more', async () => {
    const { model: upstream, bodies } = await model({
      sse: [
        chunk({ role: 'assistant', content: null }),
        // The arguments of the second call come before its name: they must not leak either.
        callArguments(1, '{"city":'),
        callStart(0, 'call_a'),
        callArguments(0, '{"city":'),
        callStart(1, 'call_b'),
        callArguments(0, '"Oslo"}'),
        callArguments(1, '"Bergen"}'),
        chunk({
          tool_calls: [
            { index: 2, id: 'call_c', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        }),
        chunk({}, 'tool_calls'),
      ],
    });
    const single = { ...request, input: { ...request.input, parallelToolCalls: false } } as GenerateRequest;
    const events = await collect(upstream.generate(single));
    expect(bodies[0]).toMatchObject({ parallel_tool_calls: false });
    expect(events.filter((event) => event.type !== 'finish')).toEqual([
      { type: 'tool-call-start', index: 0, id: 'call_a', name: 'get_weather' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '"Oslo"}' },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'tool_calls' });
  });

  it('asks again without stream_options when the upstream refuses them, and counts usage itself', async () => {
    const { model: upstream, bodies } = await model(
      {
        status: 400,
        json: {
          error: { message: "property 'stream_options' is unsupported", type: 'invalid_request_error' },
        },
      },
      {
        sse: [
          chunk({ role: 'assistant', content: 'Hello' }),
          chunk({ content: ' there' }),
          chunk({}, 'stop'),
        ],
      },
    );
    const events = await collect(upstream.generate(request));
    expect(bodies[1]).not.toHaveProperty('stream_options');
    expect(events.slice(0, 2)).toEqual([
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: ' there' },
    ]);
    const finish = events.at(-1);
    expect(finish).toMatchObject({ type: 'finish', reason: 'stop' });
    if (finish?.type !== 'finish') return;
    expect(finish.usage.completionTokens).toBe((await upstream.tokenize('Hello there')).length);
    expect(finish.usage.promptTokens).toBeGreaterThan(0);
    // Counted here, not told by the upstream: the ledger marks it estimated.
    expect(finish.usage.estimated).toBe(true);
  });

  it("an upstream error keeps the upstream's status, code and param", async () => {
    const { model: upstream } = await model({
      status: 400,
      json: {
        error: {
          message: 'max_tokens is too large',
          type: 'invalid_request_error',
          param: 'max_tokens',
          code: 'context_length_exceeded',
        },
      },
    });
    const error = await collect(upstream.generate(request)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect(error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      param: 'max_tokens',
      code: 'context_length_exceeded',
      message: 'max_tokens is too large',
    });
  });

  it('a stream cut before it finished is an error, not a silent stop', async () => {
    const { model: upstream } = await model({ sse: [chunk({ content: 'Hal' })], end: 'cut' });
    await expect(collect(upstream.generate(request))).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });

  it('a stream whose connection broke midway is the same OpenAI-style error', async () => {
    const { model: upstream } = await model({ sse: [chunk({ content: 'Hal' })], end: 'reset' });
    const seen: GenerateEvent[] = [];
    const failure = await (async () => {
      for await (const event of upstream.generate(request)) seen.push(event);
    })().catch((error: unknown) => error);
    expect(seen).toEqual([{ type: 'text-delta', text: 'Hal' }]);
    expect(failure).toMatchObject({
      status: 503,
      type: 'service_unavailable_error',
      code: 'upstream_unavailable',
      message: 'The upstream `lab` ended its stream before finishing.',
    });
  });
});

describe('OpenAICompatibleModel.embed', () => {
  it('asks for base64 and decodes little-endian float32, in input order', async () => {
    const vector = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');
    const { model: upstream, bodies } = await model({
      json: {
        object: 'list',
        data: [
          { object: 'embedding', index: 1, embedding: vector([0.5, -1]) },
          { object: 'embedding', index: 0, embedding: [0.25, 2] },
        ],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      },
    });
    const result = await upstream.embed({ inputs: ['a', 'b'] });
    expect(bodies[0]).toEqual({ model: 'gpt', input: ['a', 'b'], encoding_format: 'base64' });
    expect(result.embeddings.map((embedding) => Array.from(embedding))).toEqual([
      [0.25, 2],
      [0.5, -1],
    ]);
    expect(result.promptTokens).toBe(4);
  });
});
