// What a request used, for the usage ledger. A local model's usage comes from the engine's own
// `usage` event. A passed-through answer is never parsed while it flows: the relay hands each
// piece of the body to `UpstreamUsage.inspect`, which only keeps a reference to it (the last
// 1 MiB); once the answer went out, the upstream's own `usage` object is looked for from the end
// (a stream's usage chunk comes last, before `[DONE]`; a JSON answer's `usage` is its last
// member). An answer without one (a stream whose client did not ask for
// `stream_options.include_usage`) is estimated, and counted as estimated: see
// docs/decisions/2026-11-25-usage-of-passed-through-requests.md.
import type { CompletionEvent } from '../engine/chat-completion.js';
import type { Usage } from '../inference/spec.js';

export interface MeteredTokens {
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly outputTokens: number;
  readonly estimated: boolean;
}

/**
 * Passes the engine's events on, telling `record` the usage when it comes. An answer that began
 * and ended without it (its client left, or it failed midway) is still counted: `estimate` makes
 * its usage from the text written so far.
 */
export async function* meterEvents<Event extends CompletionEvent>(
  events: AsyncIterable<Event>,
  record: (usage: Usage) => void,
  estimate: (written: string) => Promise<Usage>,
): AsyncGenerator<Event> {
  let recorded = false;
  let began = false;
  let written = '';
  try {
    for await (const event of events) {
      began = true;
      if (event.type === 'usage') {
        recorded = true;
        record(event.usage);
      } else if (event.type === 'text') written += event.text;
      else if (event.type === 'tool-call-delta') written += event.argumentsDelta;
      yield event;
    }
  } finally {
    // Not awaited: the client that left is not kept waiting for the count.
    if (began && !recorded)
      void estimate(written)
        .then(record)
        .catch(() => {
          // An estimate that could not be made (or recorded) loses this one count, nothing else.
        });
  }
}

/** The most of an answer kept to look for its usage (the end of it). */
const KEPT_BYTES = 1024 * 1024;
const USAGE_KEY = Buffer.from('"usage"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;

/** One passed-through answer's body, seen as it went by. */
export class UpstreamUsage {
  private readonly pieces: Buffer[] = [];
  /** Index of the first piece still kept. */
  private first = 0;
  private keptBytes = 0;
  private droppedBytes = 0;

  /**
   * For the relay: keeps a reference to the piece, dropping the oldest beyond 1 MiB. `skipped`:
   * content before the piece that was not seen (the native relay keeps only the last 1 MiB).
   */
  readonly inspect = (piece: Buffer, skipped = 0): void => {
    this.droppedBytes += skipped;
    this.pieces.push(piece);
    this.keptBytes += piece.length;
    while (this.keptBytes - this.pieces[this.first]!.length >= KEPT_BYTES) {
      const dropped = this.pieces[this.first]!.length;
      this.keptBytes -= dropped;
      this.droppedBytes += dropped;
      this.pieces[this.first++] = EMPTY;
    }
  };

  /**
   * The answer's tokens: the upstream's own count when it sent one, else an estimate from the
   * request the client sent and the text the answer carried.
   */
  tokens({ requestBody }: { requestBody: Uint8Array }): MeteredTokens {
    const body = Buffer.concat(this.first === 0 ? this.pieces : this.pieces.slice(this.first));
    const reported = lastUsage(body);
    if (reported) return { ...reported, estimated: false };
    const output = estimateOutputTokens(body);
    const scale =
      this.droppedBytes > 0 && body.length > 0 ? (body.length + this.droppedBytes) / body.length : 1;
    return {
      inputTokens: estimateInputTokens(requestBody),
      cachedInputTokens: 0,
      outputTokens: Math.round(output * scale),
      estimated: true,
    };
  }
}

const EMPTY = Buffer.alloc(0);

/** The last `"usage": {…}` in `body` with token counts in it, read; undefined when none. */
function lastUsage(body: Buffer): Omit<MeteredTokens, 'estimated'> | undefined {
  let from = body.length;
  while (from > 0) {
    const at = body.lastIndexOf(USAGE_KEY, from - 1);
    if (at < 0) return undefined;
    from = at;
    const open = skipToObject(body, at + USAGE_KEY.length);
    if (open < 0) continue;
    const close = objectEnd(body, open);
    if (close < 0) continue;
    const usage = parseJson(body.toString('utf8', open, close)) as WireUsage | undefined;
    const input = count(usage?.prompt_tokens);
    if (input === undefined) continue;
    return {
      inputTokens: input,
      cachedInputTokens: count(usage?.prompt_tokens_details?.cached_tokens) ?? 0,
      outputTokens: count(usage?.completion_tokens) ?? 0,
    };
  }
  return undefined;
}

interface WireUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** After a key: whitespace, a colon, whitespace, then `{`; its index, or -1 (e.g. `null`). */
function skipToObject(body: Buffer, index: number): number {
  let at = skipSpace(body, index);
  if (body[at] !== COLON) return -1;
  at = skipSpace(body, at + 1);
  return body[at] === OPEN_BRACE ? at : -1;
}

function skipSpace(body: Buffer, index: number): number {
  let at = index;
  while (
    at < body.length &&
    (body[at] === 0x20 || body[at] === 0x0a || body[at] === 0x0d || body[at] === 0x09)
  )
    at++;
  return at;
}

/** Just past the `}` that closes the object opening at `open` (strings skipped); -1 if cut off. */
function objectEnd(body: Buffer, open: number): number {
  let depth = 0;
  for (let at = open; at < body.length; at++) {
    const byte = body[at];
    if (byte === QUOTE) {
      for (at++; at < body.length && body[at] !== QUOTE; at++) if (body[at] === BACKSLASH) at++;
    } else if (byte === OPEN_BRACE) depth++;
    else if (byte === CLOSE_BRACE && --depth === 0) return at + 1;
  }
  return -1;
}

/** OpenAI's rule of thumb, for text whose tokenizer is not at hand: about 4 characters a token. */
function tokensOfText(characters: number): number {
  return Math.ceil(characters / 4);
}

/**
 * The answer's output, estimated: a stream's text deltas (an upstream streams about one token
 * per event; never fewer tokens than the text's length suggests), or a JSON answer's texts.
 */
function estimateOutputTokens(body: Buffer): number {
  const text = body.toString('utf8');
  const start = text.trimStart();
  if (start.startsWith('{')) {
    const answer = parseJson(text) as { choices?: unknown } | undefined;
    return tokensOfText(choiceCharacters(answer?.choices));
  }
  let events = 0;
  let characters = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const chunk = parseJson(line.slice(5).trim()) as { choices?: unknown } | undefined;
    const seen = choiceCharacters(chunk?.choices);
    if (seen > 0) events++;
    characters += seen;
  }
  return Math.max(events, tokensOfText(characters));
}

