// One local GGUF model served through node-llama-cpp: chat and text generation on a shared
// context with several sequences (batched decoding, prefix reuse), grammar-constrained JSON and
// tool calls, logprobs, seeds, penalties, logit bias; and embeddings.

import { newId } from '@atelier/protocol';
import {
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  type Token,
  TokenBias,
} from 'node-llama-cpp';
import { AtelierError, InvalidRequestError } from '../../errors.js';
import type {
  ChatMessage,
  EmbeddingModel,
  EmbeddingResult,
  FinishReason,
  GenerateEvent,
  GenerateRequest,
  LanguageModel,
  ModelInfo,
  TokenLogprob,
  ToolDefinition,
} from '../spec.js';
import { tightenNumberRules, toGrammarSchema } from '../structured-output/grammar-schema.js';
import { SequencePool } from './sequence-pool.js';
import {
  partialSuffixLength,
  renderToolCall,
  renderToolResponse,
  renderToolsPrompt,
  ToolCallStreamParser,
  toolCallGrammar,
  toolCallSchema,
} from './tool-protocol.js';

export interface LlamaCppModelOptions {
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  /** Single-sequence contexts where seeded requests decode alone (reproducible logits). */
  readonly seededContexts?: readonly LlamaContext[];
  readonly chatWrapper: ChatWrapper;
  readonly info: ModelInfo;
}

interface PreparedPrompt {
  readonly tokens: Token[];
  readonly grammar: LlamaGrammar | undefined;
  /** Stops the generation without being part of the output (template or grammar ends). */
  readonly hiddenStops: readonly string[];
  readonly trimWhitespaceSuffix: boolean;
  readonly parseTools: boolean;
  /** The grammar allows nothing but tool calls. */
  readonly toolCallsOnly: boolean;
  /** At most one call (`parallel_tool_calls: false`, legacy `functions`): generation ends with it. */
  readonly singleToolCall: boolean;
  /**
   * The grammar can come to an end where nothing but an end-of-generation token is valid (a JSON
   * value, a forced call): the grammar, not `logit_bias`, decides where such an output ends.
   */
  readonly grammarEnds: boolean;
}

export class LlamaCppModel implements LanguageModel, EmbeddingModel {
  readonly info: ModelInfo;
  private readonly llama: Llama;
  private readonly model: LlamaModel;
  private readonly chatWrapper: ChatWrapper;
  private readonly pool: SequencePool;
  private readonly seededPool: SequencePool | undefined;
  private readonly contextSize: number;
  /** The generation context's threads; the embedding context would otherwise take its own default. */
  private readonly threads: number;
  private embeddingContext: Promise<LlamaEmbeddingContext> | undefined;
  private embeddingQueue: Promise<unknown> = Promise.resolve();
  private jsonGrammar: Promise<LlamaGrammar> | undefined;
  /**
   * Special and control tokens that do not end generation: never sampled under a grammar.
   * llama.cpp's grammar matches each token by its text with special tokens spelled out
   * (`<|im_start|>`), while the output is decoded without them: such a token would satisfy the
   * grammar as text and vanish from the reply, leaving a string too short or a `<tool_call>` tag
   * the grammar never saw. Found once, when the model is loaded (a scan of the vocabulary).
   */
  private readonly grammarBannedTokens: readonly Token[];

  constructor({ llama, model, context, seededContexts = [], chatWrapper, info }: LlamaCppModelOptions) {
    this.llama = llama;
    this.model = model;
    this.chatWrapper = chatWrapper;
    this.info = info;
    this.contextSize = context.contextSize;
    this.threads = context.idealThreads;
    const sequences = Array.from({ length: context.totalSequences }, () => context.getSequence());
    this.pool = new SequencePool(sequences);
    this.seededPool =
      seededContexts.length > 0
        ? new SequencePool(seededContexts.map((seeded) => seeded.getSequence()))
        : undefined;
    for (const each of [context, ...seededContexts]) guardSampling(each);
    const banned: Token[] = [];
    for (const token of model.iterateAllTokens()) {
      if (model.isSpecialToken(token) && !model.isEogToken(token)) banned.push(token);
    }
    this.grammarBannedTokens = banned;
  }

  async dispose(): Promise<void> {
    const embedding = await this.embeddingContext?.catch(() => undefined);
    await embedding?.dispose();
    await this.model.dispose();
  }

