// Test doubles for gateway tests. A recording proxy sits between Atelier and its upstream: it
// records the bytes each way (so tests compare what the upstream sent with what the client got,
// byte for byte), can answer with injected failures instead of forwarding (retries, fallbacks),
// and passes a closed connection on (so tests see an abort reach the upstream).
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly requestBody: Buffer;
  status: number | undefined;
  responseHeaders: IncomingHttpHeaders;
  /** Grows as the upstream's answer passes through. */
  readonly responseChunks: Buffer[];
  /** The client went away before the answer was complete. */
  closedEarly: boolean;
  /** Settles when the exchange is over (answered in full or cut off). */
  readonly done: Promise<void>;
  /** Whether the answer was injected rather than forwarded. */
  injected: boolean;
}

export interface InjectedResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Wait before answering. */
  readonly delayMs?: number;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  /** Answers the next requests (one each) with these instead of forwarding them. */
  inject(...responses: InjectedResponse[]): void;
  last(): Exchange;
  close(): Promise<void>;
}

export function responseText(exchange: Exchange): string {
  return Buffer.concat(exchange.responseChunks).toString('utf8');
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  const injected: InjectedResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let settle = () => {};
      const exchange: Exchange = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        requestHeaders: request.headers,
        requestBody: Buffer.concat(chunks),
        status: undefined,
        responseHeaders: {},
        responseChunks: [],
        closedEarly: false,
        done: new Promise<void>((resolve) => {
          settle = resolve;
        }),
        injected: false,
      };
      exchanges.push(exchange);
      response.on('close', () => {
        if (!response.writableFinished) exchange.closedEarly = true;
        settle();
      });
      const injection = injected.shift();
      if (injection) {
        exchange.injected = true;
        const body = Buffer.from(
          typeof injection.body === 'string' ? injection.body : JSON.stringify(injection.body ?? {}),
        );
        setTimeout(() => {
          exchange.status = injection.status;
          exchange.responseChunks.push(body);
          response.writeHead(injection.status, {
            'content-type': 'application/json',
            'content-length': String(body.length),
            ...injection.headers,
          });
          response.end(body);
        }, injection.delayMs ?? 0);
        return;
      }
      const forwarded = httpRequest(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: upstream.host },
        },
        (answer) => {
          exchange.status = answer.statusCode;
          exchange.responseHeaders = answer.headers;
          response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          response.flushHeaders();
          answer.on('data', (chunk: Buffer) => {
            exchange.responseChunks.push(chunk);
            response.write(chunk);
          });
          answer.on('end', () => response.end());
          answer.on('error', () => response.destroy());
        },
      );
      // The client left: so does the proxy, which is what the upstream then sees.
      response.on('close', () => {
        if (!response.writableFinished) forwarded.destroy();
      });
      forwarded.on('error', () => response.destroy());
      forwarded.end(exchange.requestBody);
    });
  });
  await listen(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    inject: (...responses) => injected.push(...responses),
    last: () => {
      const exchange = exchanges.at(-1);
      if (!exchange) throw new Error('the proxy saw no request');
      return exchange;
    },
    close: () => closeServer(server),
  };
}

/**
 * An OpenAI-compatible upstream that answers with fixed payloads shaped like OpenAI's own
 * (logprobs, service_tier, reasoning token details, obfuscation, fields no spec knows yet).
 */
export interface FixedUpstream {
  readonly url: string;
  readonly completion: Buffer;
  readonly stream: Buffer;
  close(): Promise<void>;
}

export const FIXED_COMPLETION = {
  id: 'chatcmpl-AbCdEf0123456789',
  object: 'chat.completion',
  created: 1_730_000_000,
  model: 'gpt-4o-2024-08-06',
  system_fingerprint: 'fp_5f20662549',
  service_tier: 'default',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Héllo — 你好!', refusal: null, annotations: [] },
      logprobs: {
        content: [
          {
            token: 'H',
            logprob: -0.01,
            bytes: [72],
            top_logprobs: [{ token: 'H', logprob: -0.01, bytes: [72] }],
          },
        ],
        refusal: null,
      },
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 12,
    completion_tokens: 5,
    total_tokens: 17,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0 },
  },
  x_upstream_extra: { region: 'eu-west', nested: [1, 2, { deep: true }] },
};

export const FIXED_CHUNKS = [
  { delta: { role: 'assistant', content: '', refusal: null }, finish_reason: null },
  { delta: { content: 'Héllo' }, finish_reason: null },
  { delta: { content: ' — 你好!' }, finish_reason: null },
  { delta: {}, finish_reason: 'stop' },
].map((choice) => ({
  id: 'chatcmpl-AbCdEf0123456789',
  object: 'chat.completion.chunk',
  created: 1_730_000_000,
  model: 'gpt-4o-2024-08-06',
  service_tier: 'default',
  system_fingerprint: 'fp_5f20662549',
  choices: [{ index: 0, ...choice, logprobs: null }],
  usage: null,
  obfuscation: 'x1Y2',
}));

export async function startFixedUpstream(): Promise<FixedUpstream> {
  const completion = Buffer.from(JSON.stringify(FIXED_COMPLETION));
  const usageChunk = { ...FIXED_CHUNKS[0]!, choices: [], usage: FIXED_COMPLETION.usage };
  const stream = Buffer.from(
    `${[...FIXED_CHUNKS, usageChunk].map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`,
  );
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/models') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            object: 'list',
            data: [{ id: 'gpt-4o-2024-08-06', object: 'model', created: 1, owned_by: 'system' }],
          }),
        );
        return;
      }
      const streaming = /"stream"\s*:\s*true/.test(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200, {
        'content-type': streaming ? 'text/event-stream; charset=utf-8' : 'application/json',
        'x-request-id': 'req_fixed_upstream',
        'openai-processing-ms': '42',
        'x-ratelimit-remaining-requests': '9999',
        'set-cookie': '__cf_bm=secret; path=/',
        'openai-organization': 'user-abc',
      });
      if (!streaming) {
        response.end(completion);
        return;
      }
      // One write per event, as a real upstream streams them.
      const events = stream.toString('utf8').split(/(?<=\n\n)/);
      const next = () => {
        const event = events.shift();
        if (event === undefined) return response.end();
        response.write(event);
        setImmediate(next);
      };
      next();
    });
  });
  await listen(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    completion,
    stream,
    close: () => closeServer(server),
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
