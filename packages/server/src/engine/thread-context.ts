// Fits a thread of any length into the model's context window for one model turn of a run.
//
// The newest messages are kept, read newest-first in pages, so the cost follows the size of the
// window, not of the thread. `truncation_strategy` `last_messages` caps how many are kept;
// `max_prompt_tokens` and the model's context (minus room for the reply) cap the tokens. With
// `auto`, what falls out is replaced by a rolling summary made by the model itself, kept per
// thread so each run only summarizes what newly fell out. A single message longer than the whole
// budget is cut in the middle. The result says exactly what was sent (a ContextRecord).
//
// A model that can see gets the images of the messages it is sent (uploaded files loaded from the
// blob store only then, see image-inputs.ts); one that cannot gets a line saying an image is there.

import type { ChatMessage, LanguageModel, ToolDefinition, UserContent } from '../inference/spec.js';
import type {
  ContextRecord,
  MessageContent,
  TokenUsage,
  ToolCall,
  TruncationStrategy,
} from '../storage/assistants-domain.js';
import type { Message, MessagesRepository } from '../storage/repositories/messages-repository.js';
import type { ThreadSummary, ThreadsRepository } from '../storage/repositories/threads-repository.js';
import { type ImageLoader, MAX_PROMPT_IMAGE_BYTES } from './image-inputs.js';
import { SUMMARY_PROMPT_OVERHEAD_TOKENS, type Summarizer } from './thread-summarizer.js';
import { MESSAGE_OVERHEAD_TOKENS, type TokenCounter } from './token-counter.js';

/** One round of this run's tool calls with their outputs, placed in the thread by `seq`. */
export interface ToolRound {
  readonly seq: number;
  readonly calls: readonly ToolCall[];
}

export interface AssembleContextOptions {
  readonly model: LanguageModel;
  readonly counter: TokenCounter;
  readonly messages: Pick<MessagesRepository, 'newest' | 'range' | 'count'>;
  readonly threads: Pick<ThreadsRepository, 'findSummary' | 'saveSummary'>;
  readonly threadId: string;
  readonly instructions: string;
  readonly tools: readonly ToolDefinition[];
  readonly toolRounds: readonly ToolRound[];
  readonly truncation: TruncationStrategy;
  readonly maxPromptTokens: number | null;
  /** Tokens kept free for the reply. */
  readonly completionReserve: number;
  /** Absent: never summarize (dropped messages are just left out). */
  readonly summarizer?: Summarizer | undefined;
  /** Summarization calls one assembly may make to catch up with a thread that grew a lot. */
  readonly maxSummaryCalls?: number;
  /**
   * Loads the thread's image files for a model that can see. Absent: a vision model gets a line
   * in their place (as a model without vision always does).
   */
  readonly images?: ImageLoader | undefined;
  readonly signal?: AbortSignal;
}

export type AssembledContext =
  | {
      readonly kind: 'fits';
      readonly messages: ChatMessage[];
      readonly record: ContextRecord;
      /** Tokens the summaries made for this assembly cost (counted in the run's usage). */
      readonly summaryUsage: TokenUsage;
    }
  | {
      /** Even the instructions, tools and newest message do not fit; `reason` says which limit. */
      readonly kind: 'too-long';
      readonly reason: 'max_prompt_tokens' | 'context_length';
      readonly neededTokens: number;
      readonly budgetTokens: number;
      readonly summaryUsage: TokenUsage;
    };

const PAGE_SIZE = 200;
/** Tokens the tool-calling convention adds to the system prompt besides the tools' JSON. */
const TOOLS_PROMPT_OVERHEAD_TOKENS = 120;
/** What the estimate may be off by (templates differ): the budget keeps this much in hand. */
const SAFETY_RATIO = 0.97;
const SAFETY_TOKENS = 16;
const SUMMARY_MAX_TOKENS = 256;
/** At most this part of the prompt budget (after instructions and tools) goes to this run's tool outputs. */
const TOOL_ROUNDS_SHARE = 0.6;
const CUT_NOTE = "\n[… the rest of this output was cut to fit the model's context window …]";
/** Below this, a model's context is too small to spend any of it on a summary. */
const SUMMARY_MIN_CONTEXT = 1024;
/** What an image costs a vision model, as OpenAI counts it: low detail, and a typical high-detail one. */
const IMAGE_TOKENS_LOW = 85;
const IMAGE_TOKENS = 765;