  async tokenize(text: string): Promise<readonly number[]> {
    return this.model.tokenize(text, false);
  }

  async detokenize(tokens: readonly number[]): Promise<string> {
    this.checkTokenIds(tokens, 'prompt');
    return this.model.detokenize(tokens as Token[], false);
  }

  async *generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
    const prompt = await this.prepare(request);
    const { sampling, signal } = request;
    const available = this.contextSize - prompt.tokens.length;
    if (available <= 0 || (sampling.maxTokens !== undefined && sampling.maxTokens > available)) {
      const requested = sampling.maxTokens ?? 0;
      throw new InvalidRequestError(
        `This model's maximum context length is ${this.contextSize} tokens. However, you requested ${
          prompt.tokens.length + requested
        } tokens (${prompt.tokens.length} in the messages, ${requested} in the completion). Please reduce the length of the messages or completion.`,
        { param: request.input.type === 'chat' ? 'messages' : 'prompt', code: 'context_length_exceeded' },
      );
    }
    const maxTokens = sampling.maxTokens ?? available;
    const tokenBias = this.tokenBias(sampling.logitBias, prompt);
    const pool = sampling.seed !== undefined && this.seededPool ? this.seededPool : this.pool;
    const sequence = await pool.acquire({ tokens: prompt.tokens, signal });
    try {
      // Keep the longest cached prefix; at least one token must be evaluated to get logits.
      // Not with a seed: llama.cpp evaluates one token with other kernels than several (for F16
      // weights), so a prompt whose last token is evaluated alone after a cached prefix gets
      // logits that differ in the last bits from a fresh one, enough to flip sampled tokens.
      const shared =
        sampling.seed === undefined
          ? Math.min(
              sequence.compareContextTokens(prompt.tokens).firstDifferentIndex,
              prompt.tokens.length - 1,
            )
          : 0;
      if (sequence.nextTokenIndex > shared) {
        await sequence.eraseContextTokenRanges([{ start: shared, end: sequence.nextTokenIndex }]);
      }
      const grammarState = prompt.grammar
        ? new LlamaGrammarEvaluationState({ model: this.model, grammar: prompt.grammar })
        : undefined;
      const generated: Token[] = [];
      const penalize = sampling.presencePenalty !== 0 || sampling.frequencyPenalty !== 0;
      const wantLogprobs = sampling.logprobs !== undefined;
      const iterator = sequence.evaluateWithMetadata(
        prompt.tokens.slice(shared),
        { probabilities: wantLogprobs },
        {
          temperature: sampling.temperature,
          // node-llama-cpp fills in top-k 40 and top-p 0.95 when these are left out; OpenAI
          // samples from the whole distribution unless top_p says otherwise (0 = no top-k).
          topK: 0,
          topP: sampling.topP,
          seed: sampling.seed ?? randomSeed(),
          grammarEvaluationState: grammarState,
          tokenBias,
          repeatPenalty: penalize
            ? {
                punishTokens: () => generated,
                maxPunishTokens: Math.max(64, maxTokens),
                penalty: 1,
                presencePenalty: sampling.presencePenalty,
                frequencyPenalty: sampling.frequencyPenalty,
              }
            : undefined,
          contextShift: { size: 0 },
        },
      );

      const output = new OutputAssembler({
        userStops: sampling.stop,
        hiddenStops: prompt.hiddenStops,
        trimWhitespaceSuffix: prompt.trimWhitespaceSuffix,
        parser: prompt.parseTools ? new ToolCallStreamParser() : undefined,
        toolCallsOnly: prompt.toolCallsOnly,
        singleToolCall: prompt.singleToolCall,
      });
      let reason: FinishReason | 'length' = 'stop';
      let pendingTokens: Token[] = [];
      let pendingLogprobs: TokenLogprob[] = [];
      const banning = [...sampling.logitBias.values()].some((value) => value <= -100);
      for await (const item of failuresAsErrors(iterator, banning)) {
        if (signal?.aborted) break;
        generated.push(item.token);
        pendingTokens.push(item.token);
        if (wantLogprobs) {
          pendingLogprobs.push(
            this.logprobFor(
              item.token,
              (item as { probabilities?: Map<Token, number> }).probabilities,
              sampling.logprobs!.top,
            ),
          );
        }
        const text = this.model.detokenize(
          pendingTokens,
          false,
          generated.slice(-pendingTokens.length - 8, -pendingTokens.length),
        );
        // A token may end inside a multi-byte character: wait for the rest.
        const complete = !text.endsWith('\uFFFD') || pendingTokens.length >= 4;
        if (complete) {
          const events = output.push(text, pendingLogprobs);
          pendingTokens = [];
          pendingLogprobs = [];
          yield* events;
          if (output.stopped) break;
        }
        if (generated.length >= maxTokens) {
          reason = 'length';
          break;
        }
      }
      await iterator.return?.();
      if (pendingTokens.length > 0 && !output.stopped) {
        yield* output.push(this.model.detokenize(pendingTokens, false), pendingLogprobs);
      }
      // Ended by a stop or a completed call, not by the limit (finish() only closes what was cut).
      const stopped = output.stopped;
      yield* output.finish();
      const finishReason: FinishReason =
        reason === 'length' && !stopped ? 'length' : output.toolCalls > 0 ? 'tool_calls' : 'stop';
      yield {
        type: 'finish',
        reason: finishReason,
        usage: {
          promptTokens: prompt.tokens.length,
          completionTokens: generated.length,
          cachedPromptTokens: shared,
        },
      };
    } finally {
      pool.release(sequence);
    }
  }

  async embed({
    inputs,
    signal,
  }: {
    inputs: readonly (string | readonly number[])[];
    signal?: AbortSignal;
  }): Promise<EmbeddingResult> {
    this.embeddingContext ??= this.model.createEmbeddingContext({
      contextSize: Math.min(this.contextSize, 8192),
      threads: this.threads,
    });
    const context = await this.embeddingContext;
    // One embedding context, used by one request at a time.
    const run = this.embeddingQueue.then(async () => {
      const embeddings: Float32Array[] = [];
      let promptTokens = 0;
      for (const [index, input] of inputs.entries()) {
        if (signal?.aborted)
          throw new AtelierError('The request was cancelled.', { status: 499, code: 'cancelled' });
        const tokens =
          typeof input === 'string' ? this.model.tokenize(input, false) : ([...input] as Token[]);
        if (typeof input !== 'string') this.checkTokenIds(input, 'input');
        if (tokens.length > context.calculateInputLength(tokens) || tokens.length > this.contextSize) {
          throw new InvalidRequestError(
            `Input ${index} has ${tokens.length} tokens, more than this model's maximum of ${this.contextSize}.`,
            { param: 'input', code: 'context_length_exceeded' },
          );
        }
        promptTokens += tokens.length;
        const embedding = tokens.length === 0 ? null : await context.getEmbeddingFor(tokens as Token[]);
        embeddings.push(
          Float32Array.from(embedding?.vector ?? new Array(this.model.embeddingVectorSize).fill(0)),
        );
      }
      return { embeddings, promptTokens };
    });
    this.embeddingQueue = run.catch(() => undefined);
    return run;
  }

  private async prepare(request: GenerateRequest): Promise<PreparedPrompt> {
    const { input, constraint } = request;
    let grammar: LlamaGrammar | undefined;
    let parseTools = false;
    let toolCallsOnly = false;
    let singleToolCall = false;
    let grammarEnds = false;
    let tokens: Token[];
    const hiddenStops: string[] = [];
    if (input.type === 'chat') {
      const useTools = input.tools.length > 0 && input.toolMode.type !== 'none';
      const forced = useTools && (input.toolMode.type === 'required' || input.toolMode.type === 'function');
      const history = toChatHistory(input.messages, useTools ? input.tools : []);
      const state = this.chatWrapper.generateContextState({ chatHistory: history });
      tokens = state.contextText.tokenize(this.model.tokenizer);
      for (const trigger of state.stopGenerationTriggers) {
        // Special tokens (EOS, <|im_end|>) end generation in the evaluator; their toString() is a
        // name ("EOS") that a reply may well spell. Only what the decoded text can hold is a stop.
        const text = this.model.detokenize(trigger.tokenize(this.model.tokenizer), false);
        if (text.trim()) hiddenStops.push(text);
      }
      if (forced) {
        const tools =
          input.toolMode.type === 'function'
            ? input.tools.filter((tool) => tool.name === (input.toolMode as { name: string }).name)
            : input.tools;
        grammar = await this.toolGrammar(tools, {
          parallel: input.parallelToolCalls && input.toolMode.type === 'required',
        });
      } else if (useTools && constraint.type === 'none' && input.tools.some((tool) => tool.strict === true)) {
        // Auto mode with a strict function: the model writes freely, but a call it opens is
        // finished under the grammar. Without one, nothing constrains auto mode (as before).
        grammar = await this.toolGrammar(input.tools, { parallel: input.parallelToolCalls, auto: true });
      }
      parseTools = useTools;
      toolCallsOnly = forced;
      // The auto grammar lets any text follow a call: it never has to end.
      grammarEnds = forced;
      // In auto mode nothing in the grammar stops a second call: the output assembler ends the
      // generation once the first call is closed (a named function is always a single call).
      singleToolCall = useTools && (!input.parallelToolCalls || input.toolMode.type === 'function');
    } else {
      if (typeof input.prompt === 'string') tokens = this.model.tokenize(input.prompt, false);
      else {
        this.checkTokenIds(input.prompt, 'prompt');
        tokens = [...input.prompt] as Token[];
      }
      if (input.suffix !== undefined) tokens = this.infillPrompt(tokens, input.suffix);
      if (tokens.length === 0) tokens = [this.model.tokens.bos ?? this.model.tokens.eos ?? (0 as Token)];
    }
    let trimWhitespaceSuffix = false;
    if (!grammar && constraint.type !== 'none') {
      if (constraint.type === 'json_object') {
        this.jsonGrammar ??= this.llama.getGrammarFor('json');
        grammar = await this.jsonGrammar;
      } else {
        const schema = toGrammarSchema(constraint.schema, { param: 'response_format.json_schema.schema' });
        grammar = await this.compileSchema(schema, 'response_format.json_schema.schema');
      }
      trimWhitespaceSuffix = true;
      grammarEnds = true;
      for (const trigger of grammar.stopGenerationTriggers) {
        const text = typeof trigger === 'string' ? trigger : trigger.toString();
        if (text) hiddenStops.push(text);
      }
    }
    return {
      tokens,
      grammar,
      hiddenStops,
      trimWhitespaceSuffix,
      parseTools,
      toolCallsOnly,
      singleToolCall,
      grammarEnds,
    };
  }

  private async toolGrammar(
    tools: readonly ToolDefinition[],
    { parallel, auto = false }: { parallel: boolean; auto?: boolean },
  ): Promise<LlamaGrammar> {
    const compiled = await this.compileSchema(toolCallSchema(tools), 'tools');
    return refusedAsInvalid('tools', () =>
      this.llama.createGrammar({
        grammar: toolCallGrammar({ callGrammar: compiled.grammar, parallel, auto }),
      }),
    );
  }

  private async compileSchema(schema: Record<string, unknown>, param: string): Promise<LlamaGrammar> {
    return refusedAsInvalid(param, async () => {
      // biome-ignore lint/suspicious/noExplicitAny: the schema was normalised by toGrammarSchema.
      const compiled = await this.llama.createGrammarForJsonSchema(schema as any);
      return this.llama.createGrammar({
        grammar: tightenNumberRules(compiled.grammar),
        stopGenerationTriggers: compiled.stopGenerationTriggers,
        trimWhitespaceSuffix: compiled.trimWhitespaceSuffix,
      });
    });
  }

  /**
   * `suffix` (legacy completions): fill-in-the-middle with the model's own infill tokens; a model
   * trained without them cannot honour a suffix, and says so rather than ignoring it.
   */
  private infillPrompt(prefix: Token[], suffix: string): Token[] {
    const { prefix: prefixToken, suffix: suffixToken, middle: middleToken } = this.model.tokens.infill;
    if (prefixToken === null || suffixToken === null || middleToken === null) {
      throw new InvalidRequestError(
        `The model \`${this.info.id}\` has no fill-in-the-middle tokens, so it cannot complete with a \`suffix\`.`,
        { param: 'suffix', code: 'unsupported_parameter' },
      );
    }
    return [prefixToken, ...prefix, suffixToken, ...this.model.tokenize(suffix, false), middleToken];
  }

  private tokenBias(
    logitBias: ReadonlyMap<number, number>,
    { grammar, grammarEnds }: Pick<PreparedPrompt, 'grammar' | 'grammarEnds'>,
  ): TokenBias | undefined {
    this.checkTokenIds([...logitBias.keys()], 'logit_bias');
    const banned = grammar ? this.grammarBannedTokens : [];
    if (logitBias.size === 0 && banned.length === 0) return undefined;
    const bias = TokenBias.for(this.model);
    // TokenBias.set skips end-of-generation tokens (node-llama-cpp's chat loop must always be able
    // to end), but OpenAI's logit_bias holds for every token: `{"<end token id>": -100}` is how a
    // client makes a reply run to max_tokens. So the biases go into the map the sampler reads.
    const biases = (bias as unknown as { _biases?: unknown })._biases;
    const put = (token: Token, logit: number) => {
      if (biases instanceof Map) biases.set(token, logit);
      else bias.set(token, logit === Number.NEGATIVE_INFINITY ? 'never' : { logit });
    };
    for (const [token, value] of logitBias) {
      // Once a grammar's value is complete only an end token is valid: banned, the sampler would
      // fail. Running to max_tokens cannot apply there; the grammar says where the output ends.
      if (grammarEnds && this.model.isEogToken(token as Token)) continue;
      put(token as Token, value <= -100 ? Number.NEGATIVE_INFINITY : value);
    }
    for (const token of banned) put(token, Number.NEGATIVE_INFINITY);
    return bias;
  }

  private checkTokenIds(tokens: readonly number[], param: string): void {
    const vocabulary =
      this.model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? Number.POSITIVE_INFINITY;
    const bad = tokens.find((token) => !Number.isInteger(token) || token < 0 || token >= vocabulary);
    if (bad !== undefined) {
      throw new InvalidRequestError(
        `Invalid token id ${bad} in ${param}: the vocabulary has ${vocabulary} tokens.`,
        {
          param,
        },
      );
    }
  }

  private logprobFor(token: Token, probabilities: Map<Token, number> | undefined, top: number): TokenLogprob {
    const describe = (candidate: Token, probability: number) => {
      const text = this.model.detokenize([candidate], true);
      return { token: text, bytes: [...Buffer.from(text, 'utf8')], logprob: safeLog(probability) };
    };
    const chosen = describe(token, probabilities?.get(token) ?? 0);
    const alternatives: { token: string; bytes: number[]; logprob: number }[] = [];
    if (probabilities && top > 0) {
      for (const [candidate, probability] of probabilities) {
        if (alternatives.length >= top) break;
        alternatives.push(describe(candidate, probability));
      }
    }
    return { ...chosen, top: alternatives };
  }
}

