// /v1/chat/completions without streaming, driven by the official `openai` client: every request
// parameter, the response shape against the official spec, usage, seeds and logprobs.
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, tokenIds, vocabulary } from '../support/api-server.js';
import { assertMatchesSpec, type JsonSchema, validateJsonSchema } from '../support/openapi-schemas.js';

let server: TestServer;
let client: OpenAI;
let tokens: string[];

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
  tokens = await vocabulary(server);
});
afterAll(async () => {
  await server?.close();
});

const hello = [{ role: 'user' as const, content: 'Say hello.' }];

async function chat(
  params: Omit<ChatCompletionCreateParamsNonStreaming, 'model'>,
): Promise<OpenAI.ChatCompletion> {
  const completion = await client.chat.completions.create({ model: MODEL, ...params });
  assertMatchesSpec('CreateChatCompletionResponse', completion);
  return completion;
}

function contentOf(completion: OpenAI.ChatCompletion, index = 0): string {
  const content = completion.choices[index]?.message.content;
  if (typeof content !== 'string') throw new Error(`choice ${index} has no text content`);
  return content;
}

describe('the chat.completion object', () => {
  it('has the shape of the official spec, an id, a timestamp, the model and a fingerprint', async () => {
    const before = Math.floor(Date.now() / 1000);
    const completion = await chat({ messages: hello, max_tokens: 8, seed: 1 });
    expect(completion.id).toMatch(/^chatcmpl-[A-Za-z0-9]{20,}$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.created).toBeGreaterThanOrEqual(before);
    expect(completion.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(completion.model).toBe(MODEL);
    expect(completion.system_fingerprint).toMatch(/^fp_[0-9a-f]+$/);
    expect(completion.choices).toHaveLength(1);
    const [choice] = completion.choices;
    expect(choice?.index).toBe(0);
    expect(choice?.message.role).toBe('assistant');
    expect(choice?.logprobs).toBeNull();
    expect(['stop', 'length']).toContain(choice?.finish_reason);
  });

  it('counts usage in real tokens: prompt > 0 and total = prompt + completion', async () => {
    const completion = await chat({ messages: hello, max_tokens: 12, seed: 2, logprobs: true });
    const usage = completion.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    // One logprob per generated token: the count is the tokens the model really produced.
    expect(usage.completion_tokens).toBe(completion.choices[0]?.logprobs?.content?.length);
    // A longer prompt costs exactly its extra tokens.
    const extra = ' And then say goodbye to everyone in the workshop.';
    const longer = await chat({ messages: [{ role: 'user', content: `Say hello.${extra}` }], max_tokens: 1 });
    const helloTokens = (await tokenIds(server, 'Say hello.')).length;
    const longerTokens = (await tokenIds(server, `Say hello.${extra}`)).length;
    expect(longer.usage!.prompt_tokens - usage.prompt_tokens).toBe(longerTokens - helloTokens);
  });

  it('reports the reused prompt prefix of a repeated request in prompt_tokens_details.cached_tokens', async () => {
    const messages = [
      { role: 'system' as const, content: 'You are a careful assistant for a small woodworking workshop.' },
      { role: 'user' as const, content: 'Which glue dries fastest? Answer in one line.' },
    ];
    // Without a seed: a seeded request always evaluates its whole prompt, to reproduce exactly.
    await chat({ messages, max_tokens: 4 });
    const second = await chat({ messages, max_tokens: 4 });
    const usage = second.usage!;
    // All but the last prompt token come from cache (one is evaluated again to get logits).
    expect(usage.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(usage.prompt_tokens - 1);
    expect(usage.prompt_tokens_details?.cached_tokens).toBeLessThanOrEqual(usage.prompt_tokens);
  });
});

describe('stream_options', () => {
  it('is refused without stream: true, with the 400 OpenAI gives', async () => {
    for (const stream of [{}, { stream: false as const }]) {
      await expect(
        client.chat.completions.create({
          model: MODEL,
          messages: hello,
          max_tokens: 2,
          ...stream,
          stream_options: { include_usage: true },
        }),
      ).rejects.toMatchObject({
        status: 400,
        error: {
          type: 'invalid_request_error',
          param: 'stream_options',
          message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        },
      });
    }
    // null is no stream_options at all.
    expect((await chat({ messages: hello, max_tokens: 2, stream_options: null })).choices).toHaveLength(1);
  });
});

describe('messages', () => {
  it('accepts system, developer, user, assistant, tool and function messages with text parts', async () => {
    const completion = await chat({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Prefer metric units.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'How warm is it ' },
            { type: 'text', text: 'in Oslo?' },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_weather1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_weather1', content: [{ type: 'text', text: '{"celsius": 4}' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'It is 4 °C.' }], function_call: null },
        { role: 'function', name: 'get_time', content: '{"time": "12:00"}' },
        { role: 'user', content: 'Thanks!', name: 'ada' },
      ],
      max_tokens: 8,
      seed: 4,
    });
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(40);
  });

  it('reads text content parts as the text they spell, and a developer message as a system message', async () => {
    const asString = await chat({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'How warm is it in Oslo?' },
      ],
      max_tokens: 6,
      seed: 5,
    });
    const asParts = await chat({
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'How warm is it ' },
            { type: 'text', text: 'in Oslo?' },
          ],
        },
      ],
      max_tokens: 6,
      seed: 5,
    });
    expect(asParts.usage!.prompt_tokens).toBe(asString.usage!.prompt_tokens);
    expect(contentOf(asParts)).toBe(contentOf(asString));
  });
});

