// LlamaCppModel's generation loop over a scripted model: node-llama-cpp's sequence hands out the
// tokens of a fixed text, so what a real model might write (two Hermes tool calls in auto mode,
// which the random-weight test model never does) can be replayed exactly.
import type { ChatWrapper, Llama, LlamaContext, LlamaModel, Token } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { chatRequest, WEATHER_TOOL } from '../../test-support/chat-request.js';
import type { GenerateEvent, GenerateRequest, ModelInfo, ToolMode } from '../spec.js';
import { LlamaCppModel } from './llama-cpp-model.js';

const FIRST_TOKEN = 1000;

/** A LlamaCppModel whose model writes `pieces`, one token each; counts the tokens it was asked for. */
function scriptedModel(pieces: readonly string[]): { model: LlamaCppModel; pulled: () => number } {
  let pulled = 0;
  const decode = (tokens: readonly Token[]) =>
    tokens.map((token) => (token >= FIRST_TOKEN ? (pieces[token - FIRST_TOKEN] ?? '') : '')).join('');
  const sequence = {
    nextTokenIndex: 0,
    compareContextTokens: () => ({ firstDifferentIndex: 0 }),
    eraseContextTokenRanges: async () => {},
    async *evaluateWithMetadata() {
      for (const [index] of pieces.entries()) {
        pulled += 1;
        yield { token: (FIRST_TOKEN + index) as Token };
      }
    },
  };
  const context = {
    contextSize: 4096,
    idealThreads: 1,
    totalSequences: 1,
    getSequence: () => sequence,
    _ctx: { sampleToken: async () => FIRST_TOKEN },
  };
  const llamaModel = {
    iterateAllTokens: function* () {},
    isSpecialToken: () => false,
    isEogToken: () => false,
    detokenize: decode,
    tokenize: (text: string) => [...text].map(() => 1 as Token),
    tokenizer: () => [],
    fileInfo: { metadata: {} },
    tokens: { bos: null, eos: null },
  };
  const chatWrapper = {
    generateContextState: () => ({
      contextText: { tokenize: () => [1, 2, 3] as Token[] },
      stopGenerationTriggers: [],
    }),
  };
  const model = new LlamaCppModel({
    llama: {} as Llama,
    model: llamaModel as unknown as LlamaModel,
    context: context as unknown as LlamaContext,
    chatWrapper: chatWrapper as unknown as ChatWrapper,
    info: { id: 'scripted' } as ModelInfo,
  });
  return { model, pulled: () => pulled };
}

/** Splits text into tokens of at most `size` characters, as a model streams it. */
function tokens(text: string, size = 3): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
  return pieces;
}

const call = (body: string) => `<tool_call>\n${body}\n</tool_call>`;
const weather = '{"name": "get_weather", "arguments": {"city": "Oslo"}}';
const time = '{"name": "get_time", "arguments": {"zone": "CET"}}';

