// /v1/chat/completions with `stream: true`: the exact SSE framing on the wire (read raw), the
// chunk sequence the SDKs rely on, parity with the non-streamed answer, and client aborts.
import type OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateEvent, LanguageModel } from '../../packages/server/src/inference/spec.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { banEndTokens, MODEL, startApiServer, streamRaw, vocabulary } from '../support/api-server.js';
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

const hello = [{ role: 'user' as const, content: 'Say hello.' }];

interface StreamedChoice {
  content: string;
  finishReason: string | null;
  logprobs: OpenAI.ChatCompletionTokenLogprob[];
}

/**
 * Checks the invariants of a chat completion stream and folds it into one result per choice:
 * every chunk matches the spec and repeats one id/created/model/fingerprint; each choice opens
 * with `{role: 'assistant', content: ''}` and ends with exactly one finish_reason, on an empty
 * delta, after which it gets nothing; usage is only on the final `choices: []` chunk when asked.
 */
function foldChatStream(
  chunks: readonly ChatCompletionChunk[],
  { n = 1, includeUsage = false }: { n?: number; includeUsage?: boolean } = {},
): { choices: StreamedChoice[]; usage: OpenAI.CompletionUsage | null } {
  expect(chunks.length).toBeGreaterThan(0);
  const [first] = chunks;
  const choices: StreamedChoice[] = Array.from({ length: n }, () => ({
    content: '',
    finishReason: null,
    logprobs: [],
  }));
  const opened = new Set<number>();
  let usage: OpenAI.CompletionUsage | null = null;
  for (const [position, chunk] of chunks.entries()) {
    assertMatchesSpec('CreateChatCompletionStreamResponse', chunk);
    expect(chunk.id).toMatch(/^chatcmpl-/);
    expect(chunk.object).toBe('chat.completion.chunk');
    expect([chunk.id, chunk.created, chunk.model, chunk.system_fingerprint]).toEqual([
      first!.id,
      first!.created,
      MODEL,
      first!.system_fingerprint,
    ]);
    const isLast = position === chunks.length - 1;
    if (includeUsage && isLast) {
      expect(chunk.choices).toEqual([]);
      expect(chunk.usage).not.toBeNull();
      usage = chunk.usage!;
      continue;
    }
    if (includeUsage) expect(chunk.usage).toBeNull();
    else expect(chunk.usage ?? null).toBeNull();
    for (const choice of chunk.choices) {
      const state = choices[choice.index];
      if (!state) throw new Error(`choice index ${choice.index} out of range for n=${n}`);
      expect(state.finishReason, `choice ${choice.index} got a chunk after its finish_reason`).toBeNull();
      if (!opened.has(choice.index)) {
        expect(choice.delta).toEqual({ role: 'assistant', content: '' });
        opened.add(choice.index);
      } else {
        expect(choice.delta.role).toBeUndefined();
      }
      if (choice.finish_reason !== null) {
        expect(choice.delta).toEqual({});
        state.finishReason = choice.finish_reason;
      }
      state.content += choice.delta.content ?? '';
      state.logprobs.push(...(choice.logprobs?.content ?? []));
    }
  }
  for (const [index, state] of choices.entries()) {
    expect(opened.has(index), `choice ${index} never opened`).toBe(true);
    expect(state.finishReason, `choice ${index} has no finish_reason`).not.toBeNull();
  }
  if (includeUsage) expect(usage).not.toBeNull();
  return { choices, usage };
}

describe('the SSE framing', () => {
  it('is data-only lines of JSON chunks ending with data: [DONE], as text/event-stream', async () => {
    const { response, chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      model: MODEL,
      messages: hello,
      max_tokens: 12,
      seed: 1,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.text.startsWith('data: {')).toBe(true);
    expect(response.text.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
    expect(response.text).not.toMatch(/^(event|id|retry):/m);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const { choices } = foldChatStream(chunks);
    expect(['stop', 'length']).toContain(choices[0]?.finishReason);
  });

  it('streams the same reply, finish_reason and usage as the non-streamed request with the same seed', async () => {
    const params = { model: MODEL, messages: hello, max_tokens: 24, seed: 2, temperature: 1 };
    const whole = await client.chat.completions.create(params);
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      ...params,
      stream_options: { include_usage: true },
    });
    const { choices, usage } = foldChatStream(chunks, { includeUsage: true });
    expect(choices[0]?.content).toBe(whole.choices[0]?.message.content);
    expect(choices[0]?.finishReason).toBe(whole.choices[0]?.finish_reason);
    expect(usage?.prompt_tokens).toBe(whole.usage?.prompt_tokens);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
    expect(usage?.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
  });

  it('include_usage: a final chunk with choices [] carries usage, and every other chunk has usage null', async () => {
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      model: MODEL,
      messages: hello,
      max_tokens: 5,
      seed: 3,
      logit_bias: banEndTokens(tokens),
      stream_options: { include_usage: true },
    });
    const { usage, choices } = foldChatStream(chunks, { includeUsage: true });
    expect(choices[0]?.finishReason).toBe('length');
    expect(usage?.completion_tokens).toBe(5);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('without include_usage no chunk carries usage', async () => {
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      model: MODEL,
      messages: hello,
      max_tokens: 5,
    });
    foldChatStream(chunks);
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
  });
});

