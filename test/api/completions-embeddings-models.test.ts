// The rest of the inference surface: legacy /v1/completions, /v1/embeddings (float and the SDKs'
// default base64), /v1/models and /healthz, through the official client and checked against the spec.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  banEndTokens,
  MODEL,
  postRaw,
  startApiServer,
  streamRaw,
  tokenIds,
  vocabulary,
} from '../support/api-server.js';
import { assertMatchesSpec } from '../support/openapi-schemas.js';

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

async function complete(
  params: Omit<OpenAI.CompletionCreateParamsNonStreaming, 'model'>,
): Promise<OpenAI.Completion> {
  const completion = await client.completions.create({ model: MODEL, ...params });
  assertMatchesSpec('CreateCompletionResponse', completion);
  return completion;
}

describe('POST /v1/completions', () => {
  it('completes a prompt string: text_completion object, cmpl- id, usage in real tokens', async () => {
    const completion = await complete({ prompt: 'The workshop opens', max_tokens: 8, seed: 1 });
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.object).toBe('text_completion');
    expect(completion.model).toBe(MODEL);
    expect(completion.system_fingerprint).toMatch(/^fp_/);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.index).toBe(0);
    expect(completion.choices[0]?.logprobs).toBeNull();
    const usage = completion.usage!;
    expect(usage.prompt_tokens).toBe((await tokenIds(server, 'The workshop opens')).length);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it('defaults to 16 tokens, like OpenAI', async () => {
    const completion = await complete({ prompt: 'Once', logit_bias: banEndTokens(tokens) });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(16);
  });

  it('an array of prompts × n: one choice per pair, indexed prompt-major', async () => {
    const prompts = ['The chair', 'A table is'];
    const completion = await complete({ prompt: prompts, n: 2, max_tokens: 6, seed: 2, echo: true });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2, 3]);
    // Echo shows which prompt each choice continues.
    const echoed = completion.choices.map((choice) =>
      prompts.find((prompt) => choice.text.startsWith(prompt)),
    );
    expect(echoed).toEqual([prompts[0], prompts[0], prompts[1], prompts[1]]);
    const promptTokens =
      (await tokenIds(server, prompts[0]!)).length + (await tokenIds(server, prompts[1]!)).length;
    expect(completion.usage?.prompt_tokens).toBe(promptTokens);
  });

  it('accepts a prompt of token ids, the same as its text', async () => {
    const ids = await tokenIds(server, 'The workshop opens');
    const fromIds = await complete({ prompt: [...ids], max_tokens: 8, seed: 3 });
    const fromText = await complete({ prompt: 'The workshop opens', max_tokens: 8, seed: 3 });
    expect(fromIds.choices[0]?.text).toBe(fromText.choices[0]?.text);
  });

  it('echo puts the prompt before the completion', async () => {
    const plain = await complete({ prompt: 'The workshop opens', max_tokens: 6, seed: 4 });
    const echoed = await complete({ prompt: 'The workshop opens', max_tokens: 6, seed: 4, echo: true });
    expect(echoed.choices[0]?.text).toBe(`The workshop opens${plain.choices[0]?.text}`);
  });

  it('logprobs: tokens, their logprobs, top alternatives and text offsets', async () => {
    const completion = await complete({ prompt: 'The workshop opens', max_tokens: 8, seed: 5, logprobs: 3 });
    const [choice] = completion.choices;
    const logprobs = choice!.logprobs!;
    expect(logprobs.tokens).toHaveLength(completion.usage!.completion_tokens);
    expect(logprobs.tokens!.join('')).toBe(choice!.text);
    expect(logprobs.token_logprobs).toHaveLength(logprobs.tokens!.length);
    for (const value of logprobs.token_logprobs!) expect(value).toBeLessThanOrEqual(0);
    for (const top of logprobs.top_logprobs!) expect(Object.keys(top!)).toHaveLength(3);
    let offset = 0;
    for (const [index, token] of logprobs.tokens!.entries()) {
      expect(logprobs.text_offset![index]).toBe(offset);
      offset += token.length;
    }
  });

  it("suffix fills in the middle with the model's infill tokens: the prompt counts both sides", async () => {
    const plain = await complete({ prompt: 'def add(a, b):', max_tokens: 4, seed: 3 });
    const suffixTokens = (
      await client.completions.create({ model: MODEL, prompt: '\n    return total', max_tokens: 1 })
    ).usage!.prompt_tokens;
    const infill = await complete({
      prompt: 'def add(a, b):',
      suffix: '\n    return total',
      max_tokens: 4,
      seed: 3,
    });
    // Prefix and suffix plus the three fill-in-the-middle markers.
    expect(infill.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens + suffixTokens + 3);
    expect(infill.choices[0]!.text).not.toContain('return total');
  });

  it('stop cuts the text before the stop sequence', async () => {
    const params = {
      prompt: 'The workshop opens',
      max_tokens: 30,
      seed: 6,
      logit_bias: banEndTokens(tokens),
    };
    const free = (await complete(params)).choices[0]!.text;
    const stop = free.slice(8, 10);
    const cut = await complete({ ...params, stop });
    expect(cut.choices[0]?.text).toBe(free.slice(0, free.indexOf(stop)));
    expect(cut.choices[0]?.finish_reason).toBe('stop');
  });

  it('streams text_completion chunks, data-only, ending with [DONE], with usage when asked', async () => {
    const params = { model: MODEL, prompt: 'The workshop opens', max_tokens: 10, seed: 7, n: 2 };
    const whole = await complete(params);
    const { response, chunks } = await streamRaw<OpenAI.Completion>(server, '/completions', {
      ...params,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const texts = ['', ''];
    const finishes: (string | null)[] = [null, null];
    const usageChunk = chunks.at(-1)!;
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.object).toBe('text_completion');
      expect(chunk.id).toBe(chunks[0]!.id);
      expect(chunk.usage).toBeNull();
      for (const choice of chunk.choices) {
        expect(finishes[choice.index]).toBeNull();
        texts[choice.index] += choice.text;
        finishes[choice.index] = choice.finish_reason ?? null;
      }
    }
    expect(texts).toEqual(whole.choices.map((choice) => choice.text));
    expect(finishes).toEqual(whole.choices.map((choice) => choice.finish_reason));
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it('refuses stream_options without stream: true, with the 400 OpenAI gives', async () => {
    for (const stream of [{}, { stream: false as const }]) {
      await expect(
        client.completions.create({
          model: MODEL,
          prompt: 'Once',
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
  });

  it('streams through the SDK', async () => {
    const stream = await client.completions.create({
      model: MODEL,
      prompt: 'Once',
      max_tokens: 5,
      stream: true,
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(['stop', 'length']).toContain(finish);
    expect(typeof text).toBe('string');
  });
});

describe('POST /v1/embeddings', () => {
  const norm = (vector: readonly number[]) => Math.hypot(...vector);

  it('returns float vectors that match the spec, with usage in tokens', async () => {
    const response = await client.embeddings.create({
      model: MODEL,
      input: 'The workshop opens early.',
      encoding_format: 'float',
    });
    assertMatchesSpec('CreateEmbeddingResponse', response);
    expect(response.object).toBe('list');
    expect(response.model).toBe(MODEL);
    expect(response.data).toHaveLength(1);
    const [item] = response.data;
    expect(item?.object).toBe('embedding');
    expect(item?.index).toBe(0);
    expect(item?.embedding.length).toBeGreaterThan(0);
    expect(item?.embedding.every((value) => Number.isFinite(value))).toBe(true);
    expect(response.usage.prompt_tokens).toBe((await tokenIds(server, 'The workshop opens early.')).length);
    expect(response.usage.total_tokens).toBe(response.usage.prompt_tokens);
  });

  it('base64 (the SDK default) decodes to the same vector as float', async () => {
    const input = 'A chair with four legs.';
    const asFloat = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' });
    // No encoding_format: the SDK asks for base64 and decodes it.
    const viaSdk = await client.embeddings.create({ model: MODEL, input });
    expect(viaSdk.data[0]?.embedding).toEqual(asFloat.data[0]?.embedding);
    // On the wire: little-endian float32 bytes in base64.
    const raw = await postRaw(server, '/embeddings', { model: MODEL, input, encoding_format: 'base64' });
    expect(raw.status).toBe(200);
    const encoded = (JSON.parse(raw.text) as { data: { embedding: unknown }[] }).data[0]?.embedding;
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(encoded as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
    expect(decoded).toEqual(asFloat.data[0]?.embedding);
  });

  it('dimensions shortens the vector and keeps it unit length', async () => {
    const full = await client.embeddings.create({ model: MODEL, input: 'oak', encoding_format: 'float' });
    const short = await client.embeddings.create({
      model: MODEL,
      input: 'oak',
      encoding_format: 'float',
      dimensions: 8,
    });
    expect(short.data[0]?.embedding).toHaveLength(8);
    expect(norm(short.data[0]!.embedding)).toBeCloseTo(1, 5);
    const fullVector = full.data[0]!.embedding;
    const prefixNorm = norm(fullVector.slice(0, 8));
    short.data[0]!.embedding.forEach((value, index) => {
      expect(value).toBeCloseTo(fullVector[index]! / prefixNorm, 5);
    });
  });

  it('embeds a batch in order, each as it would be alone, also given as token ids', async () => {
    const inputs = ['oak', 'a pine table', 'steel'];
    const batch = await client.embeddings.create({ model: MODEL, input: inputs, encoding_format: 'float' });
    expect(batch.data.map((item) => item.index)).toEqual([0, 1, 2]);
    for (const [index, input] of inputs.entries()) {
      const alone = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' });
      expect(batch.data[index]?.embedding).toEqual(alone.data[0]?.embedding);
    }
    const ids = await Promise.all(inputs.map(async (input) => [...(await tokenIds(server, input))]));
    const fromIds = await client.embeddings.create({ model: MODEL, input: ids, encoding_format: 'float' });
    expect(fromIds.data.map((item) => item.embedding)).toEqual(batch.data.map((item) => item.embedding));
    const single = await client.embeddings.create({ model: MODEL, input: ids[1]!, encoding_format: 'float' });
    expect(single.data[0]?.embedding).toEqual(batch.data[1]?.embedding);
    expect(batch.usage.prompt_tokens).toBe(ids.flat().length);
  });
});

describe('GET /v1/models', () => {
  it('lists the served models, the test model with its notice', async () => {
    const page = await client.models.list();
    const raw = await fetch(`${server.baseURL}/models`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    assertMatchesSpec('ListModelsResponse', await raw.json());
    const ids = page.data.map((model) => model.id);
    expect(ids).toContain(MODEL);
    const model = page.data.find((item) => item.id === MODEL) as OpenAI.Model & {
      atelier?: { notice?: string; context_length?: number; capabilities?: Record<string, boolean> };
    };
    expect(model.object).toBe('model');
    expect(model.owned_by).toBeTypeOf('string');
    expect(Number.isInteger(model.created)).toBe(true);
    expect(model.atelier?.notice).toMatch(/random weights/i);
    expect(model.atelier?.notice).toMatch(/\.gguf|models pull/);
    expect(model.atelier?.context_length).toBeGreaterThan(0);
    expect(model.atelier?.capabilities).toMatchObject({ chat: true, embeddings: true, vision: false });
  });

  it('retrieves one model by id; an unknown id is a 404 model_not_found', async () => {
    const model = await client.models.retrieve(MODEL);
    assertMatchesSpec('Model', model);
    expect(model.id).toBe(MODEL);
    const error = await client.models.retrieve('no-such-model').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
});

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} without an API key', async () => {
    const response = await fetch(`${server.server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
