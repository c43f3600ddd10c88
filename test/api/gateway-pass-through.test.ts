// Atelier as a gateway: a second Atelier (on the test model) is the upstream, behind a recording
// proxy, so every test compares what the upstream sent with what the client received, byte for
// byte. Plus an upstream with fixed OpenAI-shaped payloads carrying fields no spec knows yet.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import {
  loadNativeRelay,
  type NativeRelay,
} from '../../packages/server/src/inference/openai-compatible/native-relay.js';
import { defaultSampling } from '../../packages/server/src/inference/sampling.js';
import type { GenerateEvent } from '../../packages/server/src/inference/spec.js';
import { chatRequest, WEATHER_TOOL } from '../../packages/server/src/test-support/chat-request.js';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  banEndTokens,
  dataOnlyEvents,
  MODEL,
  postRaw,
  startApiServer,
  vocabulary,
} from '../support/api-server.js';
import { assertMatchesSpec, type JsonSchema, validateJsonSchema } from '../support/openapi-schemas.js';
import {
  FIXED_COMPLETION,
  type FixedUpstream,
  type RecordingProxy,
  responseText,
  startFixedUpstream,
  startRecordingProxy,
} from '../support/recording-proxy.js';

// Every test runs twice: with the JavaScript relay of streamed answers (the default) and with the
// native one (ATELIER_NATIVE_RELAY=on), when its addon was built.
const nativeRelayBuilt = loadNativeRelay() !== undefined;
describe('with the JavaScript relay', () => gatewayTests('off'));
describe.skipIf(!nativeRelayBuilt)(
  nativeRelayBuilt
    ? 'with the native relay'
    : 'with the native relay (skipped: native/build/relay.node is not built; npm install builds it with a C compiler)',
  () => gatewayTests('on'),
);

