// Structured Outputs for function calling, with the official `openai` client: a function tool
// with `strict: true` must have a schema in OpenAI's strict subset (else a 400 naming the
// function, before anything runs), and every call of it, forced or in auto mode, streamed or
// not, has arguments that a JSON Schema validator (ajv) accepts. Assistants refuse such a tool
// when the assistant (or a run that brings its own tools) is created.
import OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, tokenIds, vocabulary } from '../support/api-server.js';
import { type Schema, schemaProblems } from '../support/json-schema-check.js';

let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

/** What decoding must enforce: a pattern, an enum, integer bounds, a format, a nested object. */
const forecastParameters = {
  type: 'object',
  properties: {
    city: { type: 'string', pattern: '^[A-Z][a-z]{2,8}$' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
    offset: { type: 'integer', minimum: -12, maximum: 14 },
    station: { type: 'string', pattern: '^[A-Z]{2}-[0-9]{3}$' },
    from: { type: 'string', format: 'date' },
    detail: {
      type: 'object',
      properties: { hourly: { type: 'boolean' }, level: { enum: [1, 2, 3] } },
      required: ['hourly', 'level'],
      additionalProperties: false,
    },
  },
  required: ['city', 'unit', 'days', 'offset', 'station', 'from', 'detail'],
  additionalProperties: false,
} satisfies Schema;

const forecastTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_forecast',
    description: 'Weather forecast for a city.',
    parameters: forecastParameters,
    strict: true,
  },
};

const ask = [{ role: 'user' as const, content: 'What will the weather be in Oslo this week?' }];
const SEEDS = [1, 2, 3];

interface Call {
  readonly name: string;
  readonly arguments: string;
}

/** The calls of each choice, from the whole answer or assembled from the streamed deltas. */
async function calls(
  params: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>,
  { stream }: { stream: boolean },
): Promise<{ finish: (string | null)[]; calls: Call[][] }> {
  if (!stream) {
    const completion = await client.chat.completions.create({ model: MODEL, ...params });
    return {
      finish: completion.choices.map((choice) => choice.finish_reason),
      calls: completion.choices.map(
        (choice) =>
          (choice.message.tool_calls ?? []).map((call) =>
            call.type === 'function'
              ? { name: call.function.name, arguments: call.function.arguments }
              : call,
          ) as Call[],
      ),
    };
  }
  const chunks = await client.chat.completions.create({ model: MODEL, ...params, stream: true });
  const finish: (string | null)[] = [];
  const assembled: { name: string; arguments: string }[][] = [];
  for await (const chunk of chunks) {
    for (const choice of chunk.choices) {
      assembled[choice.index] ??= [];
      const mine = assembled[choice.index]!;
      for (const delta of choice.delta.tool_calls ?? []) {
        mine[delta.index] ??= { name: '', arguments: '' };
        const call = mine[delta.index]!;
        call.name += delta.function?.name ?? '';
        call.arguments += delta.function?.arguments ?? '';
      }
      if (choice.finish_reason) finish[choice.index] = choice.finish_reason;
    }
  }
  return { finish, calls: assembled };
}

function expectValidCalls(result: { finish: (string | null)[]; calls: Call[][] }, label: string): void {
  expect(result.calls.length, label).toBeGreaterThan(0);
  for (const [index, choiceCalls] of result.calls.entries()) {
    expect(result.finish[index], label).toBe('tool_calls');
    expect(choiceCalls.length, label).toBeGreaterThanOrEqual(1);
    for (const call of choiceCalls) {
      expect(call.name, label).toBe('get_forecast');
      const args: unknown = JSON.parse(call.arguments);
      expect(schemaProblems(forecastParameters, args), `${label}: ${call.arguments}`).toEqual([]);
    }
  }
}