export async function assembleContext(options: AssembleContextOptions): Promise<AssembledContext> {
  const { model, counter, truncation, maxPromptTokens, completionReserve } = options;
  const vision = model.info.capabilities.vision;
  const contextLength = model.info.contextLength;
  const contextLimit = Math.max(0, contextLength - completionReserve);
  const limit = maxPromptTokens === null ? contextLimit : Math.min(contextLimit, maxPromptTokens);
  const budget = Math.floor(limit * SAFETY_RATIO) - SAFETY_TOKENS;
  const limitedBy =
    maxPromptTokens !== null && maxPromptTokens <= contextLimit ? 'max_prompt_tokens' : 'context_length';
  let summaryUsage: TokenUsage = { promptTokens: 0, completionTokens: 0 };

  const instructionTokens = options.instructions
    ? (await counter.count(model, options.instructions)) + MESSAGE_OVERHEAD_TOKENS
    : 0;
  const toolTokens =
    options.tools.length > 0
      ? (await counter.count(model, JSON.stringify(options.tools))) + TOOLS_PROMPT_OVERHEAD_TOKENS
      : 0;
  // This run's tool outputs share the window with the thread: past their share (a big search
  // result on a small model), the longest outputs are cut rather than failing the run.
  const roundShare = Math.floor((budget - instructionTokens - toolTokens) * TOOL_ROUNDS_SHARE);
  const { rounds, tokens: roundTokens } = await fitRounds(counter, model, options.toolRounds, roundShare);
  const fixed = instructionTokens + toolTokens + roundTokens;
  const available = budget - fixed;

  const total = await options.messages.count({ threadId: options.threadId });
  const maxMessages =
    truncation.type === 'last_messages' ? (truncation.lastMessages ?? 1) : Number.POSITIVE_INFINITY;

  // Newest first: keep messages while they fit.
  const kept: { message: Message; text: string; tokens: number }[] = [];
  const shortened: string[] = [];
  let used = 0;
  let cursor: number | undefined;
  walk: for (;;) {
    const page = await options.messages.newest({
      threadId: options.threadId,
      ...(cursor !== undefined ? { beforeSeq: cursor } : {}),
      limit: PAGE_SIZE,
    });
    for (const message of page) {
      cursor = message.seq;
      if (kept.length >= maxMessages) break walk;
      const text = renderText(message, vision);
      const tokens =
        (message.status === 'in_progress'
          ? await counter.count(model, text)
          : await counter.countCached(model, vision ? `${message.id}:vision` : message.id, text)) +
        imageTokens(message, vision) +
        MESSAGE_OVERHEAD_TOKENS;
      if (used + tokens > available) {
        if (kept.length > 0) break walk;
        // The newest message alone is longer than the budget: send its beginning and end.
        const room = available - MESSAGE_OVERHEAD_TOKENS;
        if (room < 16) {
          return {
            kind: 'too-long',
            reason: limitedBy,
            neededTokens: fixed + tokens,
            budgetTokens: budget,
            summaryUsage,
          };
        }
        const cut = await shortenToFit(counter, model, text, room);
        kept.push({ message, text: cut.text, tokens: cut.tokens + MESSAGE_OVERHEAD_TOKENS });
        used += cut.tokens + MESSAGE_OVERHEAD_TOKENS;
        shortened.push(message.id);
        break walk;
      }
      kept.push({ message, text, tokens });
      used += tokens;
    }
    if (page.length < PAGE_SIZE) break;
  }
  if (available < 0 || (kept.length === 0 && total > 0)) {
    return { kind: 'too-long', reason: limitedBy, neededTokens: fixed, budgetTokens: budget, summaryUsage };
  }

  // Replace what fell out with the thread's rolling summary, when the model has room for one.
  let summary: { text: string; tokens: number; covered: number; dropped: number } | null = null;
  const droppedBefore = total - kept.length;
  const oldestKept = kept.at(-1);
  if (
    droppedBefore > 0 &&
    oldestKept &&
    truncation.type === 'auto' &&
    options.summarizer &&
    contextLength >= SUMMARY_MIN_CONTEXT
  ) {
    const reserve = Math.min(SUMMARY_MAX_TOKENS, Math.floor(available / 6));
    if (reserve >= 48) {
      // Make room for the summary: give up the oldest kept messages, never the newest.
      while (kept.length > 1 && used + reserve > available) used -= kept.pop()!.tokens;
      const beforeSeq = kept.at(-1)!.message.seq;
      let stored: ThreadSummary | null = null;
      try {
        const result = await ensureSummary({ ...options, beforeSeq, maxTokens: reserve });
        summaryUsage = result.usage;
        stored = result.summary;
      } catch (error) {
        // A summary is a bonus: without one the run still answers from the newest messages.
        if (options.signal?.aborted) throw error;
        stored = await options.threads.findSummary(options.threadId);
      }
      if (stored) {
        // A summary made for a shorter window may cover some of what is kept: those go.
        while (kept.length > 1 && kept.at(-1)!.message.seq <= stored.throughSeq) used -= kept.pop()!.tokens;
        const tokens = (await counter.count(model, stored.text)) + MESSAGE_OVERHEAD_TOKENS + 24;
        while (kept.length > 1 && used + tokens > available) used -= kept.pop()!.tokens;
        if (used + tokens <= available) {
          summary = { text: stored.text, tokens, covered: stored.messageCount, dropped: total - kept.length };
          used += tokens;
        }
      }
    }
  }

  const chatMessages: ChatMessage[] = [];
  if (options.instructions) chatMessages.push({ role: 'system', content: options.instructions });
  if (summary) chatMessages.push({ role: 'system', content: summaryMessage(summary) });
  // Only now, for what is sent, the images: newest first, so the newest win the prompt's limit.
  const images = vision ? await loadImages(kept, options.images) : new Map<MessageContent, UserContent>();
  const ordered = kept.reverse();
  let roundIndex = 0;
  for (const item of ordered) {
    while (roundIndex < rounds.length && rounds[roundIndex]!.seq < item.message.seq) {
      chatMessages.push(...renderRound(rounds[roundIndex]!));
      roundIndex++;
    }
    chatMessages.push(toChatMessage(item, vision, images, shortened.includes(item.message.id)));
  }
  for (; roundIndex < rounds.length; roundIndex++) chatMessages.push(...renderRound(rounds[roundIndex]!));

  const estimated = fixed + used;
  return {
    kind: 'fits',
    messages: chatMessages,
    summaryUsage,
    record: {
      model: model.info.id,
      contextLength,
      budgetTokens: budget,
      estimatedPromptTokens: estimated,
      promptTokens: null,
      threadMessages: total,
      includedMessages: ordered.length,
      droppedMessages: total - ordered.length,
      firstIncludedMessageId: ordered[0]?.message.id ?? null,
      shortenedMessageIds: shortened,
      truncation,
      summary: summary ? { throughMessageCount: summary.covered, tokens: summary.tokens } : null,
    },
  };
}

