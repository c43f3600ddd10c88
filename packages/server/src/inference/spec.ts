// The provider spec: what any source of models (local GGUF, an OpenAI-compatible upstream)
// must do. Types only; the engine speaks this and never imports an adapter.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

export interface ModelCapabilities {
  readonly chat: boolean;
  readonly completions: boolean;
  readonly embeddings: boolean;
  readonly tools: boolean;
  readonly vision: boolean;
  readonly json: boolean;
}

export interface ModelInfo {
  readonly id: string;
  readonly provider: string;
  readonly ownedBy: string;
  /** Unix seconds. */
  readonly createdAt: number;
  /** Tokens of context; 0 when unknown (an upstream that does not say). */
  readonly contextLength: number;
  readonly capabilities: ModelCapabilities;
  /** The upstream serving it, for models of an OpenAI-compatible provider. */
  readonly upstream?: string;
  /** Shown to users (e.g. "random weights: a test model"). */
  readonly notice?: string;
  /** Identifies the weights + runtime: goes into `system_fingerprint`. */
  readonly fingerprint: string;
}

export interface TextContent {
  readonly type: 'text';
  readonly text: string;
}
export interface ImageContent {
  readonly type: 'image';
  readonly url: string;
}
export type UserContent = TextContent | ImageContent;

export interface ToolCallRequest {
  readonly id: string;
  readonly name: string;
  /** JSON text, as the model wrote it. */
  readonly arguments: string;
}

export type ChatMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: readonly UserContent[]; readonly name?: string }
  | {
      readonly role: 'assistant';
      readonly content: string;
      readonly toolCalls: readonly ToolCallRequest[];
    }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly name?: string; readonly content: string };

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments object. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /**
   * The client's `strict` (Structured Outputs): when true, every call's arguments satisfy
   * `parameters` exactly (checked when the request arrived). Upstreams get it as it was given.
   */
  readonly strict?: boolean;
}

/** How the output is constrained, if at all. */
export type OutputConstraint =
  | { readonly type: 'none' }
  | { readonly type: 'json_object' }
  | { readonly type: 'json_schema'; readonly schema: Readonly<Record<string, unknown>> };

export type ToolMode =
  | { readonly type: 'none' }
  | { readonly type: 'auto' }
  /** The model must call one or more tools (one when `parallel` is false). */
  | { readonly type: 'required' }
  | { readonly type: 'function'; readonly name: string };

export interface SamplingOptions {
  readonly maxTokens?: number;
  readonly temperature: number;
  readonly topP: number;
  readonly stop: readonly string[];
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  /** Token id → bias in [-100, 100] (OpenAI semantics: -100 bans, 100 forces). */
  readonly logitBias: ReadonlyMap<number, number>;
  readonly seed?: number;
  /** Ask for the chosen token's logprob and this many alternatives (0–20). */
  readonly logprobs?: { readonly top: number };
}

export type GenerateInput =
  | {
      readonly type: 'chat';
      readonly messages: readonly ChatMessage[];
      readonly tools: readonly ToolDefinition[];
      readonly toolMode: ToolMode;
      readonly parallelToolCalls: boolean;
    }
  | { readonly type: 'text'; readonly prompt: string | readonly number[]; readonly suffix?: string };

export interface GenerateRequest {
  readonly input: GenerateInput;
  readonly sampling: SamplingOptions;
  readonly constraint: OutputConstraint;
  readonly signal?: AbortSignal;
}