describe('sampling parameters', () => {
  it('n returns n choices with distinct indexes, each with its own message and finish_reason', async () => {
    const completion = await chat({ messages: hello, n: 3, max_tokens: 10, seed: 6, logprobs: true });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    for (const choice of completion.choices) {
      expect(choice.message.role).toBe('assistant');
      expect(['stop', 'length']).toContain(choice.finish_reason);
    }
    // The prompt is counted once; completion tokens are summed over the choices.
    const generated = completion.choices.reduce(
      (sum, choice) => sum + (choice.logprobs?.content?.length ?? 0),
      0,
    );
    expect(completion.usage!.completion_tokens).toBe(generated);
    const single = await chat({ messages: hello, max_tokens: 1 });
    expect(completion.usage!.prompt_tokens).toBe(single.usage!.prompt_tokens);
    // Choices are sampled independently: with this seed they differ.
    expect(new Set(completion.choices.map((choice) => choice.message.content)).size).toBeGreaterThan(1);
  });

  it.each(['max_tokens', 'max_completion_tokens'] as const)(
    '%s stops the reply at exactly that many tokens with finish_reason length',
    async (param) => {
      const completion = await chat({
        messages: hello,
        [param]: 7,
        seed: 7,
        logit_bias: banEndTokens(tokens),
      });
      expect(completion.choices[0]?.finish_reason).toBe('length');
      expect(completion.usage!.completion_tokens).toBe(7);
    },
  );

  it('stop ends the reply before the stop sequence, which never appears, with finish_reason stop', async () => {
    const free = contentOf(
      await chat({
        messages: hello,
        max_tokens: 40,
        seed: 8,
        temperature: 1,
        logit_bias: banEndTokens(tokens),
      }),
    );
    // Pick stop strings that occur in the unconstrained reply, after its beginning.
    const stop = free.slice(12, 14);
    expect(stop.trim()).not.toBe('');
    const cut = free.indexOf(stop);
    for (const form of [stop, [stop], ['no such text', stop]]) {
      const completion = await chat({
        messages: hello,
        max_tokens: 40,
        seed: 8,
        temperature: 1,
        logit_bias: banEndTokens(tokens),
        stop: form,
      });
      expect(contentOf(completion)).toBe(free.slice(0, cut));
      expect(contentOf(completion)).not.toContain(stop);
      expect(completion.choices[0]?.finish_reason).toBe('stop');
    }
  });

  it('ends a reply only at an end token or a stop sequence: text that spells a token name goes on', async () => {
    // +100 on the letters E, O and S: the reply is a run of them and soon spells "EOS".
    const bias: Record<string, number> = {};
    for (const letter of ['E', 'O', 'S']) {
      const [id, ...rest] = await tokenIds(server, letter);
      expect(rest).toEqual([]);
      bias[String(id)] = 100;
    }
    const completion = await chat({ messages: hello, max_tokens: 30, seed: 1, logit_bias: bias });
    expect(contentOf(completion)).toMatch(/^[EOS]{30}$/);
    expect(contentOf(completion)).toContain('EOS');
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('accepts temperature, top_p and presence/frequency penalties, and they change what is sampled', async () => {
    const base = { messages: hello, max_tokens: 24, seed: 9, logit_bias: banEndTokens(tokens) };
    const plain = contentOf(await chat(base));
    const variants = [
      { temperature: 0.2 },
      { top_p: 0.3 },
      { presence_penalty: 2 },
      { frequency_penalty: 2 },
      { presence_penalty: -2, frequency_penalty: -2 },
    ];
    for (const variant of variants) {
      const varied = contentOf(await chat({ ...base, ...variant }));
      expect(varied, JSON.stringify(variant)).not.toBe(plain);
    }
  });

  it('temperature 0 is greedy: the same reply every time, without a seed', async () => {
    const replies = await Promise.all(
      [1, 2, 3].map(async () => contentOf(await chat({ messages: hello, temperature: 0, max_tokens: 16 }))),
    );
    expect(new Set(replies).size).toBe(1);
  });

  it('logit_bias -100 bans tokens: no token containing "e" is ever chosen', async () => {
    const base = { messages: hello, max_tokens: 40, seed: 10 };
    expect(contentOf(await chat(base))).toMatch(/e/i);
    const banned: Record<string, number> = {};
    for (const [id, text] of tokens.entries()) if (/e/i.test(text)) banned[String(id)] = -100;
    expect(Object.keys(banned).length).toBeGreaterThan(50);
    const completion = await chat({ ...base, logit_bias: banned });
    expect(contentOf(completion)).not.toBe('');
    expect(contentOf(completion)).not.toMatch(/e/i);
  });

  it('logit_bias -100 on the end tokens makes every reply run to max_tokens', async () => {
    const base = { messages: hello, n: 6, max_tokens: 40, seed: 30 };
    const free = await chat(base);
    expect(free.choices.map((choice) => choice.finish_reason)).toContain('stop');
    const endless = await chat({ ...base, logit_bias: banEndTokens(tokens) });
    expect(endless.choices.map((choice) => choice.finish_reason)).toEqual(Array(6).fill('length'));
    expect(endless.usage!.completion_tokens).toBe(6 * 40);
  });

  it('logit_bias +100 forces a token: five tokens of it', async () => {
    const [the, ...rest] = await tokenIds(server, ' the');
    expect(rest).toEqual([]);
    const completion = await chat({
      messages: hello,
      max_tokens: 5,
      seed: 11,
      logit_bias: { [String(the)]: 100 },
    });
    expect(contentOf(completion)).toBe(' the the the the the');
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage!.completion_tokens).toBe(5);
  });
});

describe('seed', () => {
  const sampled = { messages: hello, temperature: 1, max_tokens: 32, seed: 1234 };

  it('gives the same reply 10 times for a temperature-1 request, also while other requests run', async () => {
    // Long replies (end tokens banned) while unseeded requests keep the batched context busy:
    // a near-tie token would flip if the seeded request's logits depended on the batch.
    const long = { ...sampled, max_tokens: 200, logit_bias: banEndTokens(tokens) };
    const background = [1, 2, 3, 4, 5].map((index) =>
      client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: `Tell me a story about ${index} birds.` }],
        max_tokens: 300,
        logit_bias: banEndTokens(tokens),
      }),
    );
    const streaming = client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Stream something.' }],
      max_tokens: 48,
      stream: true,
    });
    const repeats = await Promise.all(Array.from({ length: 10 }, () => chat(long)));
    await Promise.all(background);
    for await (const _chunk of await streaming);

    const replies = repeats.map((completion) => contentOf(completion));
    expect(replies[0]!.length).toBeGreaterThan(0);
    expect(new Set(replies)).toEqual(new Set([replies[0]]));
    const fingerprints = new Set(repeats.map((completion) => completion.system_fingerprint));
    expect(fingerprints.size).toBe(1);
    expect([...fingerprints][0]).toMatch(/^fp_/);

    expect(repeats[0]!.usage!.completion_tokens).toBe(200);
    // Alone, one after the other, it is still the same reply.
    expect(contentOf(await chat(long))).toBe(replies[0]);
    // And the seed is what makes it so: another seed samples another reply.
    expect(contentOf(await chat({ ...long, seed: 4321 }))).not.toBe(replies[0]);
  });

  it('gives the same reply with and without logprobs', async () => {
    const plain = contentOf(await chat(sampled));
    const withLogprobs = contentOf(await chat({ ...sampled, logprobs: true, top_logprobs: 5 }));
    expect(withLogprobs).toBe(plain);
  });
});

