// An upstream model as the engine sees it (LanguageModel, EmbeddingModel): requests are built from
// GenerateRequests and the upstream's SSE chunks become GenerateEvents. Clients calling the API
// do not come this way (their requests are passed through); the engine does, e.g. for runs.
import { AtelierError } from '../../errors.js';
import { estimateUsage } from '../estimate-usage.js';
import type {
  EmbeddingModel,
  EmbeddingResult,
  FinishReason,
  GenerateEvent,
  GenerateRequest,
  LanguageModel,
  ModelInfo,
  PassThroughResponse,
  TokenLogprob,
  Usage,
} from '../spec.js';
import { UpstreamTimeout } from './http1-pool.js';
import { SseDecoder } from './sse-decoder.js';
import { toUpstreamRequest } from './to-upstream-request.js';
import type { UpstreamClient } from './upstream-client.js';

/** The upstream answered with an error: its status and envelope, as it sent them. */
export class UpstreamResponseError extends AtelierError {}

/** Only the first choice is read: the engine asks for one choice per generation. */
interface WireChunk {
  choices?: {
    index?: number;
    delta?: {
      content?: string | null;
      tool_calls?: {
        index?: number;
        id?: string;
        function?: { name?: string; arguments?: string };
      }[];
      function_call?: { name?: string; arguments?: string };
    };
    text?: string;
    logprobs?: WireChatLogprobs | WireCompletionLogprobs | null;
    finish_reason?: string | null;
  }[];
  usage?: {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number } | null;
  } | null;
  error?: { message?: string; type?: string; code?: string | null; param?: string | null };
}

interface WireTokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
  top_logprobs?: { token: string; logprob: number; bytes?: number[] | null }[];
}
interface WireChatLogprobs {
  content?: WireTokenLogprob[] | null;
}
interface WireCompletionLogprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  top_logprobs?: (Record<string, number> | null)[] | null;
}

type Tokenizer = { encode(text: string): number[]; decode(tokens: number[]): string };
let tokenizer: Promise<Tokenizer> | undefined;

/**
 * Upstreams do not share their tokenizers, so counting uses OpenAI's (o200k): exact for OpenAI's
 * models, an estimate for others. Loaded on first use: it costs ~70 MB of memory.
 */
function loadTokenizer(): Promise<Tokenizer> {
  tokenizer ??= import('gpt-tokenizer').then((module) => module as unknown as Tokenizer);
  return tokenizer;
}

export class OpenAICompatibleModel implements LanguageModel, EmbeddingModel {
  readonly info: ModelInfo;
  private readonly client: UpstreamClient;
  private readonly upstreamModel: string;
  private includeUsage = true;

  constructor({
    info,
    client,
    upstreamModel,
  }: { info: ModelInfo; client: UpstreamClient; upstreamModel: string }) {
    this.info = info;
    this.client = client;
    this.upstreamModel = upstreamModel;
  }

  async *generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    const signal = request.signal ?? new AbortController().signal;
    let response = await this.post(request, signal);
    if (response.status === 400 && this.includeUsage) {
      const error = await readError(response, this.client.name);
      if (!/stream_options/i.test(error.message)) throw error;
      // An upstream that refuses stream_options: ask without, and count the usage ourselves.
      this.includeUsage = false;
      response = await this.post(request, signal);
    }
    if (response.status !== 200) throw await readError(response, this.client.name);