/** Maps spec messages onto node-llama-cpp's chat history (rendered by the model's template). */
function toChatHistory(
  messages: readonly ChatMessage[],
  tools: readonly ToolDefinition[],
): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const toolsPrompt = tools.length > 0 ? renderToolsPrompt(tools) : undefined;
  let toolsPlaced = false;
  for (const message of messages) {
    const previous = history.at(-1);
    switch (message.role) {
      case 'system': {
        const text = !toolsPlaced && toolsPrompt ? `${message.content}\n\n${toolsPrompt}` : message.content;
        toolsPlaced = true;
        history.push({ type: 'system', text });
        break;
      }
      case 'user': {
        const text = message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
        history.push({ type: 'user', text });
        break;
      }
      case 'assistant': {
        const parts = [message.content, ...message.toolCalls.map((call) => renderToolCall(call))].filter(
          Boolean,
        );
        history.push({ type: 'model', response: [parts.join('\n')] });
        break;
      }
      case 'tool': {
        const text = renderToolResponse(message.content);
        // Consecutive tool results form one turn, as the Hermes convention expects.
        if (previous?.type === 'user' && previous.text.startsWith('<tool_response>')) {
          previous.text += `\n${text}`;
        } else history.push({ type: 'user', text });
        break;
      }
    }
  }
  if (toolsPrompt && !toolsPlaced) history.unshift({ type: 'system', text: toolsPrompt });
  history.push({ type: 'model', response: [] });
  return history;
}

