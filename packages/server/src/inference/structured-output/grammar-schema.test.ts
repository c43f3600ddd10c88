// The grammar a schema becomes, tested against text with llama.cpp's own grammar matcher: what it
// accepts must be valid, and what the schema allows in plain form it should accept.
import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp';
import { zodResponseFormat } from 'openai/helpers/zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidRequestError } from '../../errors.js';
import {
  checkStrictFunction,
  checkStrictSchema,
  tightenNumberRules,
  toGrammarSchema,
} from './grammar-schema.js';

let llama: Llama;

beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});

type Schema = Record<string, unknown>;

/** Whether the grammar for `schema` matches each JSON text in full. */
async function matcher(schema: Schema, { strict = true } = {}): Promise<(text: string) => boolean> {
  const converted = toGrammarSchema(schema, { param: 'response_format', name: 'test', strict });
  // biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp types its schema subset narrowly.
  const compiled = await llama.createGrammarForJsonSchema(converted as any);
  const grammar = await llama.createGrammar({ grammar: tightenNumberRules(compiled.grammar) });
  // node-llama-cpp's JSON grammars end a value with four newlines (its stop trigger).
  return (text) => (grammar as unknown as { _testText(text: string): boolean })._testText(`${text}\n\n\n\n`);
}

function refusal(schema: unknown, { strict = true } = {}): string | undefined {
  try {
    toGrammarSchema(schema, { param: 'response_format', name: 'test', strict });
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).param).toBe('response_format');
    return (error as Error).message;
  }
}

describe('the schema from the review', () => {
  it('enforces integer bounds and the pattern', async () => {
    const matches = await matcher({
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 100, maximum: 105 },
        s: { type: 'string', pattern: '^[0-9]{3}$' },
      },
      required: ['n', 's'],
      additionalProperties: false,
    });
    expect(matches('{"n":100,"s":"123"}')).toBe(true);
    expect(matches('{ "n": 105, "s": "000" }')).toBe(true);
    expect(matches('{"n":4,"s":": "}')).toBe(false);
    expect(matches('{"n":106,"s":"123"}')).toBe(false);
    expect(matches('{"n":99,"s":"123"}')).toBe(false);
    expect(matches('{"n":100,"s":"1234"}')).toBe(false);
    expect(matches('{"n":100,"s":"12a"}')).toBe(false);
  });
});

describe('integer bounds', () => {
  const cases: { bounds: Schema; low: number; high: number }[] = [
    { bounds: { minimum: 100, maximum: 105 }, low: 100, high: 105 },
    { bounds: { exclusiveMinimum: -20, exclusiveMaximum: -3 }, low: -19, high: -4 },
    { bounds: { minimum: -5, maximum: 5 }, low: -5, high: 5 },
    { bounds: { minimum: 7, maximum: 1234 }, low: 7, high: 1234 },
    { bounds: { minimum: 37, maximum: 1291 }, low: 37, high: 1291 },
    { bounds: { minimum: -987, maximum: 456 }, low: -987, high: 456 },
    { bounds: { minimum: 123_456, maximum: 123_789 }, low: 123_456, high: 123_789 },
    { bounds: { minimum: -1234, maximum: -7 }, low: -1234, high: -7 },
    { bounds: { minimum: 0 }, low: 0, high: Number.POSITIVE_INFINITY },
    { bounds: { maximum: 0 }, low: Number.NEGATIVE_INFINITY, high: 0 },
    { bounds: { minimum: 999_990 }, low: 999_990, high: Number.POSITIVE_INFINITY },
    { bounds: { exclusiveMaximum: -99.5 }, low: Number.NEGATIVE_INFINITY, high: -100 },
    { bounds: { minimum: 2.5, maximum: 9.9 }, low: 3, high: 9 },
    { bounds: { minimum: 5, exclusiveMinimum: true, maximum: 8 }, low: 6, high: 8 },
  ];
  it.each(cases)('$bounds: exactly the integers from $low to $high', async ({ bounds, low, high }) => {
    const matches = await matcher({ type: 'integer', ...bounds });
    const anchors = [low, high].filter(Number.isFinite);
    const values = new Set<number>([0, 1, -1, 10 ** 15, -(10 ** 15)]);
    for (const anchor of anchors) for (let step = -60; step <= 60; step++) values.add(anchor + step);
    for (let value = -1300; value <= 1300; value += 7) values.add(value);
    for (const value of values) {
      expect(matches(String(value)), String(value)).toBe(value >= low && value <= high);
    }
    expect(matches(`0${Math.max(low, 1)}`)).toBe(false);
    expect(matches('1e2')).toBe(false);
    expect(matches(`${anchors[0]}.0`)).toBe(false);
  });

  it('leaves unbounded integers free, without exponents', async () => {
    const matches = await matcher({ type: 'integer' });
    expect(matches('-12345678')).toBe(true);
    expect(matches('5e-3')).toBe(false);
  });
});

