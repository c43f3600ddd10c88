// Constrained decoding at its edges, with the official `openai` client on the test model: a
// `logit_bias` that bans the end tokens cannot make a grammar-constrained reply run past the end of
// its value (the grammar ends it), a sampler failure ends its request and not the server, and
// special tokens, which llama.cpp's grammar reads as text but the reply drops, are never sampled
// under a grammar.
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, vocabulary } from '../support/api-server.js';
import { schemaProblems } from '../support/json-schema-check.js';

let server: TestServer;
let client: OpenAI;
let tokens: string[];
/** `<|im_start|>`: a special token that does not end generation. */
let imStart: number;

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
  tokens = await vocabulary(server);
  // The test model's control tokens follow its text vocabulary: <|endoftext|>, <|im_start|>, …
  imStart = tokens.indexOf('') + 1;
  const probe = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'hi' }],
    logit_bias: { [String(imStart)]: 100 },
    logprobs: true,
    max_tokens: 1,
  });
  expect(probe.choices[0]!.logprobs?.content?.[0]?.token).toBe('<|im_start|>');
});
afterAll(async () => {
  await server?.close();
});

const answerSchema = {
  type: 'object',
  properties: {
    answer: { type: 'string', minLength: 8, maxLength: 16 },
    count: { type: 'integer', minimum: 1, maximum: 9 },
  },
  required: ['answer', 'count'],
  additionalProperties: false,
};

const answerFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'answer', schema: answerSchema, strict: true },
};

const ask = [{ role: 'user' as const, content: 'Answer in JSON.' }];

/** The completion; fails the test when the server does not answer within the limit. */
async function create(body: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>): Promise<ChatCompletion> {
  return client.chat.completions.create({ model: MODEL, ...body }, { timeout: 30_000, maxRetries: 0 });
}

/** The server still answers a plain request. */
async function expectAlive(): Promise<void> {
  const completion = await create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, seed: 1 });
  expect(completion.choices[0]!.message.role).toBe('assistant');
}

describe('end tokens banned by logit_bias under a grammar', () => {
  it('json_object: valid JSON that the grammar ends (finish_reason stop); the server lives on', async () => {
    for (const seed of [1, 2, 3]) {
      const completion = await create({
        messages: ask,
        response_format: { type: 'json_object' },
        logit_bias: banEndTokens(tokens),
        max_tokens: 600,
        seed,
      });
      const choice = completion.choices[0]!;
      expect(
        () => JSON.parse(choice.message.content!),
        `seed ${seed}: ${choice.message.content}`,
      ).not.toThrow();
      expect(choice.finish_reason, `seed ${seed}: ${choice.message.content}`).toBe('stop');
    }
    await expectAlive();
  });

  it('json_schema: content the schema accepts, finish_reason stop; the server lives on', async () => {
    for (const seed of [1, 2, 3]) {
      const completion = await create({
        messages: ask,
        response_format: answerFormat,
        logit_bias: banEndTokens(tokens),
        max_tokens: 200,
        seed,
      });
      const choice = completion.choices[0]!;
      expect(schemaProblems(answerSchema, JSON.parse(choice.message.content!)), `seed ${seed}`).toEqual([]);
      expect(choice.finish_reason).toBe('stop');
    }
    await expectAlive();
  });

  it('every token banned: that request is a 400 naming logit_bias, and the server lives on', async () => {
    const everything = Object.fromEntries(tokens.map((_, id) => [String(id), -100]));
    const error = await create({
      messages: ask,
      response_format: { type: 'json_object' },
      logit_bias: everything,
      max_tokens: 20,
      seed: 1,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.param).toBe('logit_bias');
    expect(bad.message).toMatch(/No token could be sampled/);
    await expectAlive();
  });
});

describe('special tokens are never sampled under a grammar', () => {
  /** The tokens the model sampled, special ones spelled out (logprobs name every token). */
  function sampled(completion: ChatCompletion): string[] {
    return (completion.choices[0]!.logprobs?.content ?? []).map((entry) => entry.token);
  }

  it('json_schema: a boosted <|im_start|> never fills a string the client then gets too short', async () => {
    for (const seed of [1, 2, 3]) {
      const completion = await create({
        messages: ask,
        response_format: answerFormat,
        logit_bias: { [String(imStart)]: 100 },
        logprobs: true,
        max_tokens: 200,
        seed,
      });
      const content = completion.choices[0]!.message.content!;
      expect(sampled(completion), `seed ${seed}`).not.toContain('<|im_start|>');
      expect(schemaProblems(answerSchema, JSON.parse(content)), `seed ${seed}: ${content}`).toEqual([]);
    }
  });

  it('a forced strict call: arguments the schema accepts', async () => {
    for (const seed of [1, 2, 3]) {
      const completion = await create({
        messages: ask,
        tools: [{ type: 'function', function: { name: 'reply', parameters: answerSchema, strict: true } }],
        tool_choice: 'required',
        logit_bias: { [String(imStart)]: 100 },
        logprobs: true,
        max_tokens: 400,
        seed,
      });
      const call = completion.choices[0]!.message.tool_calls?.[0];
      const args = call?.type === 'function' ? call.function.arguments : '';
      expect(sampled(completion), `seed ${seed}`).not.toContain('<|im_start|>');
      expect(schemaProblems(answerSchema, JSON.parse(args)), `seed ${seed}: ${args}`).toEqual([]);
    }
  });

  it('auto mode with a strict function: the reply is exactly what the model sampled', async () => {
    for (const seed of [1, 2]) {
      const completion = await create({
        messages: ask,
        tools: [{ type: 'function', function: { name: 'reply', parameters: answerSchema, strict: true } }],
        logit_bias: { [String(imStart)]: 100 },
        logprobs: true,
        max_tokens: 20,
        seed,
      });
      const choice = completion.choices[0]!;
      expect(sampled(completion), `seed ${seed}`).not.toContain('<|im_start|>');
      expect(choice.message.content, `seed ${seed}`).toBe(sampled(completion).join(''));
    }
  });
});
