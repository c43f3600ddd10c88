// A browser's view of the web app's server for API tests: one cookie jar, the CSRF token the page
// keeps, and the official SDK signed in with that session instead of a key.
import OpenAI from 'openai';
import { expect } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read many JSON shapes and assert on them.
export type Json = any;

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
  readonly setCookies: readonly string[];
}

/** A browser's view of the server: a cookie jar of one cookie, and the CSRF token the page keeps. */
export class Visitor {
  cookie: string | null = null;
  csrf: string | null = null;

  constructor(private readonly origin: string) {}

  async call(
    method: string,
    path: string,
    {
      body = undefined,
      csrf = true,
      headers = {},
    }: { body?: unknown; csrf?: boolean | string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const response = await fetch(`${this.origin}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(csrf === false
          ? {}
          : { 'x-atelier-csrf': typeof csrf === 'string' ? csrf : (this.csrf ?? 'page') }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      const [pair = ''] = header.split(';');
      const expired = /max-age=0/i.test(header) || /expires=Thu, 01 Jan 1970/i.test(header);
      this.cookie = expired ? null : pair;
    }
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : null;
    if (parsed?.csrf_token) this.csrf = parsed.csrf_token;
    return { status: response.status, headers: response.headers, body: parsed, setCookies };
  }

  signUp(name: string, email: string, password = 'correct horse battery') {
    return this.call('POST', '/api/auth/sign-up', { body: { name, email, password } });
  }

  signIn(email: string, password = 'correct horse battery') {
    return this.call('POST', '/api/auth/sign-in', { body: { email, password } });
  }

  /** The official SDK, signed in with this visitor's cookie and token instead of a key. */
  sdk(server: TestServer): OpenAI {
    return new OpenAI({
      baseURL: server.baseURL,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { authorization: null, cookie: this.cookie, 'x-atelier-csrf': this.csrf },
    });
  }
}

/** Exactly the OpenAI error envelope. */
export function expectEnvelope(reply: Reply, status: number, code: string | null): void {
  expect(reply.status).toBe(status);
  expect(Object.keys(reply.body)).toEqual(['error']);
  expect(Object.keys(reply.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(reply.body.error.code).toBe(code);
}

export interface SseEvent {
  readonly event: string;
  readonly data: Json;
}

/** A whole `text/event-stream` body as its events (`data: [DONE]` kept as the string). */
export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: data === '[DONE]' ? data : JSON.parse(data) };
    });
}