function request({
  parallelToolCalls,
  toolMode = { type: 'auto' },
}: {
  parallelToolCalls: boolean;
  toolMode?: ToolMode;
}): GenerateRequest {
  return chatRequest({
    text: 'Weather and time in Oslo?',
    tools: [
      WEATHER_TOOL,
      { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
    ],
    toolMode,
    parallelToolCalls,
  });
}

/** What a client gets: the content, the calls (name and arguments) and the finish event. */
async function answer(events: AsyncIterable<GenerateEvent>) {
  let content = '';
  const calls: { index: number; name: string; arguments: string }[] = [];
  let finish: Extract<GenerateEvent, { type: 'finish' }> | undefined;
  for await (const event of events) {
    if (event.type === 'text-delta') content += event.text;
    if (event.type === 'tool-call-start') calls.push({ index: event.index, name: event.name, arguments: '' });
    if (event.type === 'tool-call-delta') {
      const target = calls.find((known) => known.index === event.index);
      if (target) target.arguments += event.argumentsDelta;
    }
    if (event.type === 'finish') finish = event;
  }
  return { content, calls, finish };
}

describe('LlamaCppModel tool calls in auto mode', () => {
  const twoCalls = `Let me look.\n${call(weather)}\n${call(time)}\nThat is all.`;

  it('parallel_tool_calls true: both calls the model writes', async () => {
    const { model } = scriptedModel(tokens(twoCalls));
    const { content, calls, finish } = await answer(model.generate(request({ parallelToolCalls: true })));
    expect(content).toBe('Let me look.\n\nThat is all.');
    expect(calls).toEqual([
      { index: 0, name: 'get_weather', arguments: '{"city": "Oslo"}' },
      { index: 1, name: 'get_time', arguments: '{"zone": "CET"}' },
    ]);
    expect(finish?.reason).toBe('tool_calls');
  });

  it('parallel_tool_calls false (and legacy functions): one call, and generation ends with it', async () => {
    const pieces = tokens(twoCalls);
    const { model, pulled } = scriptedModel(pieces);
    const { content, calls, finish } = await answer(model.generate(request({ parallelToolCalls: false })));
    expect(content).toBe('Let me look.\n');
    expect(calls).toEqual([{ index: 0, name: 'get_weather', arguments: '{"city": "Oslo"}' }]);
    expect(finish?.reason).toBe('tool_calls');
    // The model was stopped at the end of the first call's arguments, not run to its end...
    const callEnd = twoCalls.indexOf('"Oslo"}') + '"Oslo"}'.length;
    expect(pulled()).toBe(Math.ceil(callEnd / 3));
    expect(pulled()).toBeLessThan(pieces.length);
    // ...and usage counts every token it generated.
    expect(finish?.usage.completionTokens).toBe(pulled());
  });

  it('a second call in the same token as the end of the first is dropped', async () => {
    const { model } = scriptedModel(['Sure.', `\n${call(weather)}\n${call(time)}`, '\nmore words']);
    const { content, calls, finish } = await answer(model.generate(request({ parallelToolCalls: false })));
    expect(content).toBe('Sure.\n');
    expect(calls.map((known) => known.name)).toEqual(['get_weather']);
    expect(finish).toMatchObject({ reason: 'tool_calls', usage: { completionTokens: 2 } });
  });

  it('calls written with another key order: still only the first', async () => {
    const reordered = `${call('{"arguments": {"zone": "CET"}, "name": "get_time"}')}\n${call(weather)}`;
    const { model } = scriptedModel(tokens(reordered, 5));
    const { content, calls, finish } = await answer(model.generate(request({ parallelToolCalls: false })));
    expect(content).toBe('');
    expect(calls).toEqual([{ index: 0, name: 'get_time', arguments: '{"zone":"CET"}' }]);
    expect(finish?.reason).toBe('tool_calls');
  });

  it('words after a single call are not content', async () => {
    const { model } = scriptedModel(tokens(`${call(time)}\nI called it.`, 4));
    const { content, calls } = await answer(model.generate(request({ parallelToolCalls: false })));
    expect(content).toBe('');
    expect(calls).toEqual([{ index: 0, name: 'get_time', arguments: '{"zone": "CET"}' }]);
  });

  it('a call cut off by max_tokens keeps finish_reason length', async () => {
    const pieces = tokens(twoCalls);
    const { model } = scriptedModel(pieces);
    const cut = request({ parallelToolCalls: false });
    // 24 tokens end inside the first call's arguments.
    const { calls, finish } = await answer(
      model.generate({ ...cut, sampling: { ...cut.sampling, maxTokens: 24 } }),
    );
    expect(calls.map((known) => known.name)).toEqual(['get_weather']);
    expect(finish).toMatchObject({ reason: 'length', usage: { completionTokens: 24 } });
  });
});

describe('LlamaCppModel stop sequences and tool calls', () => {
  const stopping = (stop: readonly string[], parallelToolCalls = true): GenerateRequest => {
    const base = request({ parallelToolCalls });
    return { ...base, sampling: { ...base.sampling, stop } };
  };

  it("a client stop never cuts a call's arguments", async () => {
    for (const stop of [['}'], ['"city"'], ['Oslo'], [', "'], ['<tool'], ['call>']]) {
      const { model } = scriptedModel(tokens(`${call(weather)}\n${call(time)}`));
      const { content, calls, finish } = await answer(model.generate(stopping(stop)));
      expect(content, JSON.stringify(stop)).toBe('');
      expect(calls, JSON.stringify(stop)).toEqual([
        { index: 0, name: 'get_weather', arguments: '{"city": "Oslo"}' },
        { index: 1, name: 'get_time', arguments: '{"zone": "CET"}' },
      ]);
      expect(finish?.reason).toBe('tool_calls');
    }
  });

  it('a client stop in the text before a call ends the reply there', async () => {
    const { model, pulled } = scriptedModel(tokens(`Let me look up Oslo.\n${call(weather)}`, 2));
    const { content, calls, finish } = await answer(model.generate(stopping(['Oslo'])));
    expect(content).toBe('Let me look up ');
    expect(calls).toEqual([]);
    expect(finish?.reason).toBe('stop');
    expect(pulled()).toBe(Math.ceil('Let me look up Oslo'.length / 2));
  });

  it('a client stop in the text after a call ends the reply there, the call kept', async () => {
    const { model } = scriptedModel(tokens(`Sure.\n${call(weather)}\nDone: sunny. ${call(time)}`, 4));
    const { content, calls, finish } = await answer(model.generate(stopping([': sunny'])));
    expect(content).toBe('Sure.\n\nDone');
    expect(calls.map((known) => known.name)).toEqual(['get_weather']);
    expect(finish?.reason).toBe('tool_calls');
  });

  it('text held back as a possible stop is released when a call follows', async () => {
    const { model } = scriptedModel(tokens(`Look: O${call(weather)}`, 3));
    const { content, calls } = await answer(model.generate(stopping(['Oslo'], false)));
    expect(content).toBe('Look: O');
    expect(calls).toEqual([{ index: 0, name: 'get_weather', arguments: '{"city": "Oslo"}' }]);
  });
});