describe('number bounds', () => {
  const cases: { bounds: Schema; inRange: (value: number) => boolean }[] = [
    { bounds: { minimum: 0, maximum: 1 }, inRange: (value) => value >= 0 && value <= 1 },
    {
      bounds: { exclusiveMinimum: -2.5, exclusiveMaximum: 3.25 },
      inRange: (value) => value > -2.5 && value < 3.25,
    },
    { bounds: { minimum: 10.5 }, inRange: (value) => value >= 10.5 },
    { bounds: { maximum: -0.001 }, inRange: (value) => value <= -0.001 },
    { bounds: { exclusiveMinimum: 0 }, inRange: (value) => value > 0 },
    { bounds: { minimum: 0.1, maximum: 0.3 }, inRange: (value) => value >= 0.1 && value <= 0.3 },
    { bounds: { minimum: -1e-7, maximum: 1e-7 }, inRange: (value) => value >= -1e-7 && value <= 1e-7 },
  ];
  it.each(cases)(
    '$bounds: what matches is in range, and plain decimals in range match',
    async ({ bounds, inRange }) => {
      const matches = await matcher({ type: 'number', ...bounds });
      const texts = new Set<string>([
        '0',
        '-0',
        '0.0',
        '-0.0',
        '1',
        '1.0',
        '1.000',
        '-1',
        '10.5',
        '10.50',
        '0.30000000000000004',
      ]);
      for (let value = -400; value <= 1200; value++) texts.add(String(value / 100));
      for (const bound of Object.values(bounds)) {
        if (typeof bound !== 'number') continue;
        for (const delta of [0, 1e-9, -1e-9, 1e-4, -1e-4, 1e-15, -1e-15]) texts.add(String(bound + delta));
      }
      for (const text of texts) {
        if (matches(text)) expect(inRange(Number(text)), text).toBe(true);
        // The grammar writes at most 16 fraction digits, no exponent, and zero without a sign.
        const plain = !/e|\.\d{17}|^-0(\.0*)?$/.test(text);
        if (plain && inRange(Number(text))) expect(matches(text), text).toBe(true);
      }
      expect(matches('5e-1')).toBe(false);
    },
  );
});

describe('strings', () => {
  it('counts minLength and maxLength in characters, escapes included', async () => {
    const matches = await matcher({ type: 'string', minLength: 2, maxLength: 5 });
    for (const [value, ok] of [
      ['ab', true],
      ['abcde', true],
      ['😀😀', true],
      ['a"b', true],
      ['\n\t', true],
      ['a', false],
      ['abcdef', false],
      ['', false],
    ] as const) {
      expect(matches(JSON.stringify(value)), value).toBe(ok);
    }
  });

  it('enforces a pattern with the lengths, and a format with a pattern (as zod sends them)', async () => {
    const matches = await matcher({ type: 'string', pattern: '^[a-z]+$', maxLength: 4 });
    expect(matches('"abcd"')).toBe(true);
    expect(matches('"abcde"')).toBe(false);
    expect(matches('"ab1"')).toBe(false);
    const email = await matcher({
      type: 'string',
      format: 'email',
      pattern:
        "^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$",
    });
    expect(email('"ann.lee@example.org"')).toBe(true);
    // The pattern alone allows a label ending in "-", the email format does not.
    expect(email('"ann@bad-.org"')).toBe(false);
    expect(email('"ann@example"')).toBe(false);
  });

  it('writes quotes, backslashes and control characters escaped, as JSON must', async () => {
    const matches = await matcher({ type: 'string', pattern: '^[\\s\\S]{1,3}$' });
    expect(matches('"\\"\\\\\\n"')).toBe(true);
    expect(matches('"\\u0001"')).toBe(true);
    expect(matches('"\n"')).toBe(false);
  });

  it.each([
    ['date', '"2024-02-29"', '"2023-02-29"'],
    ['time', '"23:59:59Z"', '"24:00:00Z"'],
    ['date-time', '"2024-05-01T12:30:00.123+02:00"', '"2024-05-01 12:30:00Z"'],
    ['uuid', '"123e4567-e89b-12d3-a456-426614174000"', '"123e4567e89b12d3a456426614174000"'],
    ['email', '"a.b@c.io"', '"a@b"'],
    ['ipv4', '"192.168.0.255"', '"192.168.0.256"'],
    ['duration', '"P1DT2H"', '"PT"'],
  ])('format %s', async (format, valid, invalid) => {
    const matches = await matcher({ type: 'string', format });
    expect(matches(valid)).toBe(true);
    expect(matches(invalid)).toBe(false);
  });
});

