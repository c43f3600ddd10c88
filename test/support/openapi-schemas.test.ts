// The spec validator itself: it must reject what the official schemas reject, or the API tests
// that lean on it could not fail.
import { describe, expect, it } from 'vitest';
import { specViolations, validateJsonSchema } from './openapi-schemas.js';

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'hi' }, logprobs: null, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

describe('specViolations', () => {
  it('accepts a conforming chat completion, with extra fields the spec does not forbid', () => {
    expect(
      specViolations('CreateChatCompletionResponse', { ...completion, system_fingerprint: 'fp_1', extra: 1 }),
    ).toEqual([]);
  });

  it('names what is wrong: a missing field, a wrong type, a value outside an enum', () => {
    const { id: _id, ...withoutId } = completion;
    expect(specViolations('CreateChatCompletionResponse', withoutId)).toEqual([
      "$: missing required property 'id'",
    ]);
    const choice = completion.choices[0]!;
    const broken = {
      ...completion,
      created: '1',
      choices: [{ ...choice, finish_reason: 'done', message: { role: 'assistant', content: 5 } }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 1.5 },
    };
    expect(specViolations('CreateChatCompletionResponse', broken)).toEqual([
      '$.created: expected integer, got string "1"',
      '$.choices[0].message.content: expected string, got number 5',
      '$.choices[0].finish_reason: "done" is not one of ["stop","length","tool_calls","content_filter","function_call"]',
      '$.usage.total_tokens: expected integer, got number 1.5',
    ]);
    expect(specViolations('ErrorResponse', { error: { message: 'x', type: 't', param: null } })).toEqual([
      "$.error: missing required property 'code'",
    ]);
  });
});

describe('validateJsonSchema', () => {
  const schema = {
    type: 'object',
    properties: { kind: { $ref: '#/$defs/kind' }, size: { anyOf: [{ type: 'integer' }, { type: 'null' }] } },
    required: ['kind'],
    additionalProperties: false,
    $defs: { kind: { enum: ['a', 'b'] } },
  };

  it('checks $ref, enum, anyOf, required and additionalProperties', () => {
    expect(validateJsonSchema(schema, { kind: 'a', size: null })).toEqual([]);
    expect(validateJsonSchema(schema, { kind: 'c', size: 1.5, more: true })).toEqual([
      '$.kind: "c" is not one of ["a","b"]',
      '$.size: matches none of anyOf (number 1.5)',
      '$.more: no value is allowed here',
    ]);
    expect(validateJsonSchema({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 3)).toEqual([
      '$: matches 2 of oneOf, expected exactly 1 (number 3)',
    ]);
  });
});