describe('strict function tools: a schema outside the strict subset is refused before anything runs', () => {
  const cases: { what: string; parameters: Schema; message: string }[] = [
    {
      what: 'no additionalProperties: false at the root',
      parameters: {
        type: 'object',
        properties: { location: { type: 'string' } },
        required: ['location'],
      },
      message:
        "Invalid schema for function 'get_weather': In context=(), 'additionalProperties' is required to be supplied and to be false.",
    },
    {
      what: 'a property left out of required, in a nested object',
      parameters: {
        type: 'object',
        properties: {
          place: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
        },
        required: ['place'],
        additionalProperties: false,
      },
      message:
        "Invalid schema for function 'get_weather': In context=('properties', 'place'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'unit'.",
    },
    {
      what: 'a keyword decoding cannot enforce',
      parameters: {
        type: 'object',
        properties: { days: { type: 'array', items: { type: 'integer' }, uniqueItems: true } },
        required: ['days'],
        additionalProperties: false,
      },
      message:
        "Invalid schema for function 'get_weather': In context=('properties', 'days'), 'uniqueItems' is not permitted.",
    },
    {
      what: 'an unknown format',
      parameters: {
        type: 'object',
        properties: { card: { type: 'string', format: 'credit-card' } },
        required: ['card'],
        additionalProperties: false,
      },
      message: "Invalid schema for function 'get_weather': In context=('properties', 'card'), 'format'",
    },
    {
      what: 'no object at the root',
      parameters: { type: 'string', pattern: '^[a-z]+$' },
      message:
        "Invalid schema for function 'get_weather': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"string\"'.",
    },
  ];

  it.each(cases)(
    '$what → 400 invalid_request_error naming the function, param tools[1].function.parameters',
    async ({ parameters, message }) => {
      const model = server.server.registry.languageModel(MODEL);
      const generate = vi.spyOn(model, 'generate');
      try {
        for (const tool_choice of ['auto', 'required', 'none'] as ChatCompletionToolChoiceOption[]) {
          const error = await client.chat.completions
            .create({
              model: MODEL,
              messages: ask,
              tools: [
                forecastTool,
                { type: 'function', function: { name: 'get_weather', parameters, strict: true } },
              ],
              tool_choice,
            })
            .catch((caught: unknown) => caught);
          expect(error).toBeInstanceOf(OpenAI.BadRequestError);
          const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
          expect(bad.status).toBe(400);
          expect(bad.type).toBe('invalid_request_error');
          expect(bad.param).toBe('tools[1].function.parameters');
          expect(bad.code).toBe('invalid_function_parameters');
          expect(bad.message).toContain(message);
        }
        // Nothing was generated.
        expect(generate).not.toHaveBeenCalled();
        // (The spy sees a request that runs.)
        await client.chat.completions.create({ model: MODEL, messages: ask, max_tokens: 1 });
        expect(generate).toHaveBeenCalledTimes(1);
      } finally {
        generate.mockRestore();
      }
    },
  );

  it('the legacy functions name the function the same way, param functions[0].parameters', async () => {
    const error = await client.chat.completions
      .create({
        model: MODEL,
        messages: ask,
        functions: [
          { name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: true } as never,
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.param).toBe('functions[0].parameters');
    expect(bad.code).toBe('invalid_function_parameters');
    expect(bad.message).toContain(
      "Invalid schema for function 'get_weather': In context=(), 'additionalProperties' is required to be supplied and to be false.",
    );
  });

  it('without strict (false or left out) the same schemas are accepted, as before', async () => {
    for (const { parameters } of cases) {
      for (const strict of [false, undefined]) {
        const completion = await client.chat.completions.create({
          model: MODEL,
          messages: ask,
          tools: [{ type: 'function', function: { name: 'get_weather', parameters, strict } }],
          tool_choice: 'auto',
          max_tokens: 2,
        });
        expect(['stop', 'length']).toContain(completion.choices[0]?.finish_reason);
      }
    }
  });

  it('a strict function without parameters takes none: its forced call has {} as arguments', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: ask,
      tools: [{ type: 'function', function: { name: 'ping', strict: true } }],
      tool_choice: 'required',
      seed: 1,
    });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({});
  });
});

describe('strict function tools: every call has arguments the schema accepts', () => {
  for (const stream of [false, true]) {
    it(`forced (a named function, and required), ${stream ? 'streamed' : 'not streamed'}`, async () => {
      for (const seed of SEEDS) {
        for (const tool_choice of [
          { type: 'function', function: { name: 'get_forecast' } },
          'required',
        ] as ChatCompletionToolChoiceOption[]) {
          const result = await calls(
            // One call each: with parallel calls the random weights may chain calls past any limit.
            {
              messages: ask,
              tools: [forecastTool],
              tool_choice,
              parallel_tool_calls: false,
              n: 2,
              seed,
              max_tokens: 600,
            },
            { stream },
          );
          expectValidCalls(result, `seed ${seed}, ${JSON.stringify(tool_choice)}`);
        }
      }
    });
  }

  for (const stream of [false, true]) {
    it(`auto: a call the model opens is finished under the schema, ${stream ? 'streamed' : 'not streamed'}`, async () => {
      // The random-weight model opens a call only by chance: the tag's tokens are made likely
      // (what follows the tag stays the model's own choice) and the end tokens unlikely, so each
      // seed writes some text and then a call.
      const bias: Record<string, number> = banEndTokens(await vocabulary(server));
      for (const id of await tokenIds(server, '<tool_call>\n')) bias[String(id)] = 8;
      for (const seed of SEEDS) {
        const result = await calls(
          {
            messages: ask,
            tools: [forecastTool],
            tool_choice: 'auto',
            parallel_tool_calls: false,
            logit_bias: bias,
            seed,
            max_tokens: 3000,
          },
          { stream },
        );
        expectValidCalls(result, `seed ${seed}`);
        expect(result.calls[0]).toHaveLength(1);
      }
    });
  }
});

