// Structured Outputs with the official `openai` client: a strict `json_schema` response format
// always yields content that a JSON Schema validator (ajv) accepts, whatever the seed, and a strict
// schema using a keyword that decoding cannot guarantee is refused up front, as OpenAI does.
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { type Schema, schemaProblems } from '../support/json-schema-check.js';

let server: TestServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startApiServer();
  client = server.client;
});
afterAll(async () => {
  await server?.close();
});

const SEEDS = [1, 2, 3, 4];

/** Every choice of every seed, parsed; fails the test on content that is not JSON or was cut off. */
async function samples(name: string, schema: Schema, { n = 3 } = {}): Promise<unknown[]> {
  const values: unknown[] = [];
  for (const seed of SEEDS) {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: `Reply with a ${name}.` }],
      response_format: { type: 'json_schema', json_schema: { name, schema, strict: true } },
      n,
      seed,
      max_tokens: 600,
    });
    for (const choice of completion.choices) {
      expect(choice.finish_reason, `seed ${seed}: ${choice.message.content}`).toBe('stop');
      values.push(JSON.parse(choice.message.content!));
    }
  }
  return values;
}

async function expectAllValid(name: string, schema: Schema): Promise<void> {
  for (const value of await samples(name, schema)) {
    expect(schemaProblems(schema, value), JSON.stringify(value)).toEqual([]);
  }
}

describe('strict json_schema: every seed gives content the schema accepts', () => {
  it('integer bounds and a string pattern', async () => {
    await expectAllValid('code', {
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 100, maximum: 105 },
        s: { type: 'string', pattern: '^[0-9]{3}$' },
        neg: { type: 'integer', exclusiveMinimum: -20, exclusiveMaximum: -3 },
        big: { type: 'integer', minimum: 999_990 },
      },
      required: ['n', 's', 'neg', 'big'],
      additionalProperties: false,
    });
  });

  it('patterns with classes, groups, alternation and quantifiers; unanchored patterns', async () => {
    await expectAllValid('ticket', {
      type: 'object',
      properties: {
        id: { type: 'string', pattern: '^(?:TK|BUG)-[1-9]\\d{2,4}$' },
        slug: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,7}(\\.(md|txt))?$' },
        hex: { type: 'string', pattern: '^#([0-9a-fA-F]{3}){1,2}$' },
        contains: { type: 'string', pattern: 'ab+c', maxLength: 12 },
        not_space: { type: 'string', pattern: '^\\S+$', maxLength: 6 },
      },
      required: ['id', 'slug', 'hex', 'contains', 'not_space'],
      additionalProperties: false,
    });
  });

  it('string lengths and formats', async () => {
    await expectAllValid('person', {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 5 },
        born: { type: 'string', format: 'date' },
        seen: { type: 'string', format: 'date-time' },
        id: { type: 'string', format: 'uuid' },
        mail: { type: 'string', format: 'email', maxLength: 40 },
      },
      required: ['name', 'born', 'seen', 'id', 'mail'],
      additionalProperties: false,
    });
  });

  it('number bounds, inclusive and exclusive', async () => {
    await expectAllValid('reading', {
      type: 'object',
      properties: {
        ratio: { type: 'number', minimum: 0, maximum: 1 },
        temperature: { type: 'number', exclusiveMinimum: -2.5, exclusiveMaximum: 3.25 },
        price: { type: 'number', minimum: 10.5 },
      },
      required: ['ratio', 'temperature', 'price'],
      additionalProperties: false,
    });
  });

  it('array lengths', async () => {
    await expectAllValid('list', {
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]{1,4}$' }, minItems: 2, maxItems: 3 },
        pair: { type: 'array', prefixItems: [{ type: 'boolean' }, { type: 'null' }], items: false },
      },
      required: ['tags', 'pair'],
      additionalProperties: false,
    });
  });

  it('allOf of objects, anyOf alternatives and $defs', async () => {
    await expectAllValid('shape', {
      allOf: [
        {
          type: 'object',
          properties: { kind: { enum: ['box', 'ball'] } },
          required: ['kind'],
        },
        {
          type: 'object',
          properties: { size: { $ref: '#/$defs/size' } },
          required: ['size'],
        },
      ],
      $defs: {
        size: {
          anyOf: [
            { type: 'integer', minimum: 1, maximum: 9 },
            { type: 'string', pattern: '^(S|M|L)$' },
            { type: 'null' },
          ],
        },
      },
    });
  });
});

describe('the SDK helpers', () => {
  it('chat.completions.parse with zodResponseFormat returns parsed objects', async () => {
    const Step = z.object({
      label: z.string().regex(/^[A-Z]{2}\d$/),
      weight: z.number().int().min(1).max(3),
    });
    const Plan = z.object({
      steps: z.array(Step).min(1).max(2),
      owner: z.string().uuid().nullable(),
      mode: z.enum(['fast', 'slow']),
      extra: z.union([Step, z.object({ note: z.string().max(6) })]),
    });
    for (const seed of SEEDS) {
      const completion = await client.chat.completions.parse({
        model: MODEL,
        messages: [{ role: 'user', content: 'Make a plan.' }],
        response_format: zodResponseFormat(Plan, 'plan'),
        seed,
        max_tokens: 600,
      });
      const message = completion.choices[0]!.message;
      expect(completion.choices[0]!.finish_reason, message.content ?? '').toBe('stop');
      expect(Plan.safeParse(message.parsed).success).toBe(true);
    }
  });
});