describe('arrays', () => {
  it('enforces minItems and maxItems', async () => {
    const matches = await matcher({ type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 3 });
    expect(matches('[1,2]')).toBe(true);
    expect(matches('[1,2,3]')).toBe(true);
    expect(matches('[1]')).toBe(false);
    expect(matches('[1,2,3,4]')).toBe(false);
  });

  it('ends a tuple where `items: false` (and the draft 7 form) says', async () => {
    for (const schema of [
      { type: 'array', prefixItems: [{ type: 'boolean' }, { type: 'null' }], items: false },
      { type: 'array', items: [{ type: 'boolean' }, { type: 'null' }], additionalItems: false },
    ]) {
      const matches = await matcher(schema);
      expect(matches('[true,null]')).toBe(true);
      expect(matches('[true,null,1]')).toBe(false);
      expect(matches('[null,null]')).toBe(false);
    }
  });
});

describe('objects and combinations', () => {
  it('merges an allOf of objects: every member’s properties, all required ones', async () => {
    const matches = await matcher({
      allOf: [
        { type: 'object', properties: { kind: { enum: ['box', 'ball'] } }, required: ['kind'] },
        {
          type: 'object',
          properties: { size: { type: 'integer', minimum: 1, maximum: 9 } },
          required: ['size'],
        },
      ],
    });
    expect(matches('{"kind":"box","size":3}')).toBe(true);
    expect(matches('{"kind":"box"}')).toBe(false);
    expect(matches('{"size":3}')).toBe(false);
    expect(matches('{"kind":"box","size":10}')).toBe(false);
  });

  it('keeps a property another allOf member forbids out, and refuses it when required', async () => {
    const closed = { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false };
    const matches = await matcher({ allOf: [closed, { properties: { b: { type: 'string' } } }] });
    expect(matches('{"a":1}')).toBe(true);
    expect(matches('{"a":1,"b":"x"}')).toBe(false);
    expect(
      refusal({ allOf: [closed, { properties: { b: { type: 'string' } }, required: ['b'] }] }),
    ).toContain("'b'");
  });

  it('merges a $ref with the keywords beside it', async () => {
    const matches = await matcher({
      $defs: { base: { type: 'object', properties: { id: { type: 'string', pattern: '^x\\d$' } } } },
      properties: { item: { $ref: '#/$defs/base', properties: { count: { type: 'integer', maximum: 3 } } } },
    });
    expect(matches('{"item":{"id":"x1","count":3}}')).toBe(true);
    expect(matches('{"item":{"id":"x1","count":4}}')).toBe(false);
    expect(matches('{"item":{"id":"y1","count":1}}')).toBe(false);
  });

  it('writes anyOf and type lists as alternatives', async () => {
    const matches = await matcher({
      type: 'object',
      properties: {
        size: {
          anyOf: [
            { type: 'integer', minimum: 1, maximum: 9 },
            { type: 'string', pattern: '^(S|M|L)$' },
          ],
        },
        note: { type: ['string', 'null'], maxLength: 2 },
      },
    });
    expect(matches('{"size":5,"note":null}')).toBe(true);
    expect(matches('{"size":"M","note":"ok"}')).toBe(true);
    expect(matches('{"size":"XL","note":null}')).toBe(false);
    expect(matches('{"size":5,"note":"long"}')).toBe(false);
  });

  it('allows a oneOf whose alternatives cannot both match, and refuses one whose can', async () => {
    const matches = await matcher({
      oneOf: [
        { type: 'object', properties: { kind: { const: 'a' }, x: { type: 'integer' } } },
        { type: 'object', properties: { kind: { const: 'b' }, y: { type: 'string', maxLength: 1 } } },
        { type: 'null' },
      ],
    });
    expect(matches('{"kind":"a","x":1}')).toBe(true);
    expect(matches('{"kind":"b","y":"q"}')).toBe(true);
    expect(matches('{"kind":"b","x":1}')).toBe(false);
    const overlapping = {
      oneOf: [{ type: 'object' }, { type: 'object', properties: { a: { type: 'integer' } } }],
    };
    expect(refusal(overlapping)).toBe(
      "Invalid schema for response_format 'test': In context=('oneOf',), alternatives 0 and 1 can match the same value, so 'oneOf' cannot be enforced; use 'anyOf', or give them different types or a property with different 'const' values.",
    );
    expect(refusal(overlapping, { strict: false })).toBeUndefined();
  });

  it('follows recursive $refs, to $defs, definitions, or the root', async () => {
    const matches = await matcher({
      type: 'object',
      properties: {
        value: { type: 'integer', minimum: 0, maximum: 9 },
        children: { type: 'array', items: { $ref: '#' }, maxItems: 2 },
      },
    });
    expect(matches('{"value":1,"children":[{"value":2,"children":[]},{"value":3,"children":[]}]}')).toBe(
      true,
    );
    expect(matches('{"value":1,"children":[{"value":12,"children":[]}]}')).toBe(false);
    const viaDefinitions = await matcher({
      definitions: { leaf: { type: 'string', pattern: '^[ab]$' } },
      properties: { x: { $ref: '#/definitions/leaf' }, y: { $ref: '#/properties/x' } },
    });
    expect(viaDefinitions('{"x":"a","y":"b"}')).toBe(true);
    expect(viaDefinitions('{"x":"a","y":"c"}')).toBe(false);
  });

  it('writes required properties that `properties` does not declare', async () => {
    const matches = await matcher({
      type: 'object',
      required: ['a'],
      additionalProperties: { type: 'boolean' },
    });
    expect(matches('{"a":true}')).toBe(true);
    expect(matches('{}')).toBe(false);
    expect(matches('{"a":1}')).toBe(false);
  });

  it('matches const and enum values, objects and arrays included', async () => {
    const matches = await matcher({ enum: [{ a: [1, 'x'] }, 'plain', null] });
    expect(matches('{"a":[1,"x"]}')).toBe(true);
    expect(matches('"plain"')).toBe(true);
    expect(matches('null')).toBe(true);
    expect(matches('{"a":[1,"y"]}')).toBe(false);
  });
});

