// Tool calling on /v1/chat/completions: `tools` with every `tool_choice`, `parallel_tool_calls`,
// the legacy `functions`/`function_call`, and how calls stream (raw chunks and the SDK helper).
import type OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer, streamRaw } from '../support/api-server.js';
import { assertMatchesSpec, type JsonSchema, validateJsonSchema } from '../support/openapi-schemas.js';

let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

const weatherParameters = {
  type: 'object',
  properties: {
    city: { type: 'string', maxLength: 20 },
    unit: { enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer' },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
} satisfies JsonSchema;

const timeParameters = {
  type: 'object',
  properties: { zone: { type: 'string', maxLength: 12 }, exact: { type: 'boolean' } },
  required: ['zone', 'exact'],
  additionalProperties: false,
} satisfies JsonSchema;

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather forecast for a city.',
      parameters: weatherParameters,
    },
  },
  {
    type: 'function',
    function: { name: 'get_time', description: 'The time in a zone.', parameters: timeParameters },
  },
];
const parametersOf: Record<string, JsonSchema> = { get_weather: weatherParameters, get_time: timeParameters };

const ask = [{ role: 'user' as const, content: 'What is the weather in Oslo, and what time is it there?' }];

async function chat(
  params: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>,
): Promise<OpenAI.ChatCompletion> {
  const completion = await client.chat.completions.create({ model: MODEL, ...params });
  assertMatchesSpec('CreateChatCompletionResponse', completion);
  return completion;
}

/** A call is well formed: `call_` id, type function, a declared name, arguments that satisfy its schema. */
function expectValidCall(call: OpenAI.ChatCompletionMessageToolCall): void {
  expect(call.id).toMatch(/^call_[A-Za-z0-9]+$/);
  expect(call.type).toBe('function');
  if (call.type !== 'function') return;
  const schema = parametersOf[call.function.name];
  expect(schema, `unknown function ${call.function.name}`).toBeDefined();
  const args: unknown = JSON.parse(call.function.arguments);
  expect(validateJsonSchema(schema!, args)).toEqual([]);
}

