// The GBNF tool-call grammars, tested against text with llama.cpp's own grammar matcher: forced
// calls, and auto mode with a strict function, where text is free but every <tool_call> the
// model opens must finish as a call whose arguments satisfy the schema.
import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ToolDefinition } from '../spec.js';
import { tightenNumberRules } from '../structured-output/grammar-schema.js';
import { toolCallGrammar, toolCallSchema } from './tool-protocol.js';

let llama: Llama;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});

const WEATHER: ToolDefinition = {
  name: 'get_weather',
  strict: true,
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string', pattern: '^[A-Z][a-z]{2,8}$' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1, maximum: 7 },
    },
    required: ['city', 'unit', 'days'],
    additionalProperties: false,
  },
};

/** Whether the tool-call grammar (as the llama.cpp adapter builds it) matches each text in full. */
async function matcher({
  tools,
  auto,
  parallel = false,
}: {
  tools: readonly ToolDefinition[];
  auto: boolean;
  parallel?: boolean;
}): Promise<(text: string) => boolean> {
  // biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp types its schema subset narrowly.
  const compiled = await llama.createGrammarForJsonSchema(toolCallSchema(tools) as any);
  const grammar = await llama.createGrammar({
    grammar: toolCallGrammar({ callGrammar: tightenNumberRules(compiled.grammar), parallel, auto }),
  });
  return (text) => (grammar as unknown as { _testText(text: string): boolean })._testText(text);
}

const call = (body: string) => `<tool_call>\n${body}\n</tool_call>`;
const valid = call('{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius", "days": 3}}');
const badPattern = call(
  '{"name": "get_weather", "arguments": {"city": "oslo", "unit": "celsius", "days": 3}}',
);
const badEnum = call('{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "kelvin", "days": 3}}');
const badBound = call('{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius", "days": 8}}');
const extraKey = call(
  '{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius", "days": 3, "x": 1}}',
);
const unknownName = call('{"name": "get_time", "arguments": {}}');

describe('auto mode with a strict function', () => {
  it('text without a call is free, tag-like text included', async () => {
    const matches = await matcher({ tools: [WEATHER], auto: true });
    for (const text of [
      '',
      'Hello there.',
      'a < b and <tool but not <tool_cal or <<tool_cal>',
      'tool_call> on its own, </tool_call>, <tool-call>',
      'Ünïcode ✓ and\nnew lines',
    ]) {
      expect(matches(text), text).toBe(true);
    }
  });

  it('a call the model opens must finish as a valid call', async () => {
    const matches = await matcher({ tools: [WEATHER], auto: true });
    expect(matches(valid)).toBe(true);
    expect(matches(`Let me look.\n${valid}`)).toBe(true);
    expect(matches(`Let me look.\n${valid}\nDone. ${valid}`)).toBe(true);
    for (const text of [badPattern, badEnum, badBound, extraKey, unknownName]) {
      expect(matches(text), text).toBe(false);
      expect(matches(`Sure <${text}`), text).toBe(false);
      expect(matches(`Sure <tool${text}`), text).toBe(false);
      expect(matches(`${valid}\n${text}`), text).toBe(false);
    }
    // An opened call that is never finished is no valid end.
    expect(matches('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"')).toBe(false);
    expect(matches('<tool_call> free words')).toBe(false);
  });

  it('a non-strict function beside it: its call is well formed, its schema best effort', async () => {
    const loose: ToolDefinition = {
      name: 'get_time',
      parameters: { type: 'object', properties: { zone: { type: 'string' } } },
    };
    const matches = await matcher({ tools: [WEATHER, loose], auto: true });
    expect(matches(call('{"name": "get_time", "arguments": {"zone": "CET"}}'))).toBe(true);
    expect(matches(valid)).toBe(true);
    expect(matches(badPattern)).toBe(false);
  });
});

describe('forced calls', () => {
  it('one call, or several when parallel; nothing else', async () => {
    const single = await matcher({ tools: [WEATHER], auto: false });
    expect(single(valid)).toBe(true);
    expect(single(`${valid}\n${valid}`)).toBe(false);
    expect(single(`Sure.\n${valid}`)).toBe(false);
    for (const text of [badPattern, badEnum, badBound, extraKey]) expect(single(text), text).toBe(false);
    const parallel = await matcher({ tools: [WEATHER], auto: false, parallel: true });
    expect(parallel(`${valid}\n${valid}`)).toBe(true);
  });
});
