// The server every API test drives: the real Atelier on the random-weight test model, over real
// HTTP, with helpers for what the SDK hides (raw SSE framing, raw bodies) and for token ids.
import {
  type StartTestServerOptions,
  startTestServer,
  type TestServer,
} from '../../packages/server/src/test-support/test-server.js';

export const MODEL = 'atelier-tiny';

/**
 * One llama.cpp thread: the test model is tiny, so more threads only add synchronisation, and
 * Vitest runs two test files at once on machines that may have two cores; llama.cpp threads spin
 * while they wait, so oversubscribing the cores makes generation hundreds of times slower.
 */
export async function startApiServer({
  env = {},
  ...options
}: StartTestServerOptions = {}): Promise<TestServer> {
  return startTestServer({ ...options, env: { ATELIER_THREADS: '1', ...env } });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** POSTs `body` (an object is sent as JSON, a string as it is) and reads the whole response. */
export async function postRaw(
  server: TestServer,
  route: string,
  body: unknown,
  { headers = {}, auth = true }: { headers?: Record<string, string>; auth?: boolean } = {},
): Promise<RawResponse> {
  const response = await fetch(`${server.baseURL}${route}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(auth ? { authorization: `Bearer ${server.apiKey}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/**
 * Splits an SSE body into its `data:` payloads, failing on anything a data-only OpenAI stream
 * must not contain (named events, comments, multi-line data, a missing blank line).
 */
export function dataOnlyEvents(text: string): string[] {
  if (!text.endsWith('\n\n'))
    throw new Error(`stream does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  const blocks = text.slice(0, -2).split('\n\n');
  return blocks.map((block) => {
    if (!block.startsWith('data: ') || block.includes('\n')) {
      throw new Error(`not a single data-only SSE line: ${JSON.stringify(block.slice(0, 80))}`);
    }
    return block.slice('data: '.length);
  });
}

/** A streamed request's chunks, after checking the framing and the final `data: [DONE]`. */
export async function streamRaw<Chunk>(
  server: TestServer,
  route: string,
  body: Record<string, unknown>,
): Promise<{ response: RawResponse; chunks: Chunk[] }> {
  const response = await postRaw(server, route, { ...body, stream: true });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.text}`);
  const events = dataOnlyEvents(response.text);
  if (events.at(-1) !== '[DONE]') throw new Error(`stream does not end with data: [DONE]: ${events.at(-1)}`);
  if (events.indexOf('[DONE]') !== events.length - 1) throw new Error('data: [DONE] is not the last event');
  return { response, chunks: events.slice(0, -1).map((event) => JSON.parse(event) as Chunk) };
}

/**
 * The model's vocabulary as text, by token id, read through the server's own tokenizer (control
 * tokens such as `<|im_end|>` read as ''). The test model has a few hundred tokens.
 */
export async function vocabulary(server: TestServer): Promise<string[]> {
  const model = server.server.registry.languageModel(MODEL);
  const tokens: string[] = [];
  // detokenize rejects ids past the end of the vocabulary: that is where it stops.
  for (let id = 0; id < 1_000_000; id++) {
    try {
      tokens.push(await model.detokenize([id]));
    } catch {
      return tokens;
    }
  }
  throw new Error('vocabulary has no end');
}

/** Token ids of `text` in the served model. */
export async function tokenIds(server: TestServer, text: string): Promise<readonly number[]> {
  return server.server.registry.languageModel(MODEL).tokenize(text);
}

/** `logit_bias` that bans the control tokens (`<|im_end|>`, …), so a reply runs to `max_tokens`. */
export function banEndTokens(tokens: readonly string[]): Record<string, number> {
  const bias: Record<string, number> = {};
  for (const [id, text] of tokens.entries()) if (text === '') bias[String(id)] = -100;
  return bias;
}
