// Every client mistake gets the OpenAI error envelope {error: {message, type, param, code}} with
// the right status, so the SDK raises the right class; none of them is a 500.
import net from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, postRaw, type RawResponse, startApiServer } from '../support/api-server.js';
import { assertMatchesSpec } from '../support/openapi-schemas.js';

let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The body is exactly the OpenAI envelope: four keys, valid against the spec. */
function envelopeOf(response: RawResponse): ErrorBody['error'] {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(response.text) as ErrorBody;
  assertMatchesSpec('ErrorResponse', body);
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

type ApiError = InstanceType<typeof OpenAI.APIError>;

/** Runs `request` through the SDK, which must reject with `type`; returns the error. */
async function sdkError<T extends new (...args: never[]) => ApiError>(
  type: T,
  request: () => Promise<unknown>,
): Promise<InstanceType<T>> {
  const error = await request().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  assertMatchesSpec('Error', (error as ApiError).error);
  return error as InstanceType<T>;
}

const hello = [{ role: 'user' as const, content: 'Say hello.' }];

describe('unknown model', () => {
  it('is a 404 model_not_found on every endpoint', async () => {
    const calls = [
      () => client.chat.completions.create({ model: 'gpt-nope', messages: hello }),
      () => client.chat.completions.create({ model: 'gpt-nope', messages: hello, stream: true }),
      () => client.completions.create({ model: 'gpt-nope', prompt: 'x' }),
      () => client.embeddings.create({ model: 'gpt-nope', input: 'x' }),
      () => client.models.retrieve('gpt-nope'),
    ];
    for (const call of calls) {
      const error = await sdkError(OpenAI.NotFoundError, call);
      expect(error.status).toBe(404);
      expect(error.code).toBe('model_not_found');
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toContain('gpt-nope');
    }
    const raw = await postRaw(server, '/chat/completions', { model: 'gpt-nope', messages: hello });
    expect(raw.status).toBe(404);
    expect(envelopeOf(raw)).toMatchObject({ code: 'model_not_found', param: 'model' });
  });
});

describe('authentication', () => {
  it('a missing key is a 401 envelope', async () => {
    const raw = await postRaw(
      server,
      '/chat/completions',
      { model: MODEL, messages: hello },
      { auth: false },
    );
    expect(raw.status).toBe(401);
    expect(envelopeOf(raw).type).toBe('invalid_request_error');
    const models = await fetch(`${server.baseURL}/models`);
    expect(models.status).toBe(401);
  });

  it('a wrong key is a 401 invalid_api_key: AuthenticationError in the SDK, the key not echoed', async () => {
    const wrong = new OpenAI({
      baseURL: server.baseURL,
      apiKey: 'sk-wrong-key-0123456789abcdef',
      maxRetries: 0,
    });
    const error = await sdkError(OpenAI.AuthenticationError, () => wrong.models.list());
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
    expect(error.message).not.toContain('sk-wrong-key-0123456789abcdef');
    const raw = await postRaw(
      server,
      '/chat/completions',
      { model: MODEL, messages: hello },
      { auth: false, headers: { authorization: 'Bearer sk-wrong-key-0123456789abcdef' } },
    );
    expect(raw.status).toBe(401);
    expect(envelopeOf(raw).code).toBe('invalid_api_key');
  });
});

describe('bad parameters: 400 naming the param', () => {
  const cases: { name: string; body: Record<string, unknown>; param: string; code?: string }[] = [
    { name: 'temperature above 2', body: { temperature: 5 }, param: 'temperature' },
    { name: 'top_p above 1', body: { top_p: 1.5 }, param: 'top_p' },
    { name: 'an empty messages list', body: { messages: [] }, param: 'messages' },
    {
      name: 'a message with an unknown role',
      body: { messages: [{ role: 'robot', content: 'hi' }] },
      param: 'messages[0].role',
    },
    { name: 'a missing model', body: { model: undefined }, param: 'model' },
    { name: 'n of 0', body: { n: 0 }, param: 'n' },
    { name: 'max_tokens of 0', body: { max_tokens: 0 }, param: 'max_tokens' },
    { name: 'top_logprobs above 20', body: { logprobs: true, top_logprobs: 21 }, param: 'top_logprobs' },
    { name: 'top_logprobs without logprobs', body: { top_logprobs: 3 }, param: 'top_logprobs' },
    { name: 'five stop sequences', body: { stop: ['a', 'b', 'c', 'd', 'e'] }, param: 'stop' },
    { name: 'a logit_bias above 100', body: { logit_bias: { '5': 101 } }, param: 'logit_bias.5' },
    {
      name: 'a logit_bias token outside the vocabulary',
      body: { logit_bias: { '99999999': 5 } },
      param: 'logit_bias',
    },
    {
      name: 'tool_choice naming an unknown function',
      body: {
        tools: [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      },
      param: 'tool_choice',
    },
    { name: 'tool_choice without tools', body: { tool_choice: 'required' }, param: 'tool_choice' },
    {
      name: 'a tool with an invalid name',
      body: { tools: [{ type: 'function', function: { name: 'get time!' } }] },
      param: 'tools[0].function.name',
    },
    {
      name: 'two tools with one name',
      body: {
        tools: [
          { type: 'function', function: { name: 'same' } },
          { type: 'function', function: { name: 'same' } },
        ],
      },
      param: 'tools[1].function.name',
    },
    {
      name: 'parallel_tool_calls without tools',
      body: { parallel_tool_calls: false },
      param: 'parallel_tool_calls',
    },
    {
      name: 'an image part on a model without vision',
      body: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            ],
          },
        ],
      },
      param: 'messages[0].content[1].type',
    },
    {
      name: 'json_object without the word "json" in the messages',
      body: { response_format: { type: 'json_object' } },
      param: 'messages',
    },
    {
      name: 'a json_schema that is not a schema',
      body: {
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'banana' } } },
      },
      param: 'response_format.json_schema.schema',
    },
    {
      name: 'tool parameters that are not a schema',
      body: {
        tools: [
          { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: 5 } } } },
        ],
        tool_choice: 'required',
      },
      param: 'tools',
    },
  ];

  it.each(cases)('$name → 400, param $param', async ({ body, param, code }) => {
    const raw = await postRaw(server, '/chat/completions', {
      model: MODEL,
      messages: hello,
      max_tokens: 2,
      ...body,
    });
    expect(raw.status, raw.text).toBe(400);
    const error = envelopeOf(raw);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    if (code) expect(error.code).toBe(code);
  });

  it('the SDK raises BadRequestError with the param, streaming or not', async () => {
    for (const stream of [false, true]) {
      const error = await sdkError(OpenAI.BadRequestError, () =>
        client.chat.completions.create({ model: MODEL, messages: hello, temperature: 5, stream }),
      );
      expect(error.status).toBe(400);
      expect(error.param).toBe('temperature');
    }
  });

  it('bad parameters on the other endpoints', async () => {
    const cases: { route: string; body: Record<string, unknown>; param: string }[] = [
      { route: '/completions', body: { model: MODEL, prompt: 'x', logprobs: 6 }, param: 'logprobs' },
      { route: '/completions', body: { model: MODEL }, param: 'prompt' },
      { route: '/completions', body: { model: MODEL, prompt: [999999] }, param: 'prompt' },
      { route: '/embeddings', body: { model: MODEL, input: '' }, param: 'input' },
      {
        route: '/embeddings',
        body: { model: MODEL, input: 'x', encoding_format: 'hex' },
        param: 'encoding_format',
      },
      { route: '/embeddings', body: { model: MODEL, input: 'x', dimensions: 100000 }, param: 'dimensions' },
      { route: '/embeddings', body: { model: MODEL, input: [[999999]] }, param: 'input' },
    ];
    for (const { route, body, param } of cases) {
      const raw = await postRaw(server, route, body);
      expect(raw.status, `${route} ${JSON.stringify(body)}: ${raw.text}`).toBe(400);
      expect(envelopeOf(raw).param).toBe(param);
    }
  });
});