describe('tool_choice', () => {
  it('required: the model calls tools, with finish_reason tool_calls and arguments that satisfy the schema', async () => {
    // Seeds that give one, two and three parallel calls (random weights can chain a dozen).
    for (const seed of [8, 6, 3]) {
      const completion = await chat({ messages: ask, tools, tool_choice: 'required', seed });
      const [choice] = completion.choices;
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content).toBeNull();
      expect(choice?.message.tool_calls?.length).toBeGreaterThanOrEqual(1);
      for (const call of choice!.message.tool_calls!) expectValidCall(call);
      const ids = choice!.message.tool_calls!.map((call) => call.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('a named function: exactly that function is called', async () => {
    for (const name of ['get_time', 'get_weather']) {
      const completion = await chat({
        messages: ask,
        tools,
        tool_choice: { type: 'function', function: { name } },
        seed: 4,
      });
      const [choice] = completion.choices;
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.tool_calls).toHaveLength(1);
      const call = choice!.message.tool_calls![0]!;
      expectValidCall(call);
      expect(call.type === 'function' && call.function.name).toBe(name);
    }
  });

  it('parallel_tool_calls false: exactly one call', async () => {
    for (const seed of [5, 6, 7]) {
      const completion = await chat({
        messages: ask,
        tools,
        tool_choice: 'required',
        parallel_tool_calls: false,
        seed,
      });
      expect(completion.choices[0]?.message.tool_calls).toHaveLength(1);
      expectValidCall(completion.choices[0]!.message.tool_calls![0]!);
    }
  });

  it('auto and none are accepted; none never calls a tool', async () => {
    const auto = await chat({ messages: ask, tools, tool_choice: 'auto', max_tokens: 16, seed: 8 });
    expect(['stop', 'length', 'tool_calls']).toContain(auto.choices[0]?.finish_reason);
    const none = await chat({ messages: ask, tools, tool_choice: 'none', max_tokens: 16, seed: 8 });
    expect(['stop', 'length']).toContain(none.choices[0]?.finish_reason);
    expect(none.choices[0]?.message.tool_calls).toBeUndefined();
    expect(none.choices[0]?.message.content).toBeTypeOf('string');
  });

  it('n: each choice makes its own valid calls', async () => {
    const completion = await chat({ messages: ask, tools, tool_choice: 'required', n: 2, seed: 27 });
    expect(completion.choices).toHaveLength(2);
    for (const choice of completion.choices) {
      expect(choice.finish_reason).toBe('tool_calls');
      for (const call of choice.message.tool_calls ?? []) expectValidCall(call);
    }
  });

  it('a forced call cut off by max_tokens: finish_reason length and no protocol markup in the content', async () => {
    for (const max_tokens of [3, 10, 30]) {
      const completion = await chat({ messages: ask, tools, tool_choice: 'required', max_tokens, seed: 17 });
      const [choice] = completion.choices;
      expect(choice?.finish_reason).toBe('length');
      expect(choice?.message.content ?? '').toBe('');
      for (const call of choice?.message.tool_calls ?? []) {
        expect(call.type === 'function' && call.function.name in parametersOf).toBe(true);
      }
      const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
        model: MODEL,
        messages: ask,
        tools,
        tool_choice: 'required',
        max_tokens,
        seed: 17,
      });
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('');
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
    }
  });

  it('a conversation carries on after the tool results', async () => {
    const first = await chat({
      messages: ask,
      tools,
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 10,
    });
    const baseline = await chat({ messages: ask, tools, tool_choice: 'none', max_tokens: 1 });
    const message = first.choices[0]!.message;
    const call = message.tool_calls![0]!;
    const completion = await chat({
      messages: [
        ...ask,
        { role: 'assistant', content: message.content, tool_calls: message.tool_calls ?? [] },
        { role: 'tool', tool_call_id: call.id, content: '{"result": "sunny, 4 degrees"}' },
      ],
      tools,
      tool_choice: 'none',
      max_tokens: 8,
    });
    expect(['stop', 'length']).toContain(completion.choices[0]?.finish_reason);
    // The call and its result are part of the prompt.
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(baseline.usage!.prompt_tokens + 10);
  });
});

describe('legacy functions / function_call', () => {
  const functions = tools
    .map((tool) => (tool.type === 'function' ? tool.function : undefined))
    .filter(Boolean) as OpenAI.Chat.ChatCompletionCreateParams.Function[];

  it('function_call with a name: message.function_call and finish_reason function_call', async () => {
    const completion = await chat({
      messages: ask,
      functions,
      function_call: { name: 'get_weather' },
      seed: 11,
    });
    const [choice] = completion.choices;
    expect(choice?.finish_reason).toBe('function_call');
    expect(choice?.message.tool_calls).toBeUndefined();
    expect(choice?.message.function_call?.name).toBe('get_weather');
    const args: unknown = JSON.parse(choice!.message.function_call!.arguments);
    expect(validateJsonSchema(weatherParameters, args)).toEqual([]);
  });

  it('auto and none are accepted', async () => {
    for (const function_call of ['auto', 'none'] as const) {
      const completion = await chat({ messages: ask, functions, function_call, max_tokens: 8 });
      expect(['stop', 'length', 'function_call']).toContain(completion.choices[0]?.finish_reason);
    }
  });

  it('streams the call as delta.function_call: the name first, then the arguments', async () => {
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      model: MODEL,
      messages: ask,
      functions,
      function_call: { name: 'get_time' },
      seed: 12,
    });
    const deltas = chunks
      .flatMap((chunk) => chunk.choices.map((choice) => choice.delta.function_call))
      .filter(Boolean);
    expect(deltas[0]).toEqual({ name: 'get_time', arguments: '' });
    for (const delta of deltas.slice(1)) expect(delta?.name).toBeUndefined();
    const args: unknown = JSON.parse(deltas.map((delta) => delta?.arguments ?? '').join(''));
    expect(validateJsonSchema(timeParameters, args)).toEqual([]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('function_call');
  });
});