describe('strict json_schema: what cannot be guaranteed is refused before generation', () => {
  const cases: { keyword: string; schema: Schema; message: string }[] = [
    {
      keyword: 'uniqueItems',
      schema: {
        type: 'object',
        properties: { n: { type: 'array', items: { type: 'integer' }, uniqueItems: true } },
      },
      message: "In context=('properties', 'n'), 'uniqueItems' is not permitted.",
    },
    {
      keyword: 'not',
      schema: { type: 'object', properties: { s: { type: 'string', not: { const: 'x' } } } },
      message: "In context=('properties', 's'), 'not' is not permitted.",
    },
    {
      keyword: 'multipleOf',
      schema: { type: 'object', properties: { n: { type: 'integer', multipleOf: 3 } } },
      message: "In context=('properties', 'n'), 'multipleOf' is not permitted.",
    },
    {
      keyword: 'if',
      schema: { type: 'object', if: { required: ['a'] }, else: { required: ['b'] } },
      message: "In context=(), 'if' is not permitted.",
    },
    {
      keyword: 'patternProperties',
      schema: { type: 'object', patternProperties: { '^x': { type: 'string' } } },
      message: "In context=(), 'patternProperties' is not permitted.",
    },
    {
      keyword: 'a backreference in pattern',
      schema: {
        type: 'object',
        properties: { s: { type: 'array', items: { type: 'string', pattern: '^(a)\\1$' } } },
      },
      message: "In context=('properties', 's', 'items'), 'pattern'",
    },
    {
      keyword: 'a lookahead in pattern',
      schema: { type: 'string', pattern: '^(?=a)\\w+$' },
      message: "In context=(), 'pattern'",
    },
    {
      keyword: 'an unknown format',
      schema: { type: 'string', format: 'credit-card' },
      message: "In context=(), 'format'",
    },
    {
      keyword: 'a $ref that loops before any property or item',
      schema: { $defs: { x: { anyOf: [{ $ref: '#/$defs/x' }, { type: 'string' }] } }, $ref: '#/$defs/x' },
      message: "In context=('$defs', 'x', 'anyOf', 0), '$ref' \"#/$defs/x\" refers back to itself",
    },
  ];

  it.each(cases)(
    '$keyword → 400 invalid_request_error, param response_format',
    async ({ schema, message }) => {
      const error = await client.chat.completions
        .create({
          model: MODEL,
          messages: [{ role: 'user', content: 'Hello.' }],
          response_format: { type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } },
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
      expect(bad.status).toBe(400);
      expect(bad.type).toBe('invalid_request_error');
      expect(bad.param).toBe('response_format');
      expect(bad.message).toContain("Invalid schema for response_format 'thing': ");
      expect(bad.message).toContain(message);
    },
  );

  it('without strict the same schema is best effort: it answers, and the output is JSON', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hello.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'thing',
          schema: {
            type: 'object',
            properties: { n: { type: 'array', items: { type: 'integer' }, uniqueItems: true, maxItems: 3 } },
            required: ['n'],
            additionalProperties: false,
          },
        },
      },
      seed: 3,
      max_tokens: 200,
    });
    const parsed = JSON.parse(completion.choices[0]!.message.content!) as { n: unknown };
    expect(Array.isArray(parsed.n)).toBe(true);
  });

  it('without strict, a schema no grammar can hold is a 400 too, never a 500', async () => {
    const error = await client.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hello.' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'thing',
            schema: { $defs: { x: { anyOf: [{ $ref: '#/$defs/x' }, { type: 'null' }] } }, $ref: '#/$defs/x' },
          },
        },
        max_tokens: 20,
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.param).toBe('response_format.json_schema.schema');
    expect(bad.message).toContain('\'$ref\' "#/$defs/x" refers back to itself before any property or item');
  });

  it('Assistants: creating an assistant or a run with such a schema is refused the same way', async () => {
    const format = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'thing',
        strict: true,
        schema: { type: 'object', properties: { n: { type: 'integer', multipleOf: 3 } } },
      },
    };
    const refused = async (promise: Promise<unknown>) => {
      const error = await promise.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
      expect(bad.param).toBe('response_format');
      expect(bad.message).toContain(
        "Invalid schema for response_format 'thing': In context=('properties', 'n'), 'multipleOf' is not permitted.",
      );
    };
    await refused(client.beta.assistants.create({ model: MODEL, response_format: format }));
    const assistant = await client.beta.assistants.create({ model: MODEL });
    await refused(client.beta.assistants.update(assistant.id, { response_format: format }));
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
    await refused(
      client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, response_format: format }),
    );
    await refused(
      client.beta.threads.createAndRun({
        assistant_id: assistant.id,
        thread: { messages: [{ role: 'user', content: 'Hi' }] },
        response_format: format,
      }),
    );
    // Nothing was started: the thread has no run.
    expect((await client.beta.threads.runs.list(thread.id)).data).toEqual([]);
  });

  it('Assistants: a run with a strict schema answers with a message the schema accepts', async () => {
    const schema = {
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 100, maximum: 105 },
        s: { type: 'string', pattern: '^[0-9]{3}$' },
      },
      required: ['n', 's'],
      additionalProperties: false,
    };
    const assistant = await client.beta.assistants.create({
      model: MODEL,
      response_format: { type: 'json_schema', json_schema: { name: 'code', schema, strict: true } },
    });
    for (const seed of [1, 2]) {
      const run = await client.beta.threads.createAndRunPoll(
        {
          assistant_id: assistant.id,
          thread: { messages: [{ role: 'user', content: `Code ${seed}?` }] },
        },
        { pollIntervalMs: 50 },
      );
      expect(run.status).toBe('completed');
      const [message] = (await client.beta.threads.messages.list(run.thread_id, { run_id: run.id })).data;
      const part = message!.content[0]!;
      if (part.type !== 'text') throw new Error(`unexpected ${part.type} part`);
      expect(schemaProblems(schema, JSON.parse(part.text.value))).toEqual([]);
    }
  });
});
