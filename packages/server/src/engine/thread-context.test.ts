// Context assembly on a fake model whose tokens are words: what is kept, what is summarized, what
// is cut, and what is recorded, for threads far longer than the window.
import { describe, expect, it } from 'vitest';
import type { GenerateEvent, LanguageModel } from '../inference/spec.js';
import type { Message } from '../storage/repositories/messages-repository.js';
import type { ThreadSummary } from '../storage/repositories/threads-repository.js';
import type { ImageLoader } from './image-inputs.js';
import { assembleContext } from './thread-context.js';
import type { Summarizer } from './thread-summarizer.js';
import { TokenCounter } from './token-counter.js';

function wordModel(contextLength: number, { vision = false }: { vision?: boolean } = {}): LanguageModel {
  return {
    info: {
      id: 'words',
      provider: 'test',
      ownedBy: 'test',
      createdAt: 0,
      contextLength,
      capabilities: {
        chat: true,
        completions: true,
        embeddings: false,
        tools: true,
        vision,
        json: true,
      },
      fingerprint: 'fp_test',
    },
    async *generate(): AsyncIterable<GenerateEvent> {},
    tokenize: async (text) =>
      text
        .split(/\s+/)
        .filter(Boolean)
        .map(() => 1),
    detokenize: async () => '',
  };
}

function thread(count: number, words = 10): { messages: Message[]; store: ReturnType<typeof memoryStore> } {
  const messages = Array.from(
    { length: count },
    (_, index): Message => ({
      id: `msg_${index}`,
      threadId: 'thread_1',
      workspaceId: 'ws_1',
      createdAt: 0,
      seq: index + 1,
      role: index % 2 === 0 ? 'user' : 'assistant',
      content: [{ type: 'text', text: `m${index} ${'word '.repeat(words - 1).trim()}`, annotations: [] }],
      status: 'completed',
      incompleteReason: null,
      completedAt: 0,
      incompleteAt: null,
      assistantId: null,
      runId: null,
      attachments: [],
      metadata: {},
    }),
  );
  return { messages, store: memoryStore(messages) };
}

function memoryStore(messages: Message[]) {
  let summary: ThreadSummary | null = null;
  const reads = { newest: 0 };
  return {
    reads,
    messages: {
      newest: async ({ beforeSeq, limit }: { beforeSeq?: number; limit: number }) => {
        reads.newest++;
        return messages
          .filter((message) => beforeSeq === undefined || message.seq < beforeSeq)
          .reverse()
          .slice(0, limit);
      },
      range: async ({
        afterSeq,
        throughSeq,
        limit,
      }: {
        afterSeq?: number;
        throughSeq: number;
        limit: number;
      }) =>
        messages
          .filter(
            (message) => (afterSeq === undefined || message.seq > afterSeq) && message.seq <= throughSeq,
          )
          .slice(0, limit),
      count: async () => messages.length,
    },
    threads: {
      findSummary: async () => summary,
      saveSummary: async (next: Omit<ThreadSummary, 'updatedAt'>) => {
        summary = { ...next, updatedAt: 0 };
      },
    },
    summary: () => summary,
  };
}

const summarizer: Summarizer = async ({ previous, transcript }) => ({
  text: `summary of ${transcript.split('\n').length} more${previous ? ' after earlier ones' : ''}`,
  usage: { promptTokens: transcript.split(/\s+/).length, completionTokens: 5, cachedPromptTokens: 0 },
});

const base = {
  counter: new TokenCounter(),
  threadId: 'thread_1',
  instructions: 'Be brief.',
  tools: [],
  toolRounds: [],
  truncation: { type: 'auto' as const, lastMessages: null },
  maxPromptTokens: null,
  completionReserve: 256,
};

