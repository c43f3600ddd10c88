// Turns an OpenAI-style JSON Schema (tool parameters, `response_format.json_schema`) into the
// subset node-llama-cpp compiles to a grammar, so constrained decoding satisfies the schema.
import { InvalidRequestError } from '../../errors.js';

type Json = Record<string, unknown>;

const STRING_FORMATS = new Set([
  'date',
  'time',
  'date-time',
  'uuid',
  'email',
  'uri',
  'hostname',
  'ipv4',
  'ipv6',
]);
const MAX_DEPTH = 32;

/** Returns a schema node-llama-cpp accepts; throws InvalidRequestError naming `param` otherwise. */
export function toGrammarSchema(schema: unknown, { param }: { param: string }): Json {
  const defs = new Map<string, unknown>();
  if (isObject(schema)) {
    for (const key of ['$defs', 'definitions'] as const) {
      const group = schema[key];
      if (isObject(group)) for (const [name, value] of Object.entries(group)) defs.set(name, value);
    }
  }
  const convert = (node: unknown, depth: number, path: string): Json => {
    if (depth > MAX_DEPTH) throw invalid(param, `${path} nests deeper than ${MAX_DEPTH} levels`);
    if (node === true || node === undefined) return anyJson();
    if (!isObject(node)) throw invalid(param, `${path} must be a JSON Schema object`);
    if (typeof node['$ref'] === 'string') {
      const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(node['$ref']);
      if (!match?.[1] || !defs.has(match[1]))
        throw invalid(param, `${path} has an unresolvable $ref ${node['$ref']}`);
      // Recursive refs would need grammar recursion; inlining with a depth bound keeps it finite.
      return convert(defs.get(match[1]), depth + 1, `${path}.$ref`);
    }
    if ('const' in node) return { const: node['const'] as never };
    if (Array.isArray(node['enum'])) {
      if (node['enum'].length === 0) throw invalid(param, `${path}.enum must not be empty`);
      return { enum: node['enum'] };
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = node[key];
      if (Array.isArray(options)) {
        if (options.length === 0) throw invalid(param, `${path}.${key} must not be empty`);
        return {
          oneOf: options.map((option, index) => convert(option, depth + 1, `${path}.${key}[${index}]`)),
        };
      }
    }
    if (Array.isArray(node['allOf']) && node['allOf'].length === 1) {
      return convert(node['allOf'][0], depth + 1, `${path}.allOf[0]`);
    }
    const type = node['type'];
    if (Array.isArray(type)) {
      return {
        oneOf: type.map((single, index) =>
          convert({ ...node, type: single }, depth + 1, `${path}.type[${index}]`),
        ),
      };
    }
    switch (type) {
      case 'string': {
        const out: Json = { type: 'string' };
        if (typeof node['format'] === 'string' && STRING_FORMATS.has(node['format']))
          out['format'] = node['format'];
        else {
          if (Number.isInteger(node['minLength'])) out['minLength'] = node['minLength'];
          if (Number.isInteger(node['maxLength'])) out['maxLength'] = node['maxLength'];
        }
        return out;
      }
      case 'number':
      case 'integer':
      case 'boolean':
      case 'null':
        return { type };
      case 'array': {
        const out: Json = { type: 'array', items: convert(node['items'], depth + 1, `${path}.items`) };
        if (Array.isArray(node['prefixItems'])) {
          out['prefixItems'] = node['prefixItems'].map((item, index) =>
            convert(item, depth + 1, `${path}.prefixItems[${index}]`),
          );
        }
        if (Number.isInteger(node['minItems'])) out['minItems'] = node['minItems'];
        if (Number.isInteger(node['maxItems'])) out['maxItems'] = node['maxItems'];
        return out;
      }
      case 'object':
      case undefined: {
        const properties = isObject(node['properties']) ? node['properties'] : undefined;
        if (type === undefined && !properties) return anyJson();
        const out: Json = { type: 'object' };
        if (properties) {
          out['properties'] = Object.fromEntries(
            Object.entries(properties).map(([key, value]) => [
              key,
              convert(value, depth + 1, `${path}.${key}`),
            ]),
          );
        }
        const additional = node['additionalProperties'];
        if (additional === false) out['additionalProperties'] = false;
        else if (isObject(additional)) out['additionalProperties'] = convert(additional, depth + 1, path);
        // JSON Schema's default allows any extra keys; with declared properties, emitting
        // exactly those is still valid, so only a bare object needs free-form keys.
        else if (!properties) out['additionalProperties'] = true;
        return out;
      }
      default:
        throw invalid(param, `${path}.type ${JSON.stringify(type)} is not a JSON Schema type`);
    }
  };
  return convert(schema, 0, 'schema');
}

/**
 * node-llama-cpp's number rules allow an exponent of up to 16 digits, also on integers: `5e-3` is
 * no integer and `9e999` parses as Infinity. Integers get no exponent and other numbers one of at
 * most two digits, so every parser reads what the grammar allows as a finite number of the type.
 */
export function tightenNumberRules(grammar: string): string {
  const digits = '"-"? ("0" | [1-9] [0-9]{0,15})';
  return grammar
    .split('\n')
    .map((line) => {
      if (line.startsWith('integer-number-rule ::=')) return `integer-number-rule ::= ${digits}`;
      if (line.startsWith('fractional-number-rule ::=')) {
        return `fractional-number-rule ::= ${digits} ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?`;
      }
      return line;
    })
    .join('\n');
}

function anyJson(): Json {
  return {
    oneOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'null' },
      { type: 'object', additionalProperties: true },
      { type: 'array', items: { type: 'string' } },
    ],
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(param: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid schema for ${param}: ${message}.`, { param });
}