describe('logprobs', () => {
  it.each([
    { case: 'top_logprobs 0', top: 0, temperature: 1 },
    { case: 'top_logprobs 1', top: 1, temperature: 1 },
    { case: 'top_logprobs 5, temperature 0.7', top: 5, temperature: 0.7 },
    { case: 'top_logprobs 20', top: 20, temperature: 1 },
    { case: 'top_logprobs 20, greedy', top: 20, temperature: 0 },
  ])(
    '$case: one entry per token, sorted alternatives, text that spells the reply',
    async ({ top, temperature }) => {
      const completion = await chat({
        messages: hello,
        max_tokens: 20,
        seed: 12,
        temperature,
        logprobs: true,
        top_logprobs: top,
      });
      const content = completion.choices[0]?.logprobs?.content;
      expect(content).toBeDefined();
      expect(content!.length).toBe(completion.usage!.completion_tokens);
      expect(content!.map((entry) => entry.token).join('')).toBe(contentOf(completion));
      for (const entry of content!) {
        expect(entry.logprob).toBeLessThanOrEqual(0);
        expect(entry.bytes).toEqual([...Buffer.from(entry.token, 'utf8')]);
        expect(entry.top_logprobs).toHaveLength(top);
        const values = entry.top_logprobs.map((alternative) => alternative.logprob);
        expect(values).toEqual([...values].sort((a, b) => b - a));
        for (const alternative of entry.top_logprobs) {
          expect(alternative.logprob).toBeLessThanOrEqual(0);
          expect(alternative.bytes).toEqual([...Buffer.from(alternative.token, 'utf8')]);
        }
        // The chosen token, when among the alternatives, has the same logprob there.
        const same = entry.top_logprobs.find((alternative) => alternative.token === entry.token);
        if (same) expect(same.logprob).toBeCloseTo(entry.logprob, 6);
        else if (top > 0) expect(entry.logprob).toBeLessThanOrEqual(values.at(-1)!);
      }
    },
  );

  it('is null when not asked for', async () => {
    const completion = await chat({ messages: hello, max_tokens: 3 });
    expect(completion.choices[0]?.logprobs).toBeNull();
  });

  it('top_p 1 (the default) does not truncate the distribution the logprobs describe', async () => {
    // Position 0 depends only on the prompt, so its alternatives are the same whatever is sampled.
    const first = async (top_p: number) =>
      (await chat({ messages: hello, max_tokens: 1, logprobs: true, top_logprobs: 20, top_p })).choices[0]!
        .logprobs!.content![0]!.top_logprobs;
    const full = await first(1);
    const almostFull = await first(0.9999);
    expect(full.map((alternative) => alternative.token)).toEqual(
      almostFull.map((alternative) => alternative.token),
    );
    for (const [index, alternative] of full.entries()) {
      expect(alternative.logprob).toBeCloseTo(almostFull[index]!.logprob, 3);
    }
  });
});