interface OutputAssemblerOptions {
  readonly userStops: readonly string[];
  readonly hiddenStops: readonly string[];
  readonly trimWhitespaceSuffix: boolean;
  readonly parser: ToolCallStreamParser | undefined;
  /**
   * Forced tool calls: whatever the parser hands back as text is protocol markup of a call cut
   * off by max_tokens (`<tool_call>\n{"na`), never content.
   */
  readonly toolCallsOnly: boolean;
  /**
   * Stop at the end of the first call: what follows it (a second call, words) is dropped and the
   * generation ends there, so a client that asked for one call never sees two.
   */
  readonly singleToolCall: boolean;
}

/**
 * Turns decoded text into events: cuts at stop sequences (holding back a possible partial
 * match), trims what a grammar appends, routes text through the tool-call parser. With the
 * parser, the client's stop sequences apply to the text outside tool calls only (a call's
 * arguments are never cut by them); the hidden stops (the model's end of turn) apply throughout.
 */
class OutputAssembler {
  stopped = false;
  /** Decoded text not yet routed (a possible partial stop, trailing whitespace). */
  private held = '';
  private heldLogprobs: TokenLogprob[] = [];
  /** Stops matched on the decoded text before it is routed. */
  private readonly stops: readonly string[];
  /** With the parser: the client's stops, matched on the text outside calls. */
  private readonly textStops: readonly string[];
  /** Text outside calls held back as a possible partial match of a client stop. */
  private text = '';
  private textLogprobs: TokenLogprob[] = [];
  /** A client stop ended the text: what the parser still holds comes after it. */
  private textStopped = false;
  private readonly options: OutputAssemblerOptions;
  private callCount = 0;
  /** The single call allowed has been closed: nothing more is routed. */
  private callsClosed = false;

