// Checks what the server returns against the official OpenAI spec (`../shared/openapi`, read in
// place, never copied), with a small validator for the JSON-schema subset the spec uses. The same
// validator checks generated JSON against the schemas a test sent in `response_format`/`tools`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { hasJsonType } from '../../packages/server/src/inference/structured-output/grammar-schema.js';

export type JsonSchema = { readonly [key: string]: unknown } | boolean;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OPENAPI_SPEC_PATH = path.resolve(repoRoot, '../shared/openapi/openapi-2024-01.yaml');

let spec: Record<string, unknown> | undefined;

/** The parsed spec (YAML anchors and aliases resolved), loaded once per test file. */
export function openApiSpec(): Record<string, unknown> {
  spec ??= parse(readFileSync(OPENAPI_SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as Record<string, unknown>;
  return spec;
}

/** The schemas the tests check, by their name under `components.schemas`. */
export type SpecSchemaName =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'CreateCompletionResponse'
  | 'CreateEmbeddingResponse'
  | 'ListModelsResponse'
  | 'Model'
  | 'Error'
  | 'ErrorResponse';

/** Problems found validating `value` against the spec's schema `name`; empty when it conforms. */
export function specViolations(name: SpecSchemaName, value: unknown): string[] {
  const root = openApiSpec();
  return validateJsonSchema({ $ref: `#/components/schemas/${name}` }, value, { root });
}

/** Throws with every violation listed, so a failing test says which field is wrong and why. */
export function assertMatchesSpec(name: SpecSchemaName, value: unknown): void {
  const problems = specViolations(name, value);
  if (problems.length > 0) {
    throw new Error(`response does not match ${name}:\n  ${problems.join('\n  ')}\n${JSON.stringify(value)}`);
  }
}

/**
 * Validates a JSON value against a schema: `$ref` (JSON pointers into `root`), `type` (a name or
 * a list), OpenAPI's `nullable`, `enum`, `const`, `required`, `properties`,
 * `additionalProperties`, `items`, `minItems`/`maxItems`, `minLength`/`maxLength`,
 * `minimum`/`maximum`, `oneOf`/`anyOf`/`allOf`. Unknown keywords are ignored.
 */
export function validateJsonSchema(
  schema: JsonSchema,
  value: unknown,
  { root = schema, at = '$' }: { root?: unknown; at?: string } = {},
): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed here`];
  if (typeof schema['$ref'] === 'string') {
    // The Assistants specs put `nullable` beside a $ref (a run's `response_format`): honour it.
    if (value === null && schema['nullable'] === true) return [];
    return validateJsonSchema(resolvePointer(root, schema['$ref']), value, { root, at });
  }
  if (value === null && (schema['nullable'] === true || typeIncludes(schema, 'null'))) return [];

  const problems: string[] = [];
  const type = schema['type'];
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as string[]) : [type as string];
    if (!types.some((one) => hasType(value, one))) {
      return [`${at}: expected ${types.join(' or ')}, got ${describe(value)}`];
    }
  }
  if (Array.isArray(schema['enum']) && !schema['enum'].some((option) => deepEqual(option, value))) {
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
  }
  if ('const' in schema && !deepEqual(schema['const'], value)) {
    problems.push(`${at}: expected ${JSON.stringify(schema['const'])}, got ${JSON.stringify(value)}`);
  }

  if (isPlainObject(value)) {
    const properties = isPlainObject(schema['properties'])
      ? (schema['properties'] as Record<string, JsonSchema>)
      : {};
    for (const key of (schema['required'] as string[] | undefined) ?? []) {
      if (!(key in value)) problems.push(`${at}: missing required property '${key}'`);
    }
    for (const [key, item] of Object.entries(value)) {
      const property = properties[key];
      if (property !== undefined) {
        problems.push(...validateJsonSchema(property, item, { root, at: `${at}.${key}` }));
      } else if (schema['additionalProperties'] !== undefined) {
        problems.push(
          ...validateJsonSchema(schema['additionalProperties'] as JsonSchema, item, {
            root,
            at: `${at}.${key}`,
          }),
        );
      }
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) {
      problems.push(`${at}: fewer than ${schema['minItems']} items`);
    }
    if (typeof schema['maxItems'] === 'number' && value.length > schema['maxItems']) {
      problems.push(`${at}: more than ${schema['maxItems']} items`);
    }
    if (schema['items'] !== undefined) {
      for (const [index, item] of value.entries()) {
        problems.push(
          ...validateJsonSchema(schema['items'] as JsonSchema, item, { root, at: `${at}[${index}]` }),
        );
      }
    }
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema['minLength'] === 'number' && length < schema['minLength']) {
      problems.push(`${at}: shorter than ${schema['minLength']} characters`);
    }
    if (typeof schema['maxLength'] === 'number' && length > schema['maxLength']) {
      problems.push(`${at}: longer than ${schema['maxLength']} characters`);
    }
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum'])
      problems.push(`${at}: below ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum'])
      problems.push(`${at}: above ${schema['maximum']}`);
  }

  if (Array.isArray(schema['allOf'])) {
    for (const part of schema['allOf'] as JsonSchema[])
      problems.push(...validateJsonSchema(part, value, { root, at }));
  }
  if (Array.isArray(schema['anyOf'])) {
    const options = schema['anyOf'] as JsonSchema[];
    if (!options.some((option) => validateJsonSchema(option, value, { root, at }).length === 0)) {
      problems.push(`${at}: matches none of anyOf (${describe(value)})`);
    }
  }
  if (Array.isArray(schema['oneOf'])) {
    const options = schema['oneOf'] as JsonSchema[];
    const matches = options.filter(
      (option) => validateJsonSchema(option, value, { root, at }).length === 0,
    ).length;
    if (matches !== 1)
      problems.push(`${at}: matches ${matches} of oneOf, expected exactly 1 (${describe(value)})`);
  }
  return problems;
}

function resolvePointer(root: unknown, ref: string): JsonSchema {
  if (!ref.startsWith('#')) throw new Error(`only local $refs are supported: ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isPlainObject(node) || !(key in node)) throw new Error(`unresolvable $ref ${ref}`);
    node = node[key];
  }
  if (typeof node !== 'boolean' && !isPlainObject(node)) throw new Error(`$ref ${ref} is not a schema`);
  return node as JsonSchema;
}

function typeIncludes(schema: { readonly [key: string]: unknown }, name: string): boolean {
  const type = schema['type'];
  return type === name || (Array.isArray(type) && type.includes(name));
}

const JSON_TYPES = new Set(['null', 'boolean', 'string', 'number', 'integer', 'array', 'object']);

function hasType(value: unknown, type: string): boolean {
  if (!JSON_TYPES.has(type)) throw new Error(`unknown JSON Schema type ${type}`);
  return hasJsonType(value, type);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 60)}`;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