describe('response_format', () => {
  it('json_object: the reply is a JSON object', async () => {
    // Free-form JSON from random weights can run for thousands of tokens: these seeds give short
    // objects. One request at a time, so each seed reproduces exactly.
    for (const seed of [12, 17, 21]) {
      const completion = await chat({
        messages: [{ role: 'user', content: 'Describe a chair as JSON.' }],
        response_format: { type: 'json_object' },
        seed,
      });
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe('stop');
      const parsed: unknown = JSON.parse(choice.message.content!);
      expect(typeof parsed).toBe('object');
      expect(parsed).not.toBeNull();
      expect(Array.isArray(parsed)).toBe(false);
    }
  });

  it('json_schema: the reply parses and satisfies the schema', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 16 },
        legs: { type: 'integer' },
        material: { enum: ['oak', 'pine', 'steel'] },
        padded: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 3 },
        size: { $ref: '#/$defs/size' },
        note: { anyOf: [{ type: 'string', maxLength: 10 }, { type: 'null' }] },
      },
      required: ['name', 'legs', 'material', 'padded', 'tags', 'size', 'note'],
      additionalProperties: false,
      $defs: {
        size: {
          type: 'object',
          properties: { width: { type: 'number' }, height: { type: 'number' } },
          required: ['width', 'height'],
          additionalProperties: false,
        },
      },
    } satisfies JsonSchema;
    const completion = await chat({
      messages: [{ role: 'user', content: 'Describe a chair.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'chair', schema, strict: true } },
      n: 3,
      seed: 14,
    });
    for (const choice of completion.choices) {
      expect(choice.finish_reason).toBe('stop');
      const parsed: unknown = JSON.parse(choice.message.content!);
      expect(validateJsonSchema(schema, parsed)).toEqual([]);
    }
  });

  it('json_schema: integers are plain integers and numbers stay finite', async () => {
    const schema = {
      type: 'object',
      properties: {
        counts: { type: 'array', items: { type: 'integer' }, minItems: 24, maxItems: 24 },
        ratios: { type: 'array', items: { type: 'number' }, minItems: 24, maxItems: 24 },
      },
      required: ['counts', 'ratios'],
      additionalProperties: false,
    } satisfies JsonSchema;
    for (const seed of [15, 16]) {
      const completion = await chat({
        messages: [{ role: 'user', content: 'Count things.' }],
        response_format: { type: 'json_schema', json_schema: { name: 'counts', schema } },
        seed,
      });
      const content = contentOf(completion);
      const parsed = JSON.parse(content) as { counts: number[]; ratios: number[] };
      expect(validateJsonSchema(schema, parsed)).toEqual([]);
      // `3e-2` is no integer and `5e999` parses as Infinity: neither may be generated.
      expect(/"counts"\s*:\s*\[([^\]]*)\]/.exec(content)?.[1]).not.toMatch(/[eE.]/);
      for (const value of [...parsed.counts, ...parsed.ratios]) expect(Number.isFinite(value)).toBe(true);
    }
  });

  it('text is the default and leaves the reply free', async () => {
    const completion = await chat({ messages: hello, response_format: { type: 'text' }, max_tokens: 8 });
    expect(completion.choices[0]?.message.content).toBeTypeOf('string');
  });
});