function gatewayTests(nativeRelay: 'on' | 'off'): void {
  let upstream: TestServer;
  let proxy: RecordingProxy;
  let fixed: FixedUpstream;
  let gateway: TestServer;
  let client: OpenAI;
  let tokens: string[];

  const LAB = `lab/${MODEL}`;
  const FIXED = 'fixed/gpt-4o-2024-08-06';

  /** The native relay's starts (native mode): its tests must not pass on the JavaScript relay. */
  let nativeStarts: MockInstance<NativeRelay['relay']> | undefined;

  beforeAll(async () => {
    const addon = loadNativeRelay();
    if (nativeRelay === 'on' && addon) nativeStarts = vi.spyOn(addon, 'relay');
    upstream = await startApiServer();
    proxy = await startRecordingProxy(new URL(upstream.baseURL).origin);
    fixed = await startFixedUpstream();
    gateway = await startApiServer({
      models: {},
      env: {
        ATELIER_NATIVE_RELAY: nativeRelay,
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'lab', base_url: `${proxy.url}/v1`, api_key: upstream.apiKey, prefix: 'lab/' },
          { name: 'fixed', base_url: `${fixed.url}/v1`, prefix: 'fixed/', models: ['gpt-4o-2024-08-06'] },
        ]),
      },
    });
    client = gateway.client;
    tokens = await vocabulary(upstream);
  });
  afterAll(async () => {
    nativeStarts?.mockRestore();
    await gateway?.close();
    await proxy?.close();
    await fixed?.close();
    await upstream?.close();
  });

  const hello = [{ role: 'user' as const, content: 'Say hello.' }];

  /** The body the client sent, as the upstream must receive it: only the model's name differs. */
  function asForwarded(body: string, from: string, to: string): string {
    return body.replace(JSON.stringify(from), JSON.stringify(to));
  }

  describe('the served models', () => {
    it('lists the upstream models under their prefix, with what the upstream says about them', async () => {
      const models = await client.models.list();
      assertMatchesSpec('ListModelsResponse', { object: 'list', data: models.data });
      const ids = models.data.map((model) => model.id);
      expect(ids).toEqual(expect.arrayContaining([LAB, FIXED]));
      // This gateway has no model files: no test model was made for it.
      expect(ids).not.toContain(MODEL);
      const lab = models.data.find((model) => model.id === LAB) as unknown as {
        atelier: { provider: string; upstream: string; context_length: number; notice?: string };
      };
      expect(lab.atelier).toMatchObject({ provider: 'openai-compatible', upstream: 'lab' });
      const direct = (await upstream.client.models.retrieve(MODEL)) as unknown as typeof lab;
      expect(lab.atelier.context_length).toBe(direct.atelier.context_length);
      expect(lab.atelier.notice).toContain('random weights');
      const retrieved = await client.models.retrieve(LAB);
      assertMatchesSpec('Model', retrieved);
      expect(retrieved.id).toBe(LAB);
    });
  });

  describe('chat completions', () => {
    it('forwards the body with only the model renamed, and relays the answer byte for byte', async () => {
      const body = JSON.stringify({
        messages: hello,
        model: LAB,
        max_tokens: 8,
        seed: 3,
        logprobs: true,
        top_logprobs: 2,
      });
      const response = await postRaw(gateway, '/chat/completions', body);
      const exchange = proxy.last();
      expect(response.status).toBe(200);
      expect(exchange.requestBody.toString('utf8')).toBe(asForwarded(body, LAB, MODEL));
      expect(exchange.requestHeaders.authorization).toBe(`Bearer ${upstream.apiKey}`);
      expect(response.text).toBe(responseText(exchange));
      const completion = JSON.parse(response.text) as OpenAI.ChatCompletion;
      assertMatchesSpec('CreateChatCompletionResponse', completion);
      expect(completion.system_fingerprint).toMatch(/^fp_/);
      expect(completion.choices[0]?.logprobs?.content?.[0]?.top_logprobs).toHaveLength(2);
      expect(completion.usage?.prompt_tokens_details).toBeDefined();
      // Atelier's own request id for the client; the upstream's kept beside it.
      expect(response.headers.get('x-request-id')).toMatch(/^req_/);
      expect(response.headers.get('x-upstream-request-id')).toBe(exchange.responseHeaders['x-request-id']);
      expect(response.headers.get('x-request-id')).not.toBe(response.headers.get('x-upstream-request-id'));
      expect(response.headers.get('x-atelier-model')).toBe(LAB);

      // The same seeded request straight to the upstream gives the same answer.
      const direct = await upstream.client.chat.completions.create({
        model: MODEL,
        messages: hello,
        max_tokens: 8,
        seed: 3,
        logprobs: true,
        top_logprobs: 2,
      });
      expect(completion.choices).toEqual(direct.choices);
      expect(completion.usage?.completion_tokens).toBe(direct.usage?.completion_tokens);
      expect(completion.model).toBe(direct.model);
    });

    it('streams the upstream SSE through unchanged, usage chunk and [DONE] included', async () => {
      const response = await postRaw(gateway, '/chat/completions', {
        model: LAB,
        messages: hello,
        max_tokens: 12,
        stream: true,
        stream_options: { include_usage: true },
        logprobs: true,
        logit_bias: banEndTokens(tokens),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.text).toBe(responseText(proxy.last()));
      const events = dataOnlyEvents(response.text);
      expect(events.at(-1)).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as ChatCompletionChunk);
      for (const chunk of chunks) assertMatchesSpec('CreateChatCompletionStreamResponse', chunk);
      expect(chunks.at(-1)?.usage?.completion_tokens).toBe(12);
      expect(chunks.filter((chunk) => chunk.choices[0]?.logprobs?.content?.length)).not.toHaveLength(0);
    });

    it('reaches HTTP/1.1 clients in the upstream chunks, and HTTP/1.0 clients unframed', async () => {
      const body = JSON.stringify({ model: LAB, messages: hello, max_tokens: 6, stream: true });
      for (const version of ['1.1', '1.0'] as const) {
        const answer = await rawExchange(gateway, version, '/chat/completions', body);
        const sent = responseText(proxy.last());
        expect(answer.head).toMatch(/^HTTP\/1\.[01] 200 /);
        if (version === '1.1') {
          expect(answer.head).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
          expect(dechunk(answer.body)).toBe(sent);
        } else {
          expect(answer.head).not.toMatch(/transfer-encoding/i);
          expect(answer.body.toString('utf8')).toBe(sent);
        }
      }
    });

    it('works with the SDK, streaming or not', async () => {
      const completion = await client.chat.completions.create({ model: LAB, messages: hello, max_tokens: 4 });
      expect(completion.object).toBe('chat.completion');
      const stream = await client.chat.completions.create({
        model: LAB,
        messages: hello,
        max_tokens: 4,
        stream: true,
      });
      let text = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(finish).not.toBeNull();
      expect(typeof text).toBe('string');
    });

    it('streams tool calls with the deltas the SDK helpers need', async () => {
      const parameters = {
        type: 'object',
        properties: { city: { type: 'string', maxLength: 12 }, days: { type: 'integer' } },
        required: ['city', 'days'],
        additionalProperties: false,
      } satisfies JsonSchema;
      const tools: ChatCompletionTool[] = [
        { type: 'function', function: { name: 'get_weather', description: 'Forecast.', parameters } },
      ];
      const runner = client.chat.completions.stream({
        model: LAB,
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      const chunks: ChatCompletionChunk[] = [];
      runner.on('chunk', (chunk) => chunks.push(chunk));
      const final = await runner.finalChatCompletion();
      const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
      expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
      expect(deltas[0]?.id).toMatch(/^call_/);
      for (const delta of deltas.slice(1)) {
        expect(delta.id).toBeUndefined();
        expect(delta.function?.name).toBeUndefined();
      }
      const call = final.choices[0]?.message.tool_calls?.[0];
      expect(final.choices[0]?.finish_reason).toBe('tool_calls');
      expect(call?.type === 'function' ? call.function.name : undefined).toBe('get_weather');
      const args = call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined;
      expect(validateJsonSchema(parameters, args)).toEqual([]);
      expect(responseText(proxy.last())).toContain('get_weather');
    });

    it('keeps every field of an OpenAI-shaped upstream, known or not', async () => {
      const response = await postRaw(gateway, '/chat/completions', { model: FIXED, messages: hello });
      expect(response.text).toBe(fixed.completion.toString('utf8'));
      const completion = await client.chat.completions.create({ model: FIXED, messages: hello });
      expect(completion).toEqual(FIXED_COMPLETION);
      // The upstream's rate-limit and timing headers pass; its cookies and organisation do not.
      expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
      expect(response.headers.get('openai-processing-ms')).toBe('42');
      expect(response.headers.get('set-cookie')).toBeNull();
      expect(response.headers.get('openai-organization')).toBeNull();

      const streamed = await postRaw(gateway, '/chat/completions', {
        model: FIXED,
        messages: hello,
        stream: true,
      });
      expect(streamed.text).toBe(fixed.stream.toString('utf8'));
      const chunks = dataOnlyEvents(streamed.text)
        .slice(0, -1)
        .map((event) => JSON.parse(event) as Record<string, unknown>);
      expect(chunks[0]).toMatchObject({ obfuscation: 'x1Y2', service_tier: 'default' });
    });
  });

  describe('legacy completions and embeddings', () => {
    it('pass through the same way', async () => {
      const completionBody = JSON.stringify({
        model: LAB,
        prompt: 'Once upon',
        max_tokens: 5,
        seed: 1,
        logprobs: 2,
      });
      const completion = await postRaw(gateway, '/completions', completionBody);
      expect(completion.status).toBe(200);
      expect(proxy.last().requestBody.toString('utf8')).toBe(asForwarded(completionBody, LAB, MODEL));
      expect(completion.text).toBe(responseText(proxy.last()));
      assertMatchesSpec('CreateCompletionResponse', JSON.parse(completion.text));

      const embedding = await postRaw(gateway, '/embeddings', { model: LAB, input: ['a workshop', 'glue'] });
      expect(embedding.status).toBe(200);
      expect(embedding.text).toBe(responseText(proxy.last()));
      // The SDK's default (base64) decodes to what the upstream gives directly.
      const through = await client.embeddings.create({ model: LAB, input: 'a workshop' });
      const direct = await upstream.client.embeddings.create({ model: MODEL, input: 'a workshop' });
      expect(through.data[0]?.embedding).toEqual(direct.data[0]?.embedding);
    });
  });

  describe('upstream errors', () => {
    it('keep their status and envelope, and a client error is not retried', async () => {
      const before = proxy.exchanges.length;
      const response = await postRaw(gateway, '/chat/completions', {
        model: LAB,
        messages: hello,
        temperature: 7,
      });
      expect(response.status).toBe(400);
      expect(response.text).toBe(responseText(proxy.last()));
      expect(proxy.exchanges.length - before).toBe(1);
      const error = await client.chat.completions
        .create({ model: LAB, messages: hello, temperature: 7 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
    });

    it('a model the upstream does not list still reaches it under the prefix, which answers 404', async () => {
      const error = await client.chat.completions
        .create({ model: 'lab/no-such-model', messages: hello })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
      expect(JSON.parse(proxy.last().requestBody.toString('utf8')).model).toBe('no-such-model');
    });

    it('429 and 5xx are retried with backoff before the first byte; honouring retry-after-ms', async () => {
      const overloaded = {
        error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' },
      };
      proxy.inject(
        { status: 429, body: overloaded, headers: { 'retry-after-ms': '20' } },
        { status: 503, body: overloaded, headers: { 'retry-after-ms': '20' } },
      );
      const before = proxy.exchanges.length;
      const completion = await client.chat.completions.create({ model: LAB, messages: hello, max_tokens: 2 });
      expect(completion.choices).toHaveLength(1);
      expect(proxy.exchanges.slice(before).map((exchange) => exchange.injected)).toEqual([true, true, false]);

      // Streaming the same way: the retry happens before anything is sent.
      proxy.inject({ status: 502, body: overloaded, headers: { 'retry-after-ms': '10' } });
      const stream = await postRaw(gateway, '/chat/completions', {
        model: LAB,
        messages: hello,
        max_tokens: 2,
        stream: true,
      });
      expect(stream.status).toBe(200);
      expect(dataOnlyEvents(stream.text).at(-1)).toBe('[DONE]');
    });

    it('once the retries are spent, the last upstream error goes to the client as it was', async () => {
      const body = { error: { message: 'Still overloaded', type: 'server_error', param: null, code: null } };
      proxy.inject(
        ...Array.from({ length: 3 }, () => ({ status: 503, body, headers: { 'retry-after-ms': '5' } })),
      );
      const response = await postRaw(gateway, '/chat/completions', { model: LAB, messages: hello });
      expect(response.status).toBe(503);
      expect(JSON.parse(response.text)).toEqual(body);
      expect(proxy.exchanges.slice(-3).every((exchange) => exchange.injected)).toBe(true);
    });
  });

  describe('client abort', () => {
    it('closes the upstream request: the upstream sees the client leave and stops', async () => {
      const closed: { finished: boolean; at: number }[] = [];
      const listener = (_request: unknown, response: ServerResponse) => {
        response.once('close', () => closed.push({ finished: response.writableFinished, at: Date.now() }));
      };
      const httpServer = upstream.server.app.server;
      httpServer.on('request', listener);
      try {
        // A plain node:http client, so the test decides exactly when its connection closes.
        const request = httpRequest(`${gateway.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.apiKey}` },
        });
        request.end(
          JSON.stringify({
            model: LAB,
            messages: hello,
            max_tokens: 3000,
            stream: true,
            logit_bias: banEndTokens(tokens),
          }),
        );
        const response = await new Promise<IncomingMessage>((resolve) => request.once('response', resolve));
        expect(response.statusCode).toBe(200);
        await new Promise((resolve) => response.once('data', resolve));
        const abortedAt = Date.now();
        request.destroy();
        await proxy.last().done;
        expect(proxy.last().closedEarly).toBe(true);
        await expect.poll(() => closed.length, { timeout: 10_000 }).toBeGreaterThan(0);
        expect(closed[0]?.finished).toBe(false);
        expect(closed[0]!.at - abortedAt).toBeLessThan(5_000);
      } finally {
        httpServer.off('request', listener);
      }
    });
  });

  describe('the engine on an upstream model', () => {
    it('generates through the LanguageModel spec: text deltas, then a finish with usage', async () => {
      const model = gateway.server.registry.languageModel(LAB);
      const events: GenerateEvent[] = [];
      for await (const event of model.generate({
        input: {
          type: 'chat',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
          tools: [],
          toolMode: { type: 'auto' },
          parallelToolCalls: true,
        },
        sampling: defaultSampling({
          maxTokens: 6,
          seed: 5,
          logprobs: { top: 1 },
        }),
        constraint: { type: 'none' },
      })) {
        events.push(event);
      }
      const finish = events.at(-1);
      expect(finish?.type).toBe('finish');
      if (finish?.type !== 'finish') return;
      expect(finish.usage.promptTokens).toBeGreaterThan(0);
      expect(finish.usage.completionTokens).toBe(
        events.filter((event) => event.type === 'text-delta').flatMap((event) => event.logprobs ?? []).length,
      );
      // The same seed through the API gives the same text.
      const direct = await upstream.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 6,
        seed: 5,
      });
      const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
      expect(text).toBe(direct.choices[0]?.message.content);
    });

    it('turns streamed tool calls into tool-call events, and embeds', async () => {
      const model = gateway.server.registry.languageModel(LAB);
      const events: GenerateEvent[] = [];
      const tool = {
        ...WEATHER_TOOL,
        parameters: {
          type: 'object',
          properties: { city: { type: 'string', maxLength: 8 } },
          required: ['city'],
          additionalProperties: false,
        },
      };
      for await (const event of model.generate(
        chatRequest({
          text: 'Weather?',
          tools: [tool],
          toolMode: { type: 'function', name: tool.name },
          parallelToolCalls: false,
        }),
      )) {
        events.push(event);
      }
      const start = events.find((event) => event.type === 'tool-call-start');
      expect(start).toMatchObject({ type: 'tool-call-start', index: 0, name: 'get_weather' });
      const args = events
        .map((event) => (event.type === 'tool-call-delta' ? event.argumentsDelta : ''))
        .join('');
      expect(JSON.parse(args)).toHaveProperty('city');
      expect(events.at(-1)).toMatchObject({ type: 'finish', reason: 'tool_calls' });

      const embedded = await gateway.server.registry.embeddingModel(LAB).embed({ inputs: ['glue', 'wood'] });
      const direct = await upstream.client.embeddings.create({
        model: MODEL,
        input: ['glue', 'wood'],
        encoding_format: 'float',
      });
      expect(Array.from(embedded.embeddings[1]!)).toEqual(direct.data[1]?.embedding.map(Math.fround));
    });
  });

  it.runIf(nativeRelay === 'on')('relayed the streamed answers with the native relay', () => {
    expect(nativeStarts?.mock.calls.length ?? 0).toBeGreaterThan(0);
  });

  /** One request on its own connection, read to the close: the head as text, the body's bytes. */
  async function rawExchange(server: TestServer, version: '1.1' | '1.0', route: string, body: string) {
    const url = new URL(`${server.baseURL}${route}`);
    const socket = connect(Number(url.port), url.hostname);
    // Not end(): Node's server takes a half-closed connection for a client that left.
    socket.write(
      `POST ${url.pathname} HTTP/${version}\r\nhost: ${url.host}\r\nconnection: close\r\n` +
        `authorization: Bearer ${server.apiKey}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const end = bytes.indexOf('\r\n\r\n');
    return { head: bytes.subarray(0, end + 2).toString('latin1'), body: bytes.subarray(end + 4) };
  }

  /** A chunked body's content, checking its framing as a strict client would. */
  function dechunk(body: Buffer): string {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.toString('latin1', at, lineEnd), 16);
      if (lineEnd < 0 || !Number.isInteger(size)) throw new Error(`bad chunk size at ${at}`);
      if (size === 0) {
        if (body.length !== lineEnd + 4 || body.toString('latin1', lineEnd, lineEnd + 4) !== '\r\n\r\n')
          throw new Error('bad end of the chunked body');
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size;
      if (body.toString('latin1', at, at + 2) !== '\r\n')
        throw new Error(`chunk longer than its size at ${at}`);
      at += 2;
    }
  }
}