describe('assembleContext', () => {
  it("cuts this run's long tool outputs to fit a small window instead of failing the run", async () => {
    const { store } = thread(6);
    const longOutput = Array.from({ length: 3000 }, (_, index) => `result${index}`).join(' ');
    const context = await assembleContext({
      ...base,
      counter: new TokenCounter(),
      model: wordModel(1024),
      ...store,
      toolRounds: [
        {
          seq: 6,
          calls: [
            { type: 'file_search', id: 'call_1', query: 'what', results: [], output: longOutput },
            { type: 'function', id: 'call_2', name: 'lookup', arguments: '{}', output: 'short answer' },
          ],
        },
      ],
    });
    expect(context.kind).toBe('fits');
    if (context.kind !== 'fits') return;
    const outputs = context.messages
      .filter((message) => message.role === 'tool')
      .map((message) => message.content);
    expect(outputs).toHaveLength(2);
    // Both kept their beginning; the long one was cut with a note, and the prompt fits.
    expect(outputs[0]).toMatch(/^result0 result1 result2 /);
    expect(outputs[0]).toContain("cut to fit the model's context window");
    expect(outputs[0]!.split(' ').length).toBeLessThan(700);
    expect(outputs[1]).toBe('short answer');
    expect(context.record.estimatedPromptTokens).toBeLessThanOrEqual(1024 - 256);
    // The newest message of the thread is still there.
    expect(
      context.messages.some(
        (message) => typeof message.content === 'string' && message.content.startsWith('m5 '),
      ),
    ).toBe(true);
  });

  it('keeps the newest messages that fit, reading only the pages it needs', async () => {
    const { store } = thread(10_000);
    const context = await assembleContext({ ...base, model: wordModel(2048), ...store });
    expect(context.kind).toBe('fits');
    if (context.kind !== 'fits') return;
    const kept = context.record.includedMessages;
    // (2048 - 256) × 0.97 - 16 tokens, minus instructions, at 10 + 8 tokens a message.
    expect(kept).toBeGreaterThan(80);
    expect(kept).toBeLessThan(100);
    expect(context.record).toMatchObject({
      threadMessages: 10_000,
      droppedMessages: 10_000 - kept,
      summary: null,
    });
    expect(context.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(context.messages.at(-1)).toMatchObject({
      role: 'assistant',
      content: 'm9999 word word word word word word word word word',
    });
    expect(store.reads.newest).toBeLessThanOrEqual(2);
  });

  it('honours last_messages and max_prompt_tokens', async () => {
    const { store } = thread(50);
    const last = await assembleContext({
      ...base,
      model: wordModel(4096),
      ...store,
      truncation: { type: 'last_messages', lastMessages: 3 },
    });
    expect(last.kind === 'fits' && last.record).toMatchObject({
      includedMessages: 3,
      droppedMessages: 47,
      firstIncludedMessageId: 'msg_47',
    });
    const capped = await assembleContext({ ...base, model: wordModel(4096), ...store, maxPromptTokens: 300 });
    expect(capped.kind === 'fits' && capped.record.estimatedPromptTokens).toBeLessThanOrEqual(300);
    const tiny = await assembleContext({
      ...base,
      model: wordModel(4096),
      ...store,
      instructions: 'x '.repeat(400),
      maxPromptTokens: 256,
    });
    expect(tiny).toMatchObject({ kind: 'too-long', reason: 'max_prompt_tokens' });
  });

  it('summarizes what falls out, oldest first, and later runs extend the same summary', async () => {
    const { store } = thread(3000);
    const first = await assembleContext({
      ...base,
      model: wordModel(2048),
      ...store,
      summarizer,
      maxSummaryCalls: 2,
    });
    if (first.kind !== 'fits') throw new Error('does not fit');
    expect(first.record.summary).not.toBeNull();
    expect(first.messages[1]).toMatchObject({
      role: 'system',
      content: expect.stringMatching(/this summary covers the first \d+ of them/),
    });
    const covered = store.summary()!.messageCount;
    expect(covered).toBeGreaterThan(100);
    expect(first.summaryUsage.promptTokens).toBeGreaterThan(0);
    const second = await assembleContext({
      ...base,
      model: wordModel(2048),
      ...store,
      summarizer,
      maxSummaryCalls: 2,
    });
    expect(second.kind).toBe('fits');
    expect(store.summary()!.messageCount).toBeGreaterThan(covered);
    expect(store.summary()!.text).toMatch(/after earlier ones/);
  });

  it('cuts a single message longer than the window in the middle, and says so', async () => {
    const { messages } = thread(3);
    messages[2] = {
      ...messages[2]!,
      content: [{ type: 'text', text: `start ${'word '.repeat(5000)}end`, annotations: [] }],
    };
    const store = memoryStore(messages);
    const context = await assembleContext({ ...base, model: wordModel(1024), ...store });
    if (context.kind !== 'fits') throw new Error('does not fit');
    expect(context.record.shortenedMessageIds).toEqual(['msg_2']);
    expect(context.record.includedMessages).toBe(1);
    const sent = context.messages.at(-1) as unknown as { content: { text: string }[] };
    expect(sent.content[0]!.text).toMatch(/^start word[\s\S]*characters omitted[\s\S]*word end$/);
    expect(context.record.estimatedPromptTokens).toBeLessThanOrEqual(context.record.budgetTokens);
  });

  describe('images', () => {
    /** A thread whose newest message asks about a photo (an uploaded file) and a picture by URL. */
    function photoThread(): ReturnType<typeof memoryStore> {
      const { messages } = thread(2);
      messages.push({
        ...messages[0]!,
        id: 'msg_photo',
        seq: 3,
        content: [
          { type: 'text', text: 'What is in these?', annotations: [] },
          { type: 'image_file', fileId: 'file-photo' },
          { type: 'image_url', url: 'https://example.com/hive.jpg', detail: 'low' },
        ],
      });
      return memoryStore(messages);
    }
    const loads: string[] = [];
    const loader: ImageLoader = async ({ fileId }) => {
      loads.push(fileId);
      return fileId === 'file-photo'
        ? { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=', bytes: 8 }
        : { type: 'unavailable', reason: 'the file no longer exists' };
    };

    it('sends a vision model the images of what it is sent, loaded then, in their place', async () => {
      loads.length = 0;
      const context = await assembleContext({
        ...base,
        model: wordModel(4096, { vision: true }),
        ...photoThread(),
        images: loader,
      });
      if (context.kind !== 'fits') throw new Error('does not fit');
      expect(context.messages.at(-1)).toEqual({
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
          { type: 'image', url: 'https://example.com/hive.jpg' },
        ],
      });
      expect(loads).toEqual(['file-photo']);
      // The images count in the estimate: a typical high-detail image and a low-detail one.
      const plain = await assembleContext({ ...base, model: wordModel(4096), ...photoThread() });
      if (plain.kind !== 'fits') throw new Error('does not fit');
      expect(context.record.estimatedPromptTokens).toBeGreaterThan(plain.record.estimatedPromptTokens + 765);
    });

    it('tells a model without vision that an image is there, and loads nothing', async () => {
      loads.length = 0;
      const context = await assembleContext({
        ...base,
        model: wordModel(4096),
        ...photoThread(),
        images: loader,
      });
      if (context.kind !== 'fits') throw new Error('does not fit');
      expect(context.messages.at(-1)).toEqual({
        role: 'user',
        content: [
          {
            type: 'text',
            text: [
              'What is in these?',
              '[image file file-photo: not shown, this model cannot see images]',
              '[image https://example.com/hive.jpg: not shown, this model cannot see images]',
            ].join('\n'),
          },
        ],
      });
      expect(loads).toEqual([]);
    });

    it('loads only the images of the messages that fit, and says which could not be sent', async () => {
      loads.length = 0;
      const { messages } = thread(200, 30);
      messages[0] = { ...messages[0]!, content: [{ type: 'image_file', fileId: 'file-old' }] };
      messages[198] = {
        ...messages[198]!,
        content: [
          { type: 'text', text: 'And this one?', annotations: [] },
          { type: 'image_file', fileId: 'file-gone' },
        ],
      };
      const context = await assembleContext({
        ...base,
        model: wordModel(4096, { vision: true }),
        ...memoryStore(messages),
        images: loader,
      });
      if (context.kind !== 'fits') throw new Error('does not fit');
      expect(context.record.includedMessages).toBeLessThan(200);
      expect(loads).toEqual(['file-gone']);
      const question = context.messages.find(
        (message) =>
          message.role === 'user' &&
          message.content.some((part) => part.type === 'text' && part.text.startsWith('And this one?')),
      );
      expect(question?.content).toEqual([
        { type: 'text', text: 'And this one?\n[image file file-gone: not sent, the file no longer exists]' },
      ]);
    });
  });
});