/** Characters of text, tool-call arguments and refusals in a list of choices (or deltas). */
function choiceCharacters(choices: unknown): number {
  let characters = 0;
  if (!Array.isArray(choices)) return characters;
  for (const choice of choices as Record<string, unknown>[]) {
    const part = (choice?.['delta'] ?? choice?.['message'] ?? {}) as Record<string, unknown>;
    characters +=
      stringLength(choice?.['text']) + stringLength(part['content']) + stringLength(part['refusal']);
    const functionCall = part['function_call'] as { arguments?: unknown } | undefined;
    characters += stringLength(functionCall?.arguments);
    if (Array.isArray(part['tool_calls']))
      for (const call of part['tool_calls'] as { function?: { name?: unknown; arguments?: unknown } }[])
        characters += stringLength(call?.function?.name) + stringLength(call?.function?.arguments);
  }
  return characters;
}

/** The request's input, estimated: its messages' text, its prompt, or its embeddings input. */
function estimateInputTokens(requestBody: Uint8Array): number {
  const request = parseJson(Buffer.from(requestBody).toString('utf8')) as Record<string, unknown> | undefined;
  if (!request) return 0;
  let characters = 0;
  let tokens = 0;
  const add = (value: unknown): void => {
    if (typeof value === 'string') characters += value.length;
    else if (typeof value === 'number') tokens++;
    else if (Array.isArray(value)) for (const item of value) add(item);
  };
  if (Array.isArray(request['messages'])) {
    for (const message of request['messages'] as Record<string, unknown>[]) {
      const content = message?.['content'];
      if (Array.isArray(content))
        for (const part of content as { text?: unknown }[]) characters += stringLength(part?.text);
      else characters += stringLength(content);
      if (Array.isArray(message?.['tool_calls']))
        for (const call of message['tool_calls'] as { function?: { arguments?: unknown } }[])
          characters += stringLength(call?.function?.arguments);
    }
  }
  if (request['tools'] !== undefined) characters += JSON.stringify(request['tools']).length;
  add(request['prompt']);
  add(request['input']);
  return tokens + tokensOfText(characters);
}

function stringLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