  constructor(options: OutputAssemblerOptions) {
    this.options = options;
    const nonEmpty = (stops: readonly string[]) => stops.filter((stop) => stop.length > 0);
    this.stops = nonEmpty(
      options.parser ? options.hiddenStops : [...options.userStops, ...options.hiddenStops],
    );
    this.textStops = nonEmpty(options.parser ? options.userStops : []);
  }

  get toolCalls(): number {
    return this.callCount;
  }

  push(text: string, logprobs: readonly TokenLogprob[]): GenerateEvent[] {
    if (this.stopped) return [];
    this.held += text;
    this.heldLogprobs.push(...logprobs);
    const cut = firstStop(this.held, this.stops);
    if (cut >= 0) {
      this.held = this.held.slice(0, cut);
      this.stopped = true;
      return this.flush(this.held.length);
    }
    let keep = 0;
    for (const stop of this.stops) keep = Math.max(keep, partialSuffixLength(this.held, stop));
    if (this.options.trimWhitespaceSuffix) {
      keep = Math.max(keep, this.held.length - this.held.trimEnd().length);
    }
    return this.flush(this.held.length - keep);
  }

  finish(): GenerateEvent[] {
    if (this.options.trimWhitespaceSuffix) this.held = this.held.trimEnd();
    const events = this.flush(this.held.length);
    // After the single call or a client stop, what the parser still holds is dropped with the rest.
    if (this.options.parser && !this.callsClosed && !this.textStopped) {
      events.push(...this.route(this.options.parser.finish(), []));
    }
    // No more text can complete a stop: what was held back as a partial match is text.
    events.push(...this.releaseText(this.text.length));
    if (this.heldLogprobs.length > 0 && events.length === 0) {
      events.push({ type: 'text-delta', text: '', logprobs: this.heldLogprobs });
      this.heldLogprobs = [];
    }
    return events;
  }

