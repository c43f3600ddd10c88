// Checks a function tool's definition as typed in the playground's JSON editor: valid JSON, an
// object with a `name` OpenAI accepts, an optional `description`, `parameters` that are a JSON
// Schema for an object, and `strict`. Problems come back as message keys with their values, so
// the editor says them in the reader's language.

import type { PlaygroundKey } from './playground-en';
import type { FunctionDefinition } from './playground-types';

export interface Problem {
  readonly key: PlaygroundKey;
  readonly params?: Readonly<Record<string, string | number>>;
}

export type Checked<Value> =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: false; readonly problem: Problem };

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const FIELDS = new Set(['name', 'description', 'parameters', 'strict']);
const SCHEMA_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

/** Parses JSON text, saying where it fails (the engine's message names the position). */
export function parseJson(text: string): Checked<unknown> {
  if (!text.trim()) return { ok: false, problem: { key: 'json.empty' } };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, problem: { key: 'json.invalid', params: { detail: (error as Error).message } } };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function checkFunctionDefinition(
  text: string,
  { takenNames = [] }: { takenNames?: readonly string[] } = {},
): Checked<FunctionDefinition> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isObject(value)) return { ok: false, problem: { key: 'function.notObject' } };
  const unknown = Object.keys(value).find((key) => !FIELDS.has(key));
  if (unknown) return { ok: false, problem: { key: 'function.unknownField', params: { field: unknown } } };
  if (typeof value['name'] !== 'string' || !NAME.test(value['name'])) {
    return { ok: false, problem: { key: 'function.badName' } };
  }
  if (takenNames.includes(value['name'])) {
    return { ok: false, problem: { key: 'function.duplicate', params: { name: value['name'] } } };
  }
  if (value['description'] !== undefined && typeof value['description'] !== 'string') {
    return { ok: false, problem: { key: 'function.badDescription' } };
  }
  if (value['strict'] !== undefined && value['strict'] !== null && typeof value['strict'] !== 'boolean') {
    return { ok: false, problem: { key: 'function.badStrict' } };
  }
  if (value['parameters'] !== undefined) {
    const problem = checkParametersSchema(value['parameters']);
    if (problem) return { ok: false, problem };
  }
  return { ok: true, value: value as unknown as FunctionDefinition };
}

/** `parameters`: a JSON Schema whose root is an object; its `properties` and `required` agree. */
export function checkParametersSchema(schema: unknown): Problem | null {
  if (!isObject(schema)) return { key: 'schema.notObject' };
  if (schema['type'] !== undefined && schema['type'] !== 'object') return { key: 'schema.rootType' };
  return checkSchema(schema, 'parameters');
}

function checkSchema(schema: Record<string, unknown>, path: string): Problem | null {
  const type = schema['type'];
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  const badType = types.find((item) => typeof item !== 'string' || !SCHEMA_TYPES.has(item));
  if (badType !== undefined) return { key: 'schema.badType', params: { path, type: String(badType) } };
  const properties = schema['properties'];
  if (properties !== undefined) {
    if (!isObject(properties)) return { key: 'schema.badProperties', params: { path } };
    for (const [name, property] of Object.entries(properties)) {
      if (!isObject(property))
        return { key: 'schema.badProperty', params: { path: `${path}.properties.${name}` } };
      const problem = checkSchema(property, `${path}.properties.${name}`);
      if (problem) return problem;
    }
  }
  const required = schema['required'];
  if (required !== undefined) {
    if (!Array.isArray(required) || required.some((item) => typeof item !== 'string')) {
      return { key: 'schema.badRequired', params: { path } };
    }
    const missing = required.find((name) => !isObject(properties) || !(name in properties));
    if (missing !== undefined)
      return { key: 'schema.requiredUnknown', params: { path, name: String(missing) } };
  }
  const items = schema['items'];
  if (items !== undefined) {
    if (!isObject(items)) return { key: 'schema.badItems', params: { path } };
    const problem = checkSchema(items, `${path}.items`);
    if (problem) return problem;
  }
  const choices = schema['enum'];
  if (choices !== undefined && (!Array.isArray(choices) || choices.length === 0)) {
    return { key: 'schema.badEnum', params: { path } };
  }
  return null;
}

/** A response format's `json_schema` as typed: `{ "name", "schema", "strict"?, "description"? }`. */
export function checkResponseSchema(text: string): Checked<{
  name: string;
  description?: string;
  schema?: Record<string, unknown>;
  strict?: boolean;
}> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isObject(value)) return { ok: false, problem: { key: 'responseSchema.notObject' } };
  if (typeof value['name'] !== 'string' || !NAME.test(value['name'])) {
    return { ok: false, problem: { key: 'function.badName' } };
  }
  if (value['schema'] !== undefined) {
    if (!isObject(value['schema'])) return { ok: false, problem: { key: 'schema.notObject' } };
    const problem = checkSchema(value['schema'], 'schema');
    if (problem) return { ok: false, problem };
  }
  if (value['strict'] !== undefined && typeof value['strict'] !== 'boolean') {
    return { ok: false, problem: { key: 'function.badStrict' } };
  }
  const unknown = Object.keys(value).find(
    (key) => !['name', 'description', 'schema', 'strict'].includes(key),
  );
  if (unknown) return { ok: false, problem: { key: 'function.unknownField', params: { field: unknown } } };
  return { ok: true, value: value as { name: string; schema?: Record<string, unknown>; strict?: boolean } };
}

export const EXAMPLE_FUNCTION: FunctionDefinition = {
  name: 'get_weather',
  description: 'Determine the weather in a location',
  parameters: {
    type: 'object',
    properties: {
      location: { type: 'string', description: 'The city and country, e.g. Seoul, South Korea' },
      unit: { type: 'string', enum: ['c', 'f'] },
    },
    required: ['location'],
  },
};

export const EXAMPLE_RESPONSE_SCHEMA = {
  name: 'answer',
  schema: {
    type: 'object',
    properties: { answer: { type: 'string' } },
    required: ['answer'],
    additionalProperties: false,
  },
  strict: true,
};