export interface TokenLogprob {
  readonly token: string;
  readonly bytes: readonly number[];
  readonly logprob: number;
  readonly top: readonly {
    readonly token: string;
    readonly bytes: readonly number[];
    readonly logprob: number;
  }[];
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens whose evaluation was reused from an earlier request. */
  readonly cachedPromptTokens: number;
  /** Counted by Atelier, not told by the model (an upstream that sent none; an answer cut short). */
  readonly estimated?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** What a generation emits, in order. Tool-call events of one call share its `index`. */
export type GenerateEvent =
  | { readonly type: 'text-delta'; readonly text: string; readonly logprobs?: readonly TokenLogprob[] }
  | { readonly type: 'tool-call-start'; readonly index: number; readonly id: string; readonly name: string }
  | { readonly type: 'tool-call-delta'; readonly index: number; readonly argumentsDelta: string }
  | { readonly type: 'finish'; readonly reason: FinishReason; readonly usage: Usage };

export interface LanguageModel {
  readonly info: ModelInfo;
  /** Streams a generation; the stream ends after exactly one `finish` event. */
  generate(request: GenerateRequest): AsyncIterable<GenerateEvent>;
  tokenize(text: string): Promise<readonly number[]>;
  detokenize(tokens: readonly number[]): Promise<string>;
}

export interface EmbeddingResult {
  readonly embeddings: readonly Float32Array[];
  readonly promptTokens: number;
}

export interface EmbeddingModel {
  readonly info: ModelInfo;
  embed(options: {
    inputs: readonly (string | readonly number[])[];
    signal?: AbortSignal;
  }): Promise<EmbeddingResult>;
}

/** The OpenAI endpoints a request can be passed through to, relative to the upstream's base URL. */
export type PassThroughEndpoint = 'chat/completions' | 'completions' | 'embeddings';

/** An upstream's response, headers received, body not yet read (it may be an endless stream). */
export interface PassThroughResponse {
  readonly status: number;
  /** Node's raw header list: name, value, name, value… */
  readonly rawHeaders: readonly string[];
  /** The body comes in HTTP/1.1 chunks (a `framed` sink gets them with their framing). */
  readonly chunked: boolean;
  /** The body's bytes as a stream, for readers that want one (made on first use). */
  readonly body: Readable;
  /** Hands the body to `sink` as it arrives: the other way to read it, instead of `body`. */
  relay(sink: PassThroughSink): void;
  /** Goes on after a sink's `write` returned false. */
  resume(): void;
  /** Reads the body to its end and drops it (the connection then serves another request). */
  discard(): void;
  /** Gives up on the body: the upstream connection is closed, so the upstream sees the abort. */
  destroy(): void;
}

/** Where a relayed body goes. */
export interface PassThroughSink {
  /**
   * For a chunked body: true hands on its bytes as the upstream sent them, chunk framing
   * included, less the last (empty) chunk and any trailers, which whoever ends the body writes;
   * false hands on the content only.
   */
  readonly framed: boolean;
  /** Sends bytes on; false asks for a pause until `resume()`. */
  write(bytes: Buffer): boolean;
  /**
   * The client's socket, when framed bytes go to it (`write` writes them there): a client may
   * then write them to it directly (the native relay), once nothing is queued on it.
   */
  readonly socket?: Socket | undefined;
  /**
   * Each piece of the content (never framing), as it passes: to look at, not to keep.
   * `skipped`: content that went by before it unseen (only its length is known).
   */
  inspect?(piece: Buffer, skipped?: number): void;
  end(): void;
  /** The upstream broke off, or its answer could not be read. */
  fail(error: Error): void;
}

/** A pass-through request under way: its answer, or a way to give up on it. */
export interface PassThroughCall {
  /** Settles once the upstream answered (headers received), after any retries. */
  readonly response: Promise<PassThroughResponse>;
  /**
   * Gives up (the client left): closes the connection or stops the wait between retries, so the
   * upstream sees the abort. `response` then rejects. No effect once it resolved.
   */
  cancel(): void;
}

/**
 * A model served by an OpenAI-compatible upstream, reached without re-encoding: the HTTP layer
 * sends the client's JSON (model name rewritten) and relays the response bytes as they come, so
 * every field the upstream returns reaches the client.
 */
export interface PassThrough {
  readonly upstream: string;
  /** The id the upstream knows the model by (the served id without the prefix). */
  readonly upstreamModel: string;
  /**
   * Sends `body`, retrying 429/5xx answers and failed connections with backoff; `response`
   * resolves with the last answer (which may still be a 429/5xx) and rejects when no answer
   * came at all. Cancellation is a method rather than an AbortSignal: on the hot path of every
   * proxied request, Node's AbortSignal machinery measured ~10% of the gateway's CPU.
   */
  start(options: { readonly endpoint: PassThroughEndpoint; readonly body: Uint8Array }): PassThroughCall;
}

export interface InferenceProvider {
  readonly name: string;
  listModels(): readonly ModelInfo[];
  languageModel(id: string): LanguageModel | undefined;
  embeddingModel(id: string): EmbeddingModel | undefined;
  /** For models whose requests may be passed through to an upstream as they are. */
  passThrough?(id: string): PassThrough | undefined;
  /** Called when `listModels()` changed (e.g. an upstream's models were discovered). */
  onModelsChanged?(listener: () => void): void;
  close(): Promise<void>;
}