describe('const and enum beside other keywords', () => {
  it('keeps only the values the other keywords allow', async () => {
    const matches = await matcher({
      type: 'object',
      properties: {
        short: { type: 'string', enum: ['a', 'bb', 'ccc'], maxLength: 2 },
        x: { allOf: [{ enum: ['x1', 'y1'] }, { pattern: '^x' }] },
        big: { enum: [1, 5, 10, 'z'], minimum: 2 },
      },
    });
    expect(matches('{"short":"bb","x":"x1","big":5}')).toBe(true);
    expect(matches('{"short":"a","x":"x1","big":"z"}')).toBe(true);
    expect(matches('{"short":"ccc","x":"x1","big":5}')).toBe(false);
    expect(matches('{"short":"a","x":"y1","big":5}')).toBe(false);
    expect(matches('{"short":"a","x":"x1","big":1}')).toBe(false);
    expect(refusal({ const: 'abc', maxLength: 2 }, { strict: false })).toContain(
      "'const' admits no value the other keywords allow",
    );
  });
});

describe('strict: what cannot be guaranteed is refused, naming the keyword and where it is', () => {
  it.each([
    [{ type: 'array', uniqueItems: true }, "In context=(), 'uniqueItems' is not permitted."],
    [
      { properties: { n: { not: { type: 'null' } } } },
      "In context=('properties', 'n'), 'not' is not permitted.",
    ],
    [{ type: 'integer', multipleOf: 3 }, "In context=(), 'multipleOf' is not permitted."],
    [{ type: 'number', multipleOf: 0.3 }, "In context=(), 'multipleOf' is not permitted."],
    [{ if: { type: 'string' }, else: { type: 'null' } }, "In context=(), 'if' is not permitted."],
    [
      { type: 'object', patternProperties: { x: {} } },
      "In context=(), 'patternProperties' is not permitted.",
    ],
    [{ type: 'object', propertyNames: { maxLength: 2 } }, "In context=(), 'propertyNames' is not permitted."],
    [{ type: 'array', contains: { type: 'null' } }, "In context=(), 'contains' is not permitted."],
    [
      { type: 'object', unevaluatedProperties: false },
      "In context=(), 'unevaluatedProperties' is not permitted.",
    ],
    [
      { type: 'array', items: { type: 'string', pattern: '^(a)\\1$' } },
      "In context=('items',), 'pattern' \"^(a)\\\\1$\" cannot be enforced: it uses a backreference.",
    ],
    [
      { $defs: { word: { type: 'string', pattern: '\\bx' } }, properties: { w: { $ref: '#/$defs/word' } } },
      "In context=('$defs', 'word'), 'pattern' \"\\\\bx\" cannot be enforced: it uses a word boundary (\\b).",
    ],
    [
      { type: 'string', format: 'uri' },
      'In context=(), \'format\' "uri" is not supported; the supported formats are',
    ],
    [
      { type: 'integer', minimum: 2 ** 60 },
      'In context=(), integer bounds beyond ±9007199254740991 are not permitted.',
    ],
    [
      { type: 'string', pattern: '^[a-z]{40}$', format: 'uuid' },
      "In context=(), 'pattern' and 'format' together admit no string.",
    ],
  ])('%j', (schema, message) => {
    expect(refusal(schema)).toContain(`Invalid schema for response_format 'test': ${message}`);
    expect(refusal(schema, { strict: false })).toBeUndefined();
  });

  it('refuses schemas no value satisfies, strict or not', () => {
    for (const schema of [
      { type: 'integer', minimum: 5, maximum: 4 },
      { type: 'number', exclusiveMinimum: 1, exclusiveMaximum: 1 },
      { type: 'number', exclusiveMinimum: Number.MAX_VALUE },
      { type: 'number', exclusiveMaximum: -Number.MAX_VALUE },
      { type: 'string', minLength: 3, maxLength: 2 },
      { type: 'object', required: ['a'], additionalProperties: false },
      { allOf: [{ type: 'string' }, { type: 'integer' }] },
      { type: 'banana' },
      { $ref: '#/$defs/missing' },
    ]) {
      expect(refusal(schema, { strict: false }), JSON.stringify(schema)).toMatch(
        /^Invalid schema for response_format/,
      );
    }
  });

  it('without strict, leaves out what it cannot enforce and keeps the rest', async () => {
    const matches = await matcher(
      { type: 'array', items: { type: 'integer', minimum: 1, maximum: 3, multipleOf: 2 }, uniqueItems: true },
      { strict: false },
    );
    expect(matches('[1,3]')).toBe(true);
    expect(matches('[4]')).toBe(false);
  });

  it('checkStrictSchema names the parameter and the schema like OpenAI', () => {
    expect(() =>
      checkStrictSchema(
        { properties: { n: { type: 'array', uniqueItems: true } } },
        { param: 'response_format', name: 'thing' },
      ),
    ).toThrow(
      "Invalid schema for response_format 'thing': In context=('properties', 'n'), 'uniqueItems' is not permitted.",
    );
  });

  it('checkStrictFunction adds the OpenAI rules for function parameters, naming the function', () => {
    const refused = (parameters: unknown) => {
      try {
        checkStrictFunction(parameters, { param: 'tools[0].function.parameters', name: 'get_weather' });
        return undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidRequestError);
        expect((error as InvalidRequestError).param).toBe('tools[0].function.parameters');
        return (error as Error).message;
      }
    };
    const closed = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    expect(refused({ ...closed, additionalProperties: false })).toBeUndefined();
    expect(refused({ type: 'object', properties: {}, additionalProperties: false })).toBeUndefined();
    expect(refused(closed)).toBe(
      "Invalid schema for function 'get_weather': In context=(), 'additionalProperties' is required to be supplied and to be false.",
    );
    expect(refused({ ...closed, additionalProperties: { type: 'string' } })).toContain(
      "'additionalProperties' is required to be supplied and to be false.",
    );
    expect(
      refused({
        type: 'object',
        properties: { list: { type: 'array', items: { ...closed, properties: { a: {}, b: {} } } } },
        required: ['list'],
        additionalProperties: false,
      }),
    ).toContain("In context=('properties', 'list', 'items'), 'additionalProperties' is required");
    expect(
      refused({
        $defs: {
          place: {
            type: 'object',
            properties: { a: {}, b: {} },
            required: ['a'],
            additionalProperties: false,
          },
        },
        type: 'object',
        properties: { at: { $ref: '#/$defs/place' } },
        required: ['at'],
        additionalProperties: false,
      }),
    ).toBe(
      "Invalid schema for function 'get_weather': In context=('$defs', 'place'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.",
    );
    expect(refused({ type: 'array' })).toBe(
      "Invalid schema for function 'get_weather': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'.",
    );
    expect(refused({ anyOf: [closed] })).toContain('got \'type: "None"\'');
    // The strict subset's own rules hold too.
    expect(
      refused({ ...closed, properties: { city: { type: 'string', not: {} } }, additionalProperties: false }),
    ).toBe(
      "Invalid schema for function 'get_weather': In context=('properties', 'city'), 'not' is not permitted.",
    );
    // A schema converted before without these rules is still checked against them.
    toGrammarSchema(closed, { param: 'response_format', strict: true });
    expect(refused(closed)).toContain("'additionalProperties' is required");
    // And the strict json_schema check is unchanged by them.
    expect(() => checkStrictSchema(closed, { param: 'response_format', name: 'thing' })).not.toThrow();
  });

  it('refuses a $ref that loops before any property or item (a left-recursive grammar)', async () => {
    for (const schema of [
      { $defs: { x: { anyOf: [{ $ref: '#/$defs/x' }, { type: 'string' }] } }, $ref: '#/$defs/x' },
      {
        $defs: { x: { $ref: '#/$defs/y' }, y: { anyOf: [{ $ref: '#/$defs/x' }, { type: 'null' }] } },
        $ref: '#/$defs/x',
      },
      { anyOf: [{ type: 'integer' }, { $ref: '#' }] },
    ]) {
      for (const strict of [true, false]) {
        expect(refusal(schema, { strict }), JSON.stringify(schema)).toMatch(
          /^Invalid schema for response_format 'test': In context=\(.*\), '\$ref' "#[^"]*" refers back to itself before any property or item\.$/,
        );
      }
    }
    // Through a property or an item the same $ref is recursion a grammar holds.
    const matches = await matcher({
      $defs: {
        node: {
          type: 'object',
          properties: {
            v: { type: 'integer' },
            next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] },
          },
          required: ['v', 'next'],
          additionalProperties: false,
        },
      },
      $ref: '#/$defs/node',
    });
    expect(matches('{"v":1,"next":{"v":2,"next":null}}')).toBe(true);
    expect(matches('{"v":1,"next":{"v":"2","next":null}}')).toBe(false);
  });

  it('refuses a string that would read as its own grammar marker', () => {
    expect(refusal({ const: 'x<<atelier-gbnf:AAAA>>' }, { strict: false })).toContain('is reserved');
  });
});