    const decoder = new SseDecoder();
    const started = new Set<number>();
    const pendingArguments = new Map<number, string>();
    // `parallel_tool_calls: false` that the upstream ignored: only its first call counts, as a
    // local model makes only one.
    const singleCall = request.input.type === 'chat' && !request.input.parallelToolCalls;
    let firstCall: number | undefined;
    let finish: FinishReason | undefined;
    let usage: Usage | undefined;
    let text = '';
    let done = false;
    response.body.setEncoding('utf8');
    try {
      for await (const piece of response.body as AsyncIterable<string>) {
        for (const event of decoder.push(piece)) {
          if (event.data === '[DONE]') {
            done = true;
            break;
          }
          const chunk = parseChunk(event.data);
          if (chunk.error) throw upstreamError(200, chunk.error, this.client.name);
          if (chunk.usage) usage = toUsage(chunk.usage);
          const choice = chunk.choices?.[0];
          if (!choice) continue;
          const delta = choice.delta;
          const content = delta?.content ?? choice.text;
          const logprobs = toLogprobs(choice.logprobs);
          if (content || logprobs) {
            text += content ?? '';
            yield { type: 'text-delta', text: content ?? '', ...(logprobs ? { logprobs } : {}) };
          }
          const calls =
            delta?.tool_calls ?? (delta?.function_call ? [{ index: 0, function: delta.function_call }] : []);
          for (const call of calls) {
            const index = call.index ?? 0;
            if (singleCall && firstCall !== undefined && index !== firstCall) continue;
            if (!started.has(index) && (call.id || call.function?.name)) {
              started.add(index);
              firstCall ??= index;
              yield {
                type: 'tool-call-start',
                index,
                id: call.id ?? `call_${index}_${Date.now().toString(36)}`,
                name: call.function?.name ?? '',
              };
              const pending = pendingArguments.get(index);
              if (pending) yield { type: 'tool-call-delta', index, argumentsDelta: pending };
              pendingArguments.delete(index);
            }
            const argumentsDelta = call.function?.arguments;
            if (!argumentsDelta) continue;
            if (started.has(index)) yield { type: 'tool-call-delta', index, argumentsDelta };
            else pendingArguments.set(index, (pendingArguments.get(index) ?? '') + argumentsDelta);
          }
          if (choice.finish_reason) finish = toFinishReason(choice.finish_reason);
        }
        if (done) break;
      }
    } catch (error) {
      // The upstream broke off mid-stream (reset, silent, bad framing): its outage, said as one.
      throw error instanceof AtelierError ? error : streamCut(this.client.name, error);
    } finally {
      // Stopping early (the consumer left, or an error): close the upstream request too.
      if (!done) response.body.destroy();
    }
    if (!done && finish === undefined) throw streamCut(this.client.name);
    usage ??= await estimateUsage(this, request, text);
    yield { type: 'finish', reason: finish ?? 'stop', usage };
  }

  async embed({
    inputs,
    signal = new AbortController().signal,
  }: {
    inputs: readonly (string | readonly number[])[];
    signal?: AbortSignal;
  }): Promise<EmbeddingResult> {
    const body = Buffer.from(
      JSON.stringify({ model: this.upstreamModel, input: inputs, encoding_format: 'base64' }),
    );
    const response = await this.client.send({ endpoint: 'embeddings', body, signal });
    const text = await readText(response);
    const parsed = safeJson(text) as {
      data?: { index?: number; embedding?: string | number[] }[];
      usage?: { prompt_tokens?: number };
      error?: WireChunk['error'];
    } | null;
    if (response.status !== 200 || !parsed || !Array.isArray(parsed.data)) {
      throw upstreamError(response.status, parsed?.error, this.client.name);
    }
    const ordered = [...parsed.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return {
      embeddings: ordered.map((item) => toVector(item.embedding)),
      promptTokens: parsed.usage?.prompt_tokens ?? 0,
    };
  }

  async tokenize(text: string): Promise<readonly number[]> {
    return (await loadTokenizer()).encode(text);
  }

  async detokenize(tokens: readonly number[]): Promise<string> {
    return (await loadTokenizer()).decode([...tokens]);
  }

  private post(request: GenerateRequest, signal: AbortSignal): Promise<PassThroughResponse> {
    const { endpoint, body } = toUpstreamRequest({
      request,
      model: this.upstreamModel,
      includeUsage: this.includeUsage,
    });
    return this.client.send({ endpoint, body: Buffer.from(JSON.stringify(body)), signal });
  }
}

/** The upstream's stream ended, or broke off (`cause`), before its end. */
function streamCut(upstream: string, cause: unknown = undefined): AtelierError {
  return new AtelierError(`The upstream \`${upstream}\` ended its stream before finishing.`, {
    status: 503,
    type: 'service_unavailable_error',
    code: cause instanceof UpstreamTimeout ? 'upstream_timeout' : 'upstream_unavailable',
    cause,
  });
}

function parseChunk(data: string): WireChunk {
  const parsed = safeJson(data);
  return parsed !== null && typeof parsed === 'object' ? (parsed as WireChunk) : {};
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function toUsage(usage: NonNullable<WireChunk['usage']>): Usage {
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

function toFinishReason(reason: string): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  return 'stop';
}

function toLogprobs(
  logprobs: WireChatLogprobs | WireCompletionLogprobs | null | undefined,
): TokenLogprob[] | undefined {
  if (!logprobs) return undefined;
  if ('content' in logprobs && Array.isArray(logprobs.content)) {
    return logprobs.content.map((item) => ({
      token: item.token,
      bytes: item.bytes ?? [...Buffer.from(item.token, 'utf8')],
      logprob: item.logprob,
      top: (item.top_logprobs ?? []).map((top) => ({
        token: top.token,
        bytes: top.bytes ?? [...Buffer.from(top.token, 'utf8')],
        logprob: top.logprob,
      })),
    }));
  }
  const legacy = logprobs as WireCompletionLogprobs;
  if (!Array.isArray(legacy.tokens)) return undefined;
  return legacy.tokens.map((token, index) => ({
    token,
    bytes: [...Buffer.from(token, 'utf8')],
    logprob: legacy.token_logprobs?.[index] ?? 0,
    top: Object.entries(legacy.top_logprobs?.[index] ?? {}).map(([top, logprob]) => ({
      token: top,
      bytes: [...Buffer.from(top, 'utf8')],
      logprob,
    })),
  }));
}

function toVector(embedding: string | number[] | undefined): Float32Array {
  if (typeof embedding === 'string') {
    const bytes = Buffer.from(embedding, 'base64');
    // Copied: a Buffer's offset into its pool need not be 4-byte aligned.
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return Float32Array.from(embedding ?? []);
}

async function readText(response: PassThroughResponse, limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readError(response: PassThroughResponse, upstream: string): Promise<UpstreamResponseError> {
  const parsed = safeJson(await readText(response, 1024 * 1024)) as { error?: WireChunk['error'] } | null;
  return upstreamError(response.status, parsed?.error, upstream);
}

function upstreamError(
  status: number,
  error: WireChunk['error'] | undefined,
  upstream: string,
): UpstreamResponseError {
  return new UpstreamResponseError(
    error?.message ?? `The upstream \`${upstream}\` answered HTTP ${status}.`,
    {
      status: status >= 400 ? status : 503,
      type: error?.type ?? (status >= 500 || status < 400 ? 'server_error' : 'invalid_request_error'),
      code: typeof error?.code === 'string' ? error.code : null,
      param: typeof error?.param === 'string' ? error.param : null,
    },
  );
}