describe('strict function tools in the Assistants API', () => {
  const invalid = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      strict: true,
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  };
  const message =
    "Invalid schema for function 'get_weather': In context=(), 'additionalProperties' is required to be supplied and to be false.";

  async function refused(promise: Promise<unknown>, param: string): Promise<void> {
    const error = await promise.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.param).toBe(param);
    expect(bad.code).toBe('invalid_function_parameters');
    expect(bad.message).toContain(message);
  }

  it('an assistant with an invalid strict function is refused at creation, and nothing is stored', async () => {
    const before = (await client.beta.assistants.list({ limit: 100 })).data.length;
    await refused(
      client.beta.assistants.create({
        model: MODEL,
        name: 'refused',
        tools: [{ type: 'code_interpreter' }, invalid],
      }),
      'tools[1].function.parameters',
    );
    expect((await client.beta.assistants.list({ limit: 100 })).data).toHaveLength(before);
    // An update, a run that brings its own tools and createAndRun are refused the same way.
    const assistant = await client.beta.assistants.create({ model: MODEL });
    await refused(
      client.beta.assistants.update(assistant.id, { tools: [invalid] }),
      'tools[0].function.parameters',
    );
    expect((await client.beta.assistants.retrieve(assistant.id)).tools).toEqual([]);
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
    await refused(
      client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, tools: [invalid] }),
      'tools[0].function.parameters',
    );
    await refused(
      client.beta.threads.createAndRun({
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: 'Hi' }] },
        tools: [invalid],
      }),
      'tools[0].function.parameters',
    );
    expect((await client.beta.threads.runs.list(thread.id)).data).toEqual([]);
  });

  it('a valid strict function is kept with strict: true, and a forced call of it satisfies the schema', async () => {
    const assistant = await client.beta.assistants.create({ model: MODEL, tools: [forecastTool] });
    expect(assistant.tools).toEqual([forecastTool]);
    for (const seed of [1, 2]) {
      const thread = await client.beta.threads.create({
        messages: [{ role: 'user', content: `Oslo ${seed}?` }],
      });
      const run = await client.beta.threads.runs.createAndPoll(
        thread.id,
        {
          assistant_id: assistant.id,
          tool_choice: { type: 'function', function: { name: 'get_forecast' } },
          parallel_tool_calls: false,
        },
        { pollIntervalMs: 50 },
      );
      expect(run.status).toBe('requires_action');
      const [call] = run.required_action!.submit_tool_outputs.tool_calls;
      expect(call!.function.name).toBe('get_forecast');
      expect(schemaProblems(forecastParameters, JSON.parse(call!.function.arguments))).toEqual([]);
      await client.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
    }
  });
});

describe('stop sequences and strict calls', () => {
  const stopParameters = {
    type: 'object',
    properties: {
      days: { type: 'integer', minimum: 1, maximum: 7 },
      city: { type: 'string', enum: ['Oslo', 'Rome'] },
    },
    required: ['days', 'city'],
    additionalProperties: false,
  };

  it('a stop sequence does not cut the arguments of a strict call', async () => {
    for (const stop of [['}'], ['"city"'], ['Oslo', 'Rome']]) {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: stopParameters, strict: true } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
        stop,
        seed: 1,
        max_tokens: 200,
      });
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls![0]!;
      const args = call.type === 'function' ? call.function.arguments : '';
      let parsed: unknown;
      expect(
        () => {
          parsed = JSON.parse(args);
        },
        `stop ${JSON.stringify(stop)}: ${args}`,
      ).not.toThrow();
      expect(schemaProblems(stopParameters, parsed), `stop ${JSON.stringify(stop)}: ${args}`).toEqual([]);
    }
  });
});