describe('streamed tool calls', () => {
  it('raw chunks: id, type, name and empty arguments first for each call index, then only arguments', async () => {
    // Seeds that give three and two calls.
    for (const seed of [3, 12]) {
      const params = { model: MODEL, messages: ask, tools, tool_choice: 'required' as const, seed };
      const whole = await chat(params);
      const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', params);
      for (const chunk of chunks) assertMatchesSpec('CreateChatCompletionStreamResponse', chunk);
      const calls = new Map<number, { id: string; name: string; arguments: string }>();
      for (const chunk of chunks) {
        for (const delta of chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? [])) {
          expect(Number.isSafeInteger(delta.index) && delta.index >= 0).toBe(true);
          const known = calls.get(delta.index);
          if (!known) {
            expect(delta.id).toMatch(/^call_/);
            expect(delta.type).toBe('function');
            expect(delta.function).toEqual({ name: expect.any(String), arguments: '' });
            calls.set(delta.index, { id: delta.id!, name: delta.function!.name!, arguments: '' });
          } else {
            expect(Object.keys(delta).sort()).toEqual(['function', 'index']);
            expect(Object.keys(delta.function!)).toEqual(['arguments']);
            known.arguments += delta.function!.arguments;
          }
        }
      }
      // Parallel calls take indexes 0, 1, 2… in order.
      expect(calls.size).toBeGreaterThanOrEqual(2);
      expect([...calls.keys()]).toEqual([...calls.keys()].map((_, index) => index));
      const streamed = [...calls.values()];
      const expected = whole.choices[0]!.message.tool_calls!;
      expect(streamed.map((call) => [call.name, call.arguments])).toEqual(
        expected.map((call) =>
          call.type === 'function' ? [call.function.name, call.function.arguments] : [],
        ),
      );
      for (const call of streamed) {
        expectValidCall({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        });
      }
      const finishes = chunks
        .flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason))
        .filter(Boolean);
      expect(finishes).toEqual(['tool_calls']);
      // No protocol markup leaks into the content.
      const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
      expect(content).toBe('');
    }
  });

  it('the SDK stream helper assembles the calls, with argument events, like the non-streamed answer', async () => {
    const params = { model: MODEL, messages: ask, tools, tool_choice: 'required' as const, seed: 15 };
    const whole = await chat(params);
    const done: { name: string; arguments: string }[] = [];
    const runner = client.chat.completions
      .stream(params)
      .on('tool_calls.function.arguments.done', (event) =>
        done.push({ name: event.name, arguments: event.arguments }),
      );
    const final = await runner.finalChatCompletion();
    const [choice] = final.choices;
    expect(choice?.finish_reason).toBe('tool_calls');
    const calls = choice!.message.tool_calls!;
    const expected = whole.choices[0]!.message.tool_calls!;
    expect(
      calls.map((call) => call.type === 'function' && [call.function.name, call.function.arguments]),
    ).toEqual(
      expected.map((call) => call.type === 'function' && [call.function.name, call.function.arguments]),
    );
    for (const call of calls) expectValidCall(call);
    expect(done.map((call) => call.name)).toEqual(
      calls.map((call) => (call.type === 'function' ? call.function.name : '')),
    );
  });

  it('parallel_tool_calls false streams exactly one call', async () => {
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      model: MODEL,
      messages: ask,
      tools,
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 16,
    });
    const indexes = new Set(
      chunks.flatMap((chunk) =>
        chunk.choices.flatMap((choice) => choice.delta.tool_calls?.map((call) => call.index) ?? []),
      ),
    );
    expect([...indexes]).toEqual([0]);
  });
});