describe('streamed parameters', () => {
  it('n: every choice opens, streams under its own index and finishes, as non-streamed with the seed', async () => {
    const params = { model: MODEL, messages: hello, n: 3, max_tokens: 16, seed: 4 };
    const whole = await client.chat.completions.create(params);
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      ...params,
      stream_options: { include_usage: true },
    });
    const { choices, usage } = foldChatStream(chunks, { n: 3, includeUsage: true });
    expect(choices.map((choice) => choice.content)).toEqual(
      whole.choices.map((choice) => choice.message.content),
    );
    expect(choices.map((choice) => choice.finishReason)).toEqual(
      whole.choices.map((choice) => choice.finish_reason),
    );
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it('max_tokens / max_completion_tokens: finish_reason length after exactly that many tokens', async () => {
    for (const param of ['max_tokens', 'max_completion_tokens']) {
      const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
        model: MODEL,
        messages: hello,
        [param]: 6,
        logit_bias: banEndTokens(tokens),
        stream_options: { include_usage: true },
      });
      const { choices, usage } = foldChatStream(chunks, { includeUsage: true });
      expect(choices[0]?.finishReason).toBe('length');
      expect(usage?.completion_tokens).toBe(6);
    }
  });

  it('stop: the streamed text never contains the stop sequence, even split across chunks', async () => {
    const params = {
      model: MODEL,
      messages: hello,
      max_tokens: 40,
      seed: 5,
      logit_bias: banEndTokens(tokens),
    };
    const free = (await client.chat.completions.create(params)).choices[0]!.message.content!;
    const stop = free.slice(10, 13);
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      ...params,
      stop: [stop],
    });
    const { choices } = foldChatStream(chunks);
    expect(choices[0]?.content).toBe(free.slice(0, free.indexOf(stop)));
    expect(choices[0]?.finishReason).toBe('stop');
    expect(chunks.some((chunk) => chunk.choices[0]?.delta.content?.includes(stop))).toBe(false);
  });

  it('logprobs: each chunk carries the logprobs of its text, which spell the reply', async () => {
    const { chunks } = await streamRaw<ChatCompletionChunk>(server, '/chat/completions', {
      model: MODEL,
      messages: hello,
      max_tokens: 12,
      seed: 6,
      logprobs: true,
      top_logprobs: 3,
      stream_options: { include_usage: true },
    });
    const { choices, usage } = foldChatStream(chunks, { includeUsage: true });
    const [choice] = choices;
    expect(choice!.logprobs).toHaveLength(usage!.completion_tokens);
    expect(choice!.logprobs.map((entry) => entry.token).join('')).toBe(choice!.content);
    for (const entry of choice!.logprobs) expect(entry.top_logprobs).toHaveLength(3);
    for (const chunk of chunks) {
      const delta = chunk.choices[0];
      if (delta?.delta.content) {
        expect(delta.logprobs?.content?.map((entry) => entry.token).join('')).toBe(delta.delta.content);
      }
    }
  });
});

describe('through the SDK', () => {
  it('iterates the stream of create({stream: true})', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: hello,
      max_tokens: 10,
      stream: true,
    });
    let content = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(['stop', 'length']).toContain(finish);
    expect(typeof content).toBe('string');
  });

  it('assembles a final chat completion with the chat.completions.stream() helper', async () => {
    const params = { model: MODEL, messages: hello, max_tokens: 16, seed: 7 };
    const whole = await client.chat.completions.create(params);
    const deltas: string[] = [];
    const runner = client.chat.completions.stream(params).on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(whole.choices[0]?.message.content);
    expect(deltas.join('')).toBe(whole.choices[0]?.message.content);
    expect(final.choices[0]?.finish_reason).toBe(whole.choices[0]?.finish_reason);
    expect(final.id).toMatch(/^chatcmpl-/);
  });
});

describe('a client that goes away', () => {
  it('stops generation at once and frees the sequences for others', async () => {
    // Watch the model from inside the server: how far each generation got and whether it ran
    // to its end or was closed early.
    const model = server.server.registry.languageModel(MODEL);
    const original = model.generate.bind(model);
    const runs: { tokens: number; closed: boolean }[] = [];
    model.generate = (request): AsyncIterable<GenerateEvent> => {
      const run = { tokens: 0, closed: false };
      runs.push(run);
      return (async function* () {
        try {
          for await (const event of original(request)) {
            // Text events come a token or a few at a time; a finish event has the exact count.
            if (event.type === 'text-delta') run.tokens += 1;
            if (event.type === 'finish') run.tokens = event.usage.completionTokens;
            yield event;
          }
        } finally {
          run.closed = true;
        }
      })();
    };
    try {
      const maxTokens = 3000;
      // As many long streams as the model has sequences (4 by default), each aborted after a few chunks.
      const aborted = await Promise.all(
        [0, 1, 2, 3].map(async (index) => {
          const controller = new AbortController();
          const stream = await client.chat.completions.create(
            {
              model: MODEL,
              messages: [{ role: 'user', content: `Talk for a long time, ${index}.` }],
              max_tokens: maxTokens,
              logit_bias: banEndTokens(tokens),
              stream: true,
            },
            { signal: controller.signal },
          );
          let received = 0;
          // The SDK ends the iteration quietly once its request is aborted.
          for await (const _chunk of stream) {
            received += 1;
            if (received === 3) controller.abort();
          }
          return received;
        }),
      );
      expect(aborted).toEqual([3, 3, 3, 3]);

      // A request that needs every sequence gets them.
      const all = await client.chat.completions.create({
        model: MODEL,
        messages: hello,
        n: 4,
        max_tokens: 2,
      });
      expect(all.choices).toHaveLength(4);

      const longRuns = runs.slice(0, 4);
      await expect.poll(() => longRuns.every((run) => run.closed), { timeout: 5_000 }).toBe(true);
      // Stopped within moments of the abort, nowhere near max_tokens.
      for (const run of longRuns) expect(run.tokens).toBeLessThan(maxTokens / 10);
    } finally {
      // Remove the spy (the own property) so the class method serves again.
      delete (model as Partial<Pick<LanguageModel, 'generate'>>).generate;
    }
  });
});