  private flush(length: number): GenerateEvent[] {
    if (length <= 0 || this.callsClosed || this.textStopped) return [];
    const text = this.held.slice(0, length);
    this.held = this.held.slice(length);
    const logprobs = this.heldLogprobs;
    this.heldLogprobs = [];
    if (!this.options.parser) return [{ type: 'text-delta', text, ...(logprobs.length ? { logprobs } : {}) }];
    return this.route(this.options.parser.push(text), logprobs);
  }

  private route(
    events: ReturnType<ToolCallStreamParser['push']>,
    logprobs: readonly TokenLogprob[],
  ): GenerateEvent[] {
    const out: GenerateEvent[] = [];
    let logprobsPlaced = logprobs.length === 0;
    for (const event of events) {
      if (this.callsClosed || this.textStopped) break;
      switch (event.type) {
        case 'text': {
          if (this.options.toolCallsOnly) break;
          this.text += event.text;
          if (!logprobsPlaced) this.textLogprobs.push(...logprobs);
          logprobsPlaced = true;
          const cut = firstStop(this.text, this.textStops);
          if (cut >= 0) {
            this.text = this.text.slice(0, cut);
            out.push(...this.releaseText(this.text.length, { withLogprobs: true }));
            this.textStopped = true;
            this.stopped = true;
            this.held = '';
            break;
          }
          let keep = 0;
          for (const stop of this.textStops) keep = Math.max(keep, partialSuffixLength(this.text, stop));
          out.push(...this.releaseText(this.text.length - keep));
          break;
        }
        case 'call-start':
          // Text held back before a call is no stop: a stop cannot span the call.
          out.push(...this.releaseText(this.text.length));
          this.callCount += 1;
          out.push({ type: 'tool-call-start', index: event.index, id: newId('toolCall'), name: event.name });
          break;
        case 'call-arguments':
          out.push({ type: 'tool-call-delta', index: event.index, argumentsDelta: event.delta });
          break;
        case 'call-end':
          if (this.options.singleToolCall) {
            this.callsClosed = true;
            this.stopped = true;
            this.held = '';
          }
          break;
      }
    }
    if (!logprobsPlaced) {
      // Held-back text keeps the logprobs of the tokens after it, in order.
      if (this.text) this.textLogprobs.push(...logprobs);
      else out.push({ type: 'text-delta', text: '', logprobs });
    }
    return out;
  }