describe('bodies', () => {
  it('a body that is not JSON is a 400 envelope', async () => {
    const raw = await postRaw(server, '/chat/completions', '{"model": "atelier-tiny", "messages": [');
    expect(raw.status).toBe(400);
    expect(envelopeOf(raw).type).toBe('invalid_request_error');
    const error = await sdkError(OpenAI.BadRequestError, () =>
      client.post('/chat/completions', {
        body: 'not json at all',
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(error.status).toBe(400);
  });

  it('bodies of the wrong shape are 400s, never 500s', async () => {
    const bodies = [
      '{}',
      '[]',
      'null',
      '"text"',
      '42',
      '{"model": 5, "messages": []}',
      '{"model": "atelier-tiny", "messages": "hello"}',
      '{"model": "atelier-tiny", "messages": [null]}',
      '{"model": "atelier-tiny", "messages": [{"role": "user"}]}',
      '{"model": "atelier-tiny", "messages": [{"role": "user", "content": [{"type": "video"}]}]}',
      '{"model": "atelier-tiny", "messages": [{"role": "tool", "content": "x"}]}',
      '{"model": "atelier-tiny", "messages": [{"role": "user", "content": "hi"}], "stream_options": "yes"}',
      '{"model": "atelier-tiny", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}',
      '{"model": "atelier-tiny", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml"}}',
    ];
    for (const body of bodies) {
      const raw = await postRaw(server, '/chat/completions', body);
      expect(raw.status, `${body} → ${raw.text}`).toBe(400);
      envelopeOf(raw);
    }
  });

  it('a body in another media type is a client error with the envelope', async () => {
    const raw = await postRaw(server, '/chat/completions', 'model=atelier-tiny', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(raw.status).toBeGreaterThanOrEqual(400);
    expect(raw.status).toBeLessThan(500);
    envelopeOf(raw);
  });

  it('a body over ATELIER_MAX_BODY_BYTES is a 413 envelope', async () => {
    const small = await startApiServer({ env: { ATELIER_MAX_BODY_BYTES: '2048' } });
    try {
      const big = { model: MODEL, messages: [{ role: 'user' as const, content: 'x'.repeat(4096) }] };
      const raw = await postRaw(small, '/chat/completions', big);
      expect(raw.status).toBe(413);
      expect(envelopeOf(raw).type).toBe('invalid_request_error');
      const error = await sdkError(OpenAI.APIError, () => small.client.chat.completions.create(big));
      expect(error.status).toBe(413);
      // Under the limit, the same server answers.
      const fits = await small.client.chat.completions.create({
        model: MODEL,
        messages: hello,
        max_tokens: 2,
      });
      expect(fits.choices).toHaveLength(1);
    } finally {
      await small.close();
    }
  });
});

describe('context length', () => {
  const tooLong = [{ role: 'user' as const, content: 'the workshop opens early '.repeat(1500) }];

  it('a prompt longer than the context is a 400 context_length_exceeded', async () => {
    const error = await sdkError(OpenAI.BadRequestError, () =>
      client.chat.completions.create({ model: MODEL, messages: tooLong }),
    );
    expect(error.code).toBe('context_length_exceeded');
    expect(error.param).toBe('messages');
    const completions = await sdkError(OpenAI.BadRequestError, () =>
      client.completions.create({ model: MODEL, prompt: tooLong[0]!.content }),
    );
    expect(completions.code).toBe('context_length_exceeded');
  });

  it('max_tokens past the end of the context is a 400 context_length_exceeded', async () => {
    const error = await sdkError(OpenAI.BadRequestError, () =>
      client.chat.completions.create({ model: MODEL, messages: hello, max_tokens: 1_000_000 }),
    );
    expect(error.code).toBe('context_length_exceeded');
  });

  it('when streaming, the error is an HTTP 400 before any 200 or event', async () => {
    const raw = await postRaw(server, '/chat/completions', { model: MODEL, messages: tooLong, stream: true });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).not.toMatch(/event-stream/);
    expect(envelopeOf(raw).code).toBe('context_length_exceeded');
    const error = await sdkError(OpenAI.BadRequestError, () =>
      client.chat.completions.create({ model: MODEL, messages: tooLong, stream: true, n: 2 }),
    );
    expect(error.code).toBe('context_length_exceeded');
    const legacy = await postRaw(server, '/completions', {
      model: MODEL,
      prompt: ['short', tooLong[0]!.content],
      stream: true,
    });
    expect(legacy.status).toBe(400);
    expect(envelopeOf(legacy).code).toBe('context_length_exceeded');
  });
});

describe('routes', () => {
  it('an unknown route is a 404 envelope', async () => {
    const response = await fetch(`${server.baseURL}/no/such/route`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(response.status).toBe(404);
    envelopeOf({ status: response.status, headers: response.headers, text: await response.text() });
    const error = await sdkError(OpenAI.NotFoundError, () => client.get('/no/such/route'));
    expect(error.status).toBe(404);
  });

  it('a known route with the wrong method is a 404 envelope', async () => {
    const response = await fetch(`${server.baseURL}/chat/completions`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(response.status).toBe(404);
    envelopeOf({ status: response.status, headers: response.headers, text: await response.text() });
  });

  it('a path that is not valid percent-encoding is a 400 envelope', async () => {
    const response = await fetch(`${server.baseURL}/models/%E0%A4%A`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const error = envelopeOf({
      status: response.status,
      headers: response.headers,
      text: await response.text(),
    });
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_url' });
    expect(error.message).toContain('/v1/models/%E0%A4%A');
  });

  it('bytes that are not HTTP, and headers past the limit, are answered in the envelope', async () => {
    const { hostname, port } = new URL(server.baseURL);
    const exchange = (bytes: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname);
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          received += chunk;
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
        socket.write(bytes);
      });
    const parts = (answer: string) => {
      const split = answer.indexOf('\r\n\r\n');
      return { head: answer.slice(0, split), text: answer.slice(split + 4) };
    };

    const garbage = parts(await exchange('HELLO THERE\r\n\r\n'));
    expect(garbage.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage.head).toMatch(/\r\ncontent-type: application\/json/i);
    expect(
      envelopeOf({
        status: 400,
        headers: new Headers({ 'content-type': 'application/json' }),
        text: garbage.text,
      }),
    ).toMatchObject({ type: 'invalid_request_error', message: 'The request is not valid HTTP/1.1.' });

    const huge = parts(
      await exchange(`GET /v1/models HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(huge.head).toMatch(/^HTTP\/1\.1 431 /);
    expect(
      envelopeOf({
        status: 431,
        headers: new Headers({ 'content-type': 'application/json' }),
        text: huge.text,
      }),
    ).toMatchObject({ message: 'The request headers are too large.' });
  });

  it('every error carries an x-request-id the SDK exposes', async () => {
    const error = await sdkError(OpenAI.NotFoundError, () => client.models.retrieve('gpt-nope'));
    expect(error.requestID).toMatch(/^req_/);
  });
});