describe('the SDK’s zodResponseFormat', () => {
  it('converts under strict, and the grammar accepts what the zod schema accepts', async () => {
    const Step = z.object({
      label: z.string().regex(/^[A-Z]{2}\d$/),
      weight: z.number().int().min(1).max(3),
    });
    const Plan = z.object({
      steps: z.array(Step).min(1).max(2),
      owner: z.string().uuid().nullable(),
      when: z.string().datetime(),
      mode: z.enum(['fast', 'slow']),
      extra: z.union([Step, z.object({ note: z.string().max(6) })]),
      ratio: z.number().min(0).max(1),
    });
    const { schema } = zodResponseFormat(Plan, 'plan').json_schema;
    const matches = await matcher(schema as Schema);
    const plan = {
      steps: [{ label: 'AB1', weight: 2 }],
      owner: null,
      when: '2024-05-01T12:00:00Z',
      mode: 'fast',
      extra: { note: 'hi' },
      ratio: 0.25,
    };
    expect(Plan.safeParse(plan).success).toBe(true);
    expect(matches(JSON.stringify(plan))).toBe(true);
    expect(matches(JSON.stringify({ ...plan, steps: [{ label: 'AB1', weight: 4 }] }))).toBe(false);
    expect(matches(JSON.stringify({ ...plan, owner: 'not-a-uuid' }))).toBe(false);
    expect(matches(JSON.stringify({ ...plan, ratio: 1.5 }))).toBe(false);
  });
});