  /** Emits the first `length` characters of the held-back text (and its logprobs). */
  private releaseText(length: number, { withLogprobs = false } = {}): GenerateEvent[] {
    const logprobs = this.textLogprobs;
    if (length <= 0 && !(withLogprobs && logprobs.length > 0)) return [];
    const text = this.text.slice(0, Math.max(length, 0));
    this.text = this.text.slice(text.length);
    this.textLogprobs = [];
    return [{ type: 'text-delta', text, ...(logprobs.length ? { logprobs } : {}) }];
  }
}

/** Where the first of `stops` begins in `text`, or -1. */
function firstStop(text: string, stops: readonly string[]): number {
  let cut = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut;
}

const guardedContexts = new WeakSet<object>();

/**
 * node-llama-cpp samples each token in a callback of its batch dispatcher, and nothing awaits the
 * dispatcher's promise: a sampler failure there (llama.cpp's grammar refusing the sampled token)
 * would be an unhandled rejection that ends the process, while the generation waiting for that
 * token would never settle. Reported as "no token" instead, it ends that generation alone:
 * node-llama-cpp throws "Failed to sample next token" from the sequence's iterator.
 */
function guardSampling(context: LlamaContext): void {
  const native = (context as unknown as { _ctx?: { sampleToken?: unknown } })._ctx;
  if (!native || typeof native.sampleToken !== 'function') {
    // A node-llama-cpp whose context is shaped otherwise: say so, the guard cannot apply.
    process.emitWarning(
      "node-llama-cpp's context has no _ctx.sampleToken: a sampler failure will not be contained to its request",
      { code: 'ATELIER_SAMPLER_GUARD' },
    );
    return;
  }
  if (guardedContexts.has(native)) return;
  guardedContexts.add(native);
  const sampleToken = native.sampleToken as (...args: unknown[]) => Promise<unknown>;
  // The addon's methods are read-only on its prototype: the guard is the instance's own property.
  Object.defineProperty(native, 'sampleToken', {
    configurable: true,
    value: async (...args: unknown[]) => {
      try {
        return await sampleToken.apply(native, args);
      } catch {
        return -1;
      }
    },
  });
}

/**
 * The tokens of `items`; a failure of the evaluation reaches the request as an error. A sampler
 * that found no token to sample while the request's `logit_bias` banned tokens (with the grammar,
 * it banned all the model could write there) is the request's doing: a 400 naming it. Anything
 * else is a server error.
 */
async function* failuresAsErrors<T>(items: AsyncIterable<T>, banning: boolean): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (error) {
    const message = (error as Error).message;
    if (banning && /sample/i.test(message)) {
      throw new InvalidRequestError(
        `No token could be sampled: logit_bias bans every token the model may write at this point (${message}).`,
        { param: 'logit_bias', cause: error },
      );
    }
    throw new AtelierError(`The model failed to generate: ${message}`, { cause: error });
  }
}

function safeLog(probability: number): number {
  return probability > 0 ? Math.log(probability) : -9999;
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * A schema node-llama-cpp or llama.cpp's grammar parser refuses ("Failed to parse grammar") is
 * the request's schema at fault: a 400 naming `param`, never a 500.
 */
async function refusedAsInvalid<T>(param: string, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    throw new InvalidRequestError(`Invalid schema for ${param}: ${(error as Error).message}`, {
      param,
      cause: error,
    });
  }
}