function summaryMessage(summary: { text: string; covered: number; dropped: number }): string {
  const gap = summary.dropped - summary.covered;
  const scope =
    gap > 0
      ? `The ${summary.dropped} earliest messages of this conversation are not shown; this summary covers the first ${summary.covered} of them.`
      : `The ${summary.dropped} earliest messages of this conversation are not shown; this is a summary of them.`;
  return `${scope}\n\n${summary.text}`;
}

/** Brings the thread's summary up to the messages before `beforeSeq`, within a few model calls. */
async function ensureSummary(
  options: AssembleContextOptions & { beforeSeq: number; maxTokens: number },
): Promise<{ summary: ThreadSummary | null; usage: TokenUsage }> {
  const { model, counter, threads, messages, threadId, beforeSeq, maxTokens, summarizer } = options;
  let current = await threads.findSummary(threadId);
  const usage = { promptTokens: 0, completionTokens: 0 };
  const maxCalls = options.maxSummaryCalls ?? 2;
  // Each call gets what fits in the model's context beside the previous summary and the reply
  // (with the same margin as the run's own prompt: counts of separate lines are estimates).
  const chunkBudget = Math.floor(
    (model.info.contextLength - maxTokens - SUMMARY_PROMPT_OVERHEAD_TOKENS) * SAFETY_RATIO,
  );
  for (let call = 0; call < maxCalls; call++) {
    const pending = await messages.range({
      threadId,
      ...(current ? { afterSeq: current.throughSeq } : {}),
      throughSeq: beforeSeq - 1,
      limit: PAGE_SIZE * 2,
    });
    if (pending.length === 0) break;
    let room = chunkBudget - (current ? await counter.count(model, current.text) : 0);
    const lines: string[] = [];
    let last: Message | undefined;
    for (const message of pending) {
      const line = `${message.role === 'user' ? 'User' : 'Assistant'}: ${renderText(message)}`;
      const tokens =
        (message.status === 'in_progress'
          ? await counter.count(model, line)
          : await counter.countCached(model, `${message.id}:line`, line)) + 1;
      if (tokens > room) {
        if (lines.length > 0) break;
        if (room < 32) break;
        const cut = await shortenToFit(counter, model, line, room);
        lines.push(cut.text);
        last = message;
        break;
      }
      lines.push(line);
      room -= tokens;
      last = message;
    }
    if (!last || !summarizer) break;
    const result = await summarizer({
      model,
      previous: current?.text ?? null,
      transcript: lines.join('\n'),
      maxTokens,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    usage.promptTokens += result.usage.promptTokens;
    usage.completionTokens += result.usage.completionTokens;
    const next = {
      threadId,
      text: result.text || current?.text || '(nothing to summarize)',
      throughSeq: last.seq,
      messageCount: (current?.messageCount ?? 0) + lines.length,
      model: model.info.id,
    };
    await threads.saveSummary(next);
    current = { ...next, updatedAt: Math.floor(Date.now() / 1000) };
  }
  return { summary: current, usage };
}

/**
 * The rounds, with the longest outputs cut to one common length when together they cost more
 * than `share` (short outputs stay whole), each cut one saying so.
 */
async function fitRounds(
  counter: TokenCounter,
  model: LanguageModel,
  rounds: readonly ToolRound[],
  share: number,
): Promise<{ rounds: readonly ToolRound[]; tokens: number }> {
  const cost = async (candidate: readonly ToolRound[]) => {
    let total = 0;
    for (const round of candidate) total += await roundCost(counter, model, round);
    return total;
  };
  const tokens = await cost(rounds);
  if (tokens <= share || rounds.length === 0) return { rounds, tokens };
  const capped = (maxChars: number): ToolRound[] =>
    rounds.map((round) => ({
      ...round,
      calls: round.calls.map((call) => {
        const output = call.output ?? '';
        return output.length <= maxChars ? call : { ...call, output: output.slice(0, maxChars) + CUT_NOTE };
      }),
    }));
  // The longest cap that fits, by bisection over characters (a handful of counts).
  let low = 0;
  let high = Math.max(...rounds.flatMap((round) => round.calls.map((call) => (call.output ?? '').length)));
  let best = { rounds: capped(0), tokens: await cost(capped(0)) };
  for (let step = 0; step < 12 && high - low > 16; step++) {
    const middle = Math.floor((low + high) / 2);
    const candidate = capped(middle);
    const candidateTokens = await cost(candidate);
    if (candidateTokens <= share) {
      best = { rounds: candidate, tokens: candidateTokens };
      low = middle;
    } else {
      high = middle;
    }
  }
  return best;
}

async function roundCost(counter: TokenCounter, model: LanguageModel, round: ToolRound): Promise<number> {
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const call of round.calls) {
    tokens += await counter.count(model, `${callName(call)} ${callArguments(call)}`);
    tokens += (await counter.count(model, call.output ?? '')) + MESSAGE_OVERHEAD_TOKENS;
  }
  return tokens;
}

function renderRound(round: ToolRound): ChatMessage[] {
  return [
    {
      role: 'assistant',
      content: '',
      toolCalls: round.calls.map((call) => ({
        id: call.id,
        name: callName(call),
        arguments: callArguments(call),
      })),
    },
    ...round.calls.map(
      (call): ChatMessage => ({
        role: 'tool',
        toolCallId: call.id,
        name: callName(call),
        content: call.output ?? '',
      }),
    ),
  ];
}

/** The name the model knows a call by: built-in tools are functions to it (see run-tools.ts). */
export function callName(call: ToolCall): string {
  return call.type === 'function' ? call.name : call.type;
}

export function callArguments(call: ToolCall): string {
  switch (call.type) {
    case 'function':
      return call.arguments;
    case 'code_interpreter':
      return JSON.stringify({ code: call.input });
    case 'file_search':
      return JSON.stringify({ query: call.query });
  }
}

/**
 * The text of a message as the model reads it: its text parts, and a line for each image, except
 * for the images a vision model is sent as images (a user's).
 */
export function renderText(message: Message, vision = false): string {
  const seen = vision && message.role === 'user';
  return message.content
    .flatMap((part) => {
      if (part.type === 'text') return [part.text];
      if (seen) return [];
      if (message.role === 'assistant') return [`[image ${imageName(part)}]`];
      return [`[image ${imageName(part)}: not shown, this model cannot see images]`];
    })
    .join('\n');
}

function imageName(part: Exclude<MessageContent, { type: 'text' }>): string {
  if (part.type === 'image_file') return `file ${part.fileId}`;
  return part.url.startsWith('data:') ? '(inline)' : part.url;
}

/** What the images a vision model is sent with a message cost (the text is counted apart). */
function imageTokens(message: Message, vision: boolean): number {
  if (!vision || message.role !== 'user') return 0;
  return message.content.reduce(
    (sum, part) =>
      part.type === 'text' ? sum : sum + (part.detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS),
    0,
  );
}

/**
 * The image parts of the user messages to send, as image content: URLs as they are, files loaded
 * (newest first, within the prompt's limit), or a line saying why one was left out.
 */
async function loadImages(
  kept: readonly { message: Message }[],
  load: ImageLoader | undefined,
): Promise<Map<MessageContent, UserContent>> {
  const images = new Map<MessageContent, UserContent>();
  let room = MAX_PROMPT_IMAGE_BYTES;
  for (const { message } of kept) {
    if (message.role !== 'user') continue;
    for (const part of message.content) {
      if (part.type === 'image_url') images.set(part, { type: 'image', url: part.url });
      if (part.type !== 'image_file') continue;
      const loaded = load
        ? await load({ fileId: part.fileId, maxBytes: room })
        : { type: 'unavailable' as const, reason: 'images cannot be loaded here' };
      if (loaded.type === 'image') {
        room -= loaded.bytes;
        images.set(part, { type: 'image', url: loaded.url });
      } else {
        images.set(part, { type: 'text', text: `[image file ${part.fileId}: not sent, ${loaded.reason}]` });
      }
    }
  }
  return images;
}

function toChatMessage(
  item: { message: Message; text: string },
  vision: boolean,
  images: ReadonlyMap<MessageContent, UserContent>,
  shortened: boolean,
): ChatMessage {
  const { message, text } = item;
  if (message.role === 'assistant') return { role: 'assistant', content: text, toolCalls: [] };
  const hasImages = message.content.some((part) => part.type !== 'text');
  if (!vision || !hasImages) return { role: 'user', content: [{ type: 'text', text }] };
  // A message cut to fit keeps its images after what is left of its text.
  const parts: UserContent[] = shortened
    ? [{ type: 'text', text }, ...message.content.flatMap((part) => [images.get(part)].filter(isContent))]
    : message.content.flatMap((part) =>
        part.type === 'text'
          ? [{ type: 'text' as const, text: part.text }]
          : [images.get(part)].filter(isContent),
      );
  return { role: 'user', content: joinTexts(parts) };
}

/** Text next to text is one part (a line apart): a model reads it as it would a text message. */
function joinTexts(parts: readonly UserContent[]): UserContent[] {
  const joined: UserContent[] = [];
  for (const part of parts) {
    const last = joined.at(-1);
    if (part.type === 'text' && last?.type === 'text') {
      joined[joined.length - 1] = { type: 'text', text: `${last.text}\n${part.text}` };
    } else {
      joined.push(part);
    }
  }
  return joined;
}

function isContent(part: UserContent | undefined): part is UserContent {
  return part !== undefined;
}

/** Keeps the beginning and the end of `text` so that it fits `maxTokens`. */
async function shortenToFit(
  counter: TokenCounter,
  model: LanguageModel,
  text: string,
  maxTokens: number,
): Promise<{ text: string; tokens: number }> {
  let tokens = await counter.count(model, text);
  let keep = text.length;
  let result = text;
  for (let attempt = 0; attempt < 6 && tokens > maxTokens; attempt++) {
    keep = Math.max(0, Math.floor((keep * maxTokens * 0.9) / Math.max(tokens, 1)));
    const head = text.slice(0, Math.ceil(keep / 2));
    const tail = keep > 1 ? text.slice(text.length - Math.floor(keep / 2)) : '';
    result = `${head}\n[… ${text.length - head.length - tail.length} characters omitted …]\n${tail}`;
    tokens = await counter.count(model, result);
  }
  return { text: result, tokens };
}
