// Turns an OpenAI-style JSON Schema (tool parameters, `response_format.json_schema`) into the
// subset node-llama-cpp compiles to a grammar, so constrained decoding satisfies the schema.
// node-llama-cpp builds the structure (objects, arrays, alternatives, $defs); what its subset
// cannot say (patterns, formats, lengths, numeric bounds) is written here as GBNF, carried through
// its compiler as a marked string constant, and spliced in by tightenNumberRules.
//
// With `strict`, every keyword that changes which values are valid is either enforced or refused
// (what OpenAI's Structured Outputs promise); without it, what cannot be enforced is left out.
// Pure code with no runtime behind it: the HTTP layer checks a strict schema with it when a request
// arrives, and the llama-cpp adapter compiles the same conversion (cached) when it generates.
import { InvalidRequestError } from '../../errors.js';
import { integerRangeGrammar, nextDown, nextUp, numberRangeGrammar } from './number-grammar.js';
import {
  type Dfa,
  type GrammarFragment,
  intersectDfa,
  isEmpty,
  jsonStringGrammar,
  jsonStringLengthGrammar,
  limitLength,
  patternDfa,
  UnsupportedConstraint,
} from './string-automaton.js';
import { STRING_FORMATS } from './string-formats.js';

/** A schema; symbol keys carry what an allOf merge collected. */
type Json = Record<PropertyKey, unknown>;
type Path = readonly (string | number)[];

export interface GrammarSchemaOptions {
  /** The request parameter errors name. */
  readonly param: string;
  /** The schema's name (`response_format.json_schema.name`), quoted in messages. */
  readonly name?: string | undefined;
  /** What messages call the schema (`Invalid schema for function 'x'`); `param` when left out. */
  readonly subject?: string | undefined;
  /** The error's `code` (OpenAI: `invalid_function_parameters` for a function's; none otherwise). */
  readonly code?: string | undefined;
  /** Refuse what decoding cannot guarantee, instead of leaving it out. */
  readonly strict?: boolean | undefined;
  /**
   * OpenAI's Structured Outputs rules for objects, on top of `strict`: an object at the root, and
   * every object closed (`additionalProperties: false`) with every property in `required`.
   */
  readonly closedObjects?: boolean | undefined;
}

const MAX_DEPTH = 32;
/** The most alternatives an allOf of anyOfs may multiply out to. */
const MAX_COMBINATIONS = 64;
const MARKER = '<<atelier-gbnf:';
const MARKED_LITERAL = /"\\"<<atelier-gbnf:([A-Za-z0-9_-]+)>>\\""/g;
/** Extra patterns and formats an allOf merge collected (a schema has one of each). */
const PATTERNS = Symbol('patterns');
const FORMATS = Symbol('formats');

/** Keywords that change which values are valid and that no grammar can enforce. */
const UNSUPPORTED = [
  'not',
  'if',
  'patternProperties',
  'propertyNames',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
  '$dynamicRef',
  '$recursiveRef',
] as const;
/** Keywords that only say something about one type of value. */
const KEYWORDS_BY_TYPE = {
  object: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  array: ['items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems'],
  string: ['pattern', 'format', 'minLength', 'maxLength', PATTERNS, FORMATS],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
} as const;

/**
 * Conversions are cached: a schema with a long `maxLength` beside a `format` takes tens of
 * milliseconds, and a request converts its schema twice (checked when it arrives, compiled when it
 * runs). A strict conversion holds for a lenient one too: nothing had to be left out of it.
 */
const cache = new Map<
  string,
  { readonly schema: Record<string, unknown>; readonly strict: boolean; readonly closedObjects: boolean }
>();
const CACHE_SIZE = 32;

/** Returns a schema node-llama-cpp accepts; throws InvalidRequestError naming `param` otherwise. */
export function toGrammarSchema(schema: unknown, options: GrammarSchemaOptions): Record<string, unknown> {
  const strict = options.strict ?? false;
  // The object rules only refuse schemas (the conversion is the same): a check that passed holds.
  const closedObjects = strict && (options.closedObjects ?? false);
  const key = JSON.stringify(schema) ?? 'undefined';
  const hit = cache.get(key);
  if (hit && (hit.strict || !strict) && (hit.closedObjects || !closedObjects)) {
    cache.delete(key);
    cache.set(key, hit);
    return hit.schema;
  }
  const converted = deepFreeze(new SchemaConverter(schema, { ...options, closedObjects }).run());
  cache.set(key, { schema: converted, strict, closedObjects });
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return converted;
}

/**
 * Refuses (InvalidRequestError, 400) a strict schema that decoding could not always satisfy,
 * before anything is generated: the check behind `strict: true`.
 */
export function checkStrictSchema(schema: unknown, { param, name }: { param: string; name?: string }): void {
  toGrammarSchema(schema, { param, name, strict: true });
}

/**
 * The check behind a function tool's `strict: true` (Structured Outputs for function calling):
 * the strict check above plus OpenAI's rules for function parameters (an object at the root,
 * every object closed, every property required), worded as OpenAI words them:
 * `Invalid schema for function 'get_weather': In context=(), …`.
 */
export function checkStrictFunction(
  parameters: unknown,
  { param, name }: { param: string; name: string },
): void {
  toGrammarSchema(parameters, {
    param,
    name,
    subject: 'function',
    code: 'invalid_function_parameters',
    strict: true,
    closedObjects: true,
  });
}

/**
 * Finishes a grammar node-llama-cpp compiled from toGrammarSchema's output: splices in the GBNF
 * that schema carried as marked constants, and bounds number rules. node-llama-cpp's number rules
 * allow an exponent of up to 16 digits, also on integers: `5e-3` is no integer and `9e999` parses
 * as Infinity. Integers get no exponent and other numbers one of at most two digits, so every
 * parser reads what the grammar allows as a finite number of the type.
 */
export function tightenNumberRules(grammar: string): string {
  const placed = new Map<string, string>();
  const rules: string[] = [];
  const spliced = grammar.replace(MARKED_LITERAL, (_literal, payload: string) => {
    let prefix = placed.get(payload);
    const fragment = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as GrammarFragment;
    const rename = (text: string) => text.replace(/<(\d+)>/g, (_name, index: string) => `${prefix}-${index}`);
    if (prefix === undefined) {
      prefix = `atelier-${placed.size}`;
      placed.set(payload, prefix);
      fragment.rules.forEach((body, index) => {
        rules.push(`${prefix}-${index} ::= ${rename(body)}`);
      });
    }
    return `( ${rename(fragment.expression)} )`;
  });
  const digits = '"-"? ("0" | [1-9] [0-9]{0,15})';
  return [
    ...spliced.split('\n').map((line) => {
      if (line.startsWith('integer-number-rule ::=')) return `integer-number-rule ::= ${digits}`;
      if (line.startsWith('fractional-number-rule ::=')) {
        return `fractional-number-rule ::= ${digits} ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?`;
      }
      return line;
    }),
    ...rules,
  ].join('\n');
}

class SchemaConverter {
  private readonly defNames = new Map<unknown, string>();
  private readonly defs: Record<string, Json> = {};
  /** $defs being converted with no object or array entered since: a $ref back to one loops. */
  private open = new Set<string>();
  private readonly strict: boolean;

  constructor(
    private readonly root: unknown,
    private readonly options: GrammarSchemaOptions,
  ) {
    this.strict = options.strict ?? false;
  }

  run(): Json {
    if (this.options.closedObjects) this.checkRootObject();
    const out = this.convert(this.root, [], 0);
    return Object.keys(this.defs).length > 0 ? { oneOf: [out], $defs: this.defs } : out;
  }

  // -------------------------------------------------------------------------------------------
  // Errors

  private invalid(path: Path, message: string): InvalidRequestError {
    const context = path.map((part) => (typeof part === 'number' ? String(part) : `'${part}'`));
    const tuple = context.length === 1 ? `(${context[0]},)` : `(${context.join(', ')})`;
    return this.invalidSchema(`In context=${tuple}, ${message}.`);
  }

  private invalidSchema(message: string): InvalidRequestError {
    const { param, name, subject = param, code } = this.options;
    return new InvalidRequestError(
      `Invalid schema for ${subject}${name === undefined ? '' : ` '${name}'`}: ${message}`,
      { param, ...(code === undefined ? {} : { code }) },
    );
  }

  /** Function parameters are an object (OpenAI's wording, which prints a missing type as None). */
  private checkRootObject(): void {
    const type = isObject(this.root) ? this.root['type'] : undefined;
    if (type === 'object') return;
    const shown = typeof type === 'string' ? type : type === undefined ? 'None' : JSON.stringify(type);
    throw this.invalidSchema(`schema must be a JSON Schema of 'type: "object"', got 'type: "${shown}"'.`);
  }

  /** A keyword that cannot be enforced: an error under strict, otherwise left out (returns). */
  private unsupported(path: Path, message: string): void {
    if (this.strict) throw this.invalid(path, message);
  }

  // -------------------------------------------------------------------------------------------
  // Conversion

  private convert(node: unknown, path: Path, depth: number): Json {
    if (depth > MAX_DEPTH) throw this.invalid(path, `the schema nests deeper than ${MAX_DEPTH} levels`);
    if (node === true || node === undefined) return anyJson();
    if (node === false) throw this.invalid(path, 'the schema `false` admits no value');
    if (!isObject(node)) throw this.invalid(path, 'a schema must be a JSON object');
    const schema = normalizeDraft4(node);
    this.checkKeywords(schema, path);

    if (schema['allOf'] !== undefined) {
      const members = this.schemaList(schema, 'allOf', path);
      const { allOf: _members, ...rest } = schema;
      const merged = this.mergeAll([rest, ...members], path, depth);
      return this.convert(merged, path, depth + 1);
    }
    if (schema['$ref'] !== undefined) {
      const { $ref: _ref, ...rest } = schema;
      const target = this.resolve(schema['$ref'], path);
      if (hasConstraints(rest))
        return this.convert(this.mergeAll([target.node, rest], path, depth), path, depth + 1);
      if (this.open.has(this.defNames.get(target.node) ?? '')) {
        throw this.invalid(
          path,
          `'$ref' ${JSON.stringify(schema['$ref'])} refers back to itself before any property or item`,
        );
      }
      return { $ref: `#/$defs/${this.defName(target.node, target.path)}` };
    }
    if (schema['nullable'] === true) {
      const { nullable: _nullable, ...rest } = schema;
      return { oneOf: [this.convert(rest, path, depth + 1), { type: 'null' }] };
    }
    if (schema['anyOf'] !== undefined && schema['oneOf'] !== undefined) {
      const { anyOf, oneOf, ...rest } = schema;
      return this.convert({ ...rest, allOf: [{ anyOf }, { oneOf }] }, path, depth + 1);
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (schema[key] === undefined) continue;
      const options = this.schemaList(schema, key, path);
      const { [key]: _options, ...rest } = schema;
      if (key === 'oneOf') this.checkExclusive(options, rest, path, depth);
      return {
        oneOf: options.map((option, index) =>
          this.convert(
            hasConstraints(rest) ? this.mergeAll([rest, option], [...path, key, index], depth) : option,
            [...path, key, index],
            depth + 1,
          ),
        ),
      };
    }
    if ('const' in schema || schema['enum'] !== undefined) {
      if (schema['enum'] !== undefined && !Array.isArray(schema['enum'])) {
        throw this.invalid(path, "'enum' must be an array");
      }
      const keyword = 'const' in schema ? 'const' : 'enum';
      const candidates = 'const' in schema ? [schema['const']] : (schema['enum'] as unknown[]);
      const values = candidates.filter((value) => this.admits(value, schema, path));
      if (values.length === 0)
        throw this.invalid(path, `'${keyword}' admits no value the other keywords allow`);
      if (values.length === 1) return this.literal(values[0], path);
      if (values.every((value) => value === null || typeof value !== 'object')) {
        for (const value of values) this.checkLiteral(value, path);
        return { enum: values };
      }
      return { oneOf: values.map((value) => this.literal(value, path)) };
    }

    const type = schema['type'];
    if (Array.isArray(type)) {
      if (type.length === 0) throw this.invalid(path, "'type' must not be an empty array");
      const distinct = [...new Set(type)];
      if (distinct.length === 1) return this.convert({ ...schema, type: distinct[0] }, path, depth + 1);
      return { oneOf: distinct.map((single) => this.convert({ ...schema, type: single }, path, depth + 1)) };
    }
    if (type === undefined) {
      const kinds = (Object.keys(KEYWORDS_BY_TYPE) as (keyof typeof KEYWORDS_BY_TYPE)[]).filter((kind) =>
        KEYWORDS_BY_TYPE[kind].some((keyword) => schema[keyword] !== undefined),
      );
      if (kinds.length === 0) return anyJson();
      // Keywords apply only to values of their type; values of that type alone are a valid subset.
      if (kinds.length === 1) return this.convert({ ...schema, type: kinds[0] }, path, depth + 1);
      return { oneOf: kinds.map((kind) => this.convert({ ...schema, type: kind }, path, depth + 1)) };
    }
    switch (type) {
      case 'string':
        return this.string(schema, path);
      case 'integer':
        return this.integer(schema, path);
      case 'number':
        return this.number(schema, path, depth);
      case 'boolean':
      case 'null':
        return { type };
      case 'array':
        return this.array(schema, path, depth);
      case 'object':
        return this.object(schema, path, depth);
      default:
        throw this.invalid(path, `'type' ${JSON.stringify(type)} is not a JSON Schema type`);
    }
  }

  private checkKeywords(schema: Json, path: Path): void {
    for (const keyword of UNSUPPORTED) {
      if (schema[keyword] !== undefined) this.unsupported(path, `'${keyword}' is not permitted`);
    }
  }

  private schemaList(schema: Json, key: string, path: Path): unknown[] {
    const list = schema[key];
    if (!Array.isArray(list) || list.length === 0)
      throw this.invalid(path, `'${key}' must be a non-empty array`);
    return list;
  }

  private string(schema: Json, path: Path): Json {
    const { min, max } = this.lengthBounds(schema, 'minLength', 'maxLength', path);
    const automata: Dfa[] = [];
    const patterns = [schema['pattern'], ...((schema[PATTERNS] as unknown[] | undefined) ?? [])];
    for (const pattern of patterns) {
      if (pattern === undefined) continue;
      if (typeof pattern !== 'string') throw this.invalid(path, "'pattern' must be a string");
      try {
        automata.push(patternDfa(pattern));
      } catch (error) {
        if (!(error instanceof UnsupportedConstraint)) throw error;
        this.unsupported(path, `'pattern' ${JSON.stringify(pattern)} cannot be enforced: ${error.message}`);
      }
    }
    const formats = [schema['format'], ...((schema[FORMATS] as unknown[] | undefined) ?? [])];
    for (const format of formats) {
      if (format === undefined) continue;
      const pattern = typeof format === 'string' ? STRING_FORMATS.get(format) : undefined;
      if (pattern === undefined) {
        this.unsupported(
          path,
          `'format' ${JSON.stringify(format)} is not supported; the supported formats are ${[...STRING_FORMATS.keys()].join(', ')}`,
        );
      } else automata.push(patternDfa(pattern));
    }
    if (automata.length === 0) {
      if (min === 0 && max === Number.POSITIVE_INFINITY) return { type: 'string' };
      return fragmentSchema(jsonStringLengthGrammar(min, max));
    }
    // Each step that fails leaves the automaton as it was (best effort), or refuses under strict.
    let automaton = automata[0]!;
    for (const next of automata.slice(1)) {
      automaton = this.narrow(automaton, () => intersectDfa(automaton, next), path, "'pattern' and 'format'");
    }
    if (min > 0 || max !== Number.POSITIVE_INFINITY) {
      automaton = this.narrow(
        automaton,
        () => limitLength(automaton, min, max),
        path,
        "'minLength'/'maxLength' with 'pattern' or 'format'",
      );
    }
    if (isEmpty(automaton)) {
      throw this.invalid(
        path,
        `'pattern' ${JSON.stringify(schema['pattern'] ?? schema['format'])} admits no string`,
      );
    }
    return fragmentSchema(jsonStringGrammar(automaton));
  }

  private narrow(current: Dfa, step: () => Dfa, path: Path, what: string): Dfa {
    let next: Dfa;
    try {
      next = step();
    } catch (error) {
      if (!(error instanceof UnsupportedConstraint)) throw error;
      this.unsupported(path, `${what} together cannot be enforced: ${error.message}`);
      return current;
    }
    if (isEmpty(next)) {
      this.unsupported(path, `${what} together admit no string`);
      return current;
    }
    return next;
  }

  private lengthBounds(
    schema: Json,
    minKey: string,
    maxKey: string,
    path: Path,
  ): { min: number; max: number } {
    const read = (key: string): number | undefined => {
      const value = schema[key];
      if (value === undefined) return undefined;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw this.invalid(path, `'${key}' must be a non-negative integer`);
      }
      return value;
    };
    const min = read(minKey) ?? 0;
    const max = read(maxKey) ?? Number.POSITIVE_INFINITY;
    if (min > max) throw this.invalid(path, `'${minKey}' is greater than '${maxKey}'`);
    return { min, max };
  }

  private numericBounds(
    schema: Json,
    path: Path,
  ): { lower?: number; upper?: number; lowerOpen: boolean; upperOpen: boolean } {
    const read = (key: string): number | undefined => {
      const value = schema[key];
      if (value === undefined) return undefined;
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw this.invalid(path, `'${key}' must be a number`);
      return value;
    };
    const minimum = read('minimum');
    const exclusiveMinimum = read('exclusiveMinimum');
    const maximum = read('maximum');
    const exclusiveMaximum = read('exclusiveMaximum');
    const lowerOpen =
      exclusiveMinimum !== undefined && (minimum === undefined || exclusiveMinimum >= minimum);
    const upperOpen =
      exclusiveMaximum !== undefined && (maximum === undefined || exclusiveMaximum <= maximum);
    const lower = lowerOpen ? exclusiveMinimum : minimum;
    const upper = upperOpen ? exclusiveMaximum : maximum;
    return {
      ...(lower !== undefined ? { lower } : {}),
      ...(upper !== undefined ? { upper } : {}),
      lowerOpen,
      upperOpen,
    };
  }

  private integer(schema: Json, path: Path): Json {
    const multipleOf = schema['multipleOf'];
    if (multipleOf !== undefined && !dividesOne(multipleOf)) {
      this.unsupported(path, "'multipleOf' is not permitted");
    }
    const { lower, upper, lowerOpen, upperOpen } = this.numericBounds(schema, path);
    if (lower === undefined && upper === undefined) return { type: 'integer' };
    const unsafe = [lower, upper].some(
      (bound) => bound !== undefined && Math.abs(bound) > Number.MAX_SAFE_INTEGER,
    );
    if (unsafe) {
      this.unsupported(path, `integer bounds beyond ±${Number.MAX_SAFE_INTEGER} are not permitted`);
      return { type: 'integer' };
    }
    const min =
      lower === undefined ? null : lowerOpen ? BigInt(Math.floor(lower)) + 1n : BigInt(Math.ceil(lower));
    const max =
      upper === undefined ? null : upperOpen ? BigInt(Math.ceil(upper)) - 1n : BigInt(Math.floor(upper));
    const grammar = integerRangeGrammar(min, max);
    if (grammar === null) throw this.invalid(path, 'the bounds admit no integer');
    return fragmentSchema({ expression: grammar, rules: [] });
  }

  private number(schema: Json, path: Path, depth: number): Json {
    const multipleOf = schema['multipleOf'];
    if (multipleOf !== undefined) {
      // Every integer is a multiple of 1, 0.5, 0.25…: integers alone are a valid subset.
      if (dividesOne(multipleOf)) return this.convert({ ...schema, type: 'integer' }, path, depth + 1);
      this.unsupported(path, "'multipleOf' is not permitted");
    }
    const { lower, upper, lowerOpen, upperOpen } = this.numericBounds(schema, path);
    if (lower === undefined && upper === undefined) return { type: 'number' };
    const min = lower === undefined ? null : lowerOpen ? nextUp(lower) : lower;
    const max = upper === undefined ? null : upperOpen ? nextDown(upper) : upper;
    const grammar = numberRangeGrammar(min, max);
    if (grammar === null) throw this.invalid(path, 'the bounds admit no number');
    return fragmentSchema({ expression: grammar, rules: [] });
  }

  private array(schema: Json, path: Path, depth: number): Json {
    let prefix: unknown[] = [];
    let items: unknown = schema['items'];
    if (Array.isArray(items)) {
      // Draft 7 tuples: `items` as a list, `additionalItems` for the rest.
      prefix = items;
      items = schema['additionalItems'];
    } else if (schema['prefixItems'] !== undefined) {
      if (!Array.isArray(schema['prefixItems'])) throw this.invalid(path, "'prefixItems' must be an array");
      prefix = schema['prefixItems'];
    }
    let { min, max } = this.lengthBounds(schema, 'minItems', 'maxItems', path);
    if (items === false) max = Math.min(max, prefix.length);
    if (min > max) throw this.invalid(path, "'minItems' admits no array with so few items");
    if (schema['uniqueItems'] === true && max > 1) this.unsupported(path, "'uniqueItems' is not permitted");
    // node-llama-cpp always writes every prefix item: past maxItems, they are left out.
    prefix = prefix.slice(0, max);
    const out: Json = { type: 'array' };
    if (prefix.length > 0) {
      out['prefixItems'] = this.inside(() =>
        prefix.map((item, index) => this.convert(item, [...path, 'prefixItems', index], depth + 1)),
      );
    }
    if (items !== false && max > prefix.length)
      out['items'] = this.inside(() => this.convert(items, [...path, 'items'], depth + 1));
    if (min > 0) out['minItems'] = min;
    if (max !== Number.POSITIVE_INFINITY) out['maxItems'] = max;
    return out;
  }

  private object(schema: Json, path: Path, depth: number): Json {
    const declared = schema['properties'] ?? {};
    if (!isObject(declared)) throw this.invalid(path, "'properties' must be an object");
    const required = schema['required'] ?? [];
    if (!Array.isArray(required) || required.some((key) => typeof key !== 'string')) {
      throw this.invalid(path, "'required' must be an array of strings");
    }
    const additional = schema['additionalProperties'];
    if (additional !== undefined && typeof additional !== 'boolean' && !isObject(additional)) {
      throw this.invalid(path, "'additionalProperties' must be a boolean or a schema");
    }
    if (this.options.closedObjects) {
      if (additional !== false) {
        throw this.invalid(path, "'additionalProperties' is required to be supplied and to be false");
      }
      const missing = Object.keys(declared).find((key) => !required.includes(key));
      if (missing !== undefined) {
        throw this.invalid(
          path,
          `'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'`,
        );
      }
    }
    const properties: Record<string, unknown> = { ...declared };
    for (const key of required as string[]) {
      if (key in properties) continue;
      if (additional === false) {
        throw this.invalid(path, `'required' names '${key}', which 'additionalProperties': false forbids`);
      }
      properties[key] = additional ?? true;
    }
    const { min, max } = this.lengthBounds(schema, 'minProperties', 'maxProperties', path);
    let keys = Object.keys(properties);
    if (keys.length > max) {
      // node-llama-cpp writes every declared property: keep the required ones, then the first others.
      const requiredKeys = keys.filter((key) => required.includes(key));
      if (requiredKeys.length > max)
        throw this.invalid(path, "'maxProperties' is less than the required properties");
      keys = [
        ...requiredKeys,
        ...keys.filter((key) => !required.includes(key)).slice(0, max - requiredKeys.length),
      ];
      keys.sort((a, b) => Object.keys(properties).indexOf(a) - Object.keys(properties).indexOf(b));
    }
    for (const key of keys) this.checkLiteral(key, [...path, 'properties']);
    if (keys.length > 0 || additional === false) {
      if (min > keys.length) {
        this.unsupported(path, "'minProperties' beyond the declared properties is not permitted");
      }
      // Writing exactly the declared properties is valid whatever additionalProperties allows.
      return {
        type: 'object',
        properties: this.inside(() =>
          Object.fromEntries(
            keys.map((key) => [key, this.convert(properties[key], [...path, 'properties', key], depth + 1)]),
          ),
        ),
      };
    }
    const out: Json = {
      type: 'object',
      additionalProperties: isObject(additional)
        ? this.inside(() => this.convert(additional, [...path, 'additionalProperties'], depth + 1))
        : true,
    };
    if (min > 0) out['minProperties'] = min;
    if (max !== Number.POSITIVE_INFINITY) out['maxProperties'] = max;
    return out;
  }

  /** Whether a `const` or `enum` value meets the schema's other keywords (it is written as it is). */
  private admits(value: unknown, schema: Json, path: Path): boolean {
    if ('const' in schema && canonical(schema['const']) !== canonical(value)) return false;
    if (
      Array.isArray(schema['enum']) &&
      !schema['enum'].some((item) => canonical(item) === canonical(value))
    ) {
      return false;
    }
    const types = typeList(schema['type']);
    if (types && !types.some((type) => hasJsonType(value, type))) return false;
    if (typeof value === 'string') {
      const { min, max } = this.lengthBounds(schema, 'minLength', 'maxLength', path);
      const length = [...value].length;
      if (length < min || length > max) return false;
      const patterns = [schema['pattern'], ...((schema[PATTERNS] as unknown[] | undefined) ?? [])];
      for (const pattern of patterns) {
        if (pattern === undefined) continue;
        const regex = typeof pattern === 'string' ? compileRegex(pattern) : undefined;
        if (!regex) throw this.invalid(path, "'pattern' must be a valid regular expression");
        if (!regex.test(value)) return false;
      }
      const formats = [schema['format'], ...((schema[FORMATS] as unknown[] | undefined) ?? [])];
      for (const format of formats) {
        if (format === undefined) continue;
        const pattern = typeof format === 'string' ? STRING_FORMATS.get(format) : undefined;
        if (pattern === undefined)
          this.unsupported(path, `'format' ${JSON.stringify(format)} is not supported`);
        else if (!new RegExp(pattern, 'u').test(value)) return false;
      }
    } else if (typeof value === 'number') {
      const { lower, upper, lowerOpen, upperOpen } = this.numericBounds(schema, path);
      if (lower !== undefined && (lowerOpen ? value <= lower : value < lower)) return false;
      if (upper !== undefined && (upperOpen ? value >= upper : value > upper)) return false;
      const multipleOf = schema['multipleOf'];
      if (typeof multipleOf === 'number' && multipleOf > 0 && !Number.isInteger(value / multipleOf))
        return false;
    } else if (value !== null && typeof value === 'object') {
      const keywords = [...KEYWORDS_BY_TYPE.object, ...KEYWORDS_BY_TYPE.array];
      if (keywords.some((keyword) => schema[keyword] !== undefined)) {
        this.unsupported(
          path,
          `an object or array in '${'const' in schema ? 'const' : 'enum'}' beside ${keywords
            .filter((keyword) => schema[keyword] !== undefined)
            .map((keyword) => `'${String(keyword)}'`)
            .join(', ')} is not permitted`,
        );
      }
    }
    return true;
  }

  /** A schema admitting exactly `value`. */
  private literal(value: unknown, path: Path): Json {
    if (Array.isArray(value)) {
      return {
        type: 'array',
        prefixItems: value.map((item) => this.literal(item, path)),
        minItems: value.length,
        maxItems: value.length,
      };
    }
    if (isObject(value)) {
      for (const key of Object.keys(value)) this.checkLiteral(key, path);
      return {
        type: 'object',
        properties: Object.fromEntries(
          Object.entries(value).map(([key, item]) => [key, this.literal(item, path)]),
        ),
      };
    }
    this.checkLiteral(value, path);
    return { const: value };
  }

  /** A string that would read as one of this module's markers is refused rather than misread. */
  private checkLiteral(value: unknown, path: Path): void {
    if (typeof value === 'string' && value.includes(MARKER)) {
      throw this.invalid(path, `the text ${JSON.stringify(MARKER)} is reserved`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // oneOf

  /**
   * A grammar writes a value of one alternative; oneOf also needs it to fail every other. That
   * holds when alternatives admit different JSON types, or all are objects that give a common
   * property different constant values (a discriminator). Anything else is refused under strict.
   */
  private checkExclusive(options: readonly unknown[], rest: Json, path: Path, depth: number): void {
    if (!this.strict) return;
    const resolved = options.map((option) =>
      isObject(option) ? this.mergeAll([rest, option], path, depth) : option,
    );
    for (let i = 0; i < resolved.length; i++) {
      for (let j = i + 1; j < resolved.length; j++) {
        if (!exclusive(resolved[i], resolved[j])) {
          throw this.invalid(
            [...path, 'oneOf'],
            `alternatives ${i} and ${j} can match the same value, so 'oneOf' cannot be enforced; use 'anyOf', or give them different types or a property with different 'const' values`,
          );
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // $ref

  private resolve(ref: unknown, path: Path): { node: unknown; path: Path } {
    if (typeof ref !== 'string' || !ref.startsWith('#')) {
      throw this.invalid(path, `'$ref' ${JSON.stringify(ref)} must point inside the schema (start with '#')`);
    }
    const pointer = ref.slice(1);
    if (pointer !== '' && !pointer.startsWith('/')) {
      throw this.invalid(path, `'$ref' ${JSON.stringify(ref)} must be a JSON pointer`);
    }
    let node: unknown = this.root;
    const parts: string[] = [];
    for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
      let part: string;
      try {
        part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      } catch {
        throw this.invalid(path, `'$ref' ${JSON.stringify(ref)} is not a valid JSON pointer`);
      }
      parts.push(part);
      node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[part] : undefined;
      if (node === undefined) throw this.invalid(path, `'$ref' ${JSON.stringify(ref)} points at nothing`);
    }
    return { node, path: parts };
  }

  /**
   * The $defs name of a referenced schema, converted once (so recursion stays finite). A schema
   * that reaches itself again before any property or item (`x = x | string`) would be a
   * left-recursive grammar, which llama.cpp refuses: convert() refuses it, naming the $ref.
   */
  private defName(node: unknown, path: Path): string {
    let name = this.defNames.get(node);
    if (name === undefined) {
      name = `d${this.defNames.size}`;
      this.defNames.set(node, name);
      this.open.add(name);
      this.defs[name] = this.convert(node, path, 0);
      this.open.delete(name);
    }
    return name;
  }

  /** Converts what lies inside an object or array: a $ref there is no longer a loop. */
  private inside<T>(convert: () => T): T {
    const open = this.open;
    this.open = new Set();
    try {
      return convert();
    } finally {
      this.open = open;
    }
  }

  // -------------------------------------------------------------------------------------------
  // allOf

  /** One schema that holds exactly when all of `schemas` do (as far as a grammar can tell). */
  private mergeAll(schemas: readonly unknown[], path: Path, depth: number): Json {
    let merged: Json = {};
    for (const schema of schemas) merged = this.merge(merged, this.flatten(schema, path, depth), path, depth);
    return merged;
  }

  /** A schema with its own `$ref` and `allOf` folded in. */
  private flatten(schema: unknown, path: Path, depth: number): Json {
    if (depth > MAX_DEPTH) throw this.invalid(path, `the schema nests deeper than ${MAX_DEPTH} levels`);
    if (schema === true || schema === undefined) return {};
    if (schema === false) throw this.invalid(path, "'allOf' holds the schema `false`, which admits no value");
    if (!isObject(schema)) throw this.invalid(path, 'a schema must be a JSON object');
    let { $ref, allOf, ...rest } = normalizeDraft4(schema);
    if (Array.isArray(rest['items'])) {
      const { items, additionalItems, ...others } = rest;
      rest = {
        ...others,
        prefixItems: items,
        ...(additionalItems !== undefined ? { items: additionalItems } : {}),
      };
    }
    let flat: Json = rest;
    if ($ref !== undefined) {
      flat = this.merge(this.flatten(this.resolve($ref, path).node, path, depth + 1), flat, path, depth);
    }
    if (allOf !== undefined) {
      for (const member of this.schemaList({ allOf }, 'allOf', path)) {
        flat = this.merge(flat, this.flatten(member, path, depth + 1), path, depth);
      }
    }
    return flat;
  }

  private merge(a: Json, b: Json, path: Path, depth: number): Json {
    const out: Json = { ...a, ...b };
    const both = (key: string) => a[key] !== undefined && b[key] !== undefined;
    const pick = (key: string, choose: (x: number, y: number) => number) => {
      if (both(key) && typeof a[key] === 'number' && typeof b[key] === 'number') {
        out[key] = choose(a[key] as number, b[key] as number);
      }
    };
    for (const key of ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'])
      pick(key, Math.max);
    for (const key of ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'])
      pick(key, Math.min);
    if (both('type')) {
      const types = intersectTypes(typeList(a['type'])!, typeList(b['type'])!);
      if (types.length === 0) throw this.invalid(path, "'allOf' members admit no common type");
      out['type'] = types.length === 1 ? types[0] : types;
    }
    if (both('const') && canonical(a['const']) !== canonical(b['const'])) {
      throw this.invalid(path, "'allOf' members have different 'const' values");
    }
    if (both('enum') && Array.isArray(a['enum']) && Array.isArray(b['enum'])) {
      const allowed = new Set((b['enum'] as unknown[]).map(canonical));
      out['enum'] = (a['enum'] as unknown[]).filter((value) => allowed.has(canonical(value)));
    }
    for (const [key, symbol] of [
      ['pattern', PATTERNS],
      ['format', FORMATS],
    ] as const) {
      const values = [
        a[key],
        b[key],
        ...((a[symbol] as unknown[]) ?? []),
        ...((b[symbol] as unknown[]) ?? []),
      ];
      const distinct = [...new Set(values.filter((value) => value !== undefined))];
      delete out[key];
      delete out[symbol];
      if (distinct.length > 0) out[key] = distinct[0];
      if (distinct.length > 1) out[symbol] = distinct.slice(1);
    }
    if (both('uniqueItems')) out['uniqueItems'] = a['uniqueItems'] === true || b['uniqueItems'] === true;
    if (both('multipleOf') && dividesOne(a['multipleOf'])) out['multipleOf'] = b['multipleOf'];
    else if (both('multipleOf')) out['multipleOf'] = a['multipleOf'];
    if (both('required') && Array.isArray(a['required']) && Array.isArray(b['required'])) {
      out['required'] = [...new Set([...a['required'], ...b['required']])];
    }
    this.mergeProperties(a, b, out, path);
    this.mergeItems(a, b, out);
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (!both(key)) continue;
      // (A1 | A2) and (B1 | B2): every pairing is an alternative.
      const left = this.schemaList(a, key, path);
      const right = this.schemaList(b, key, path);
      if (left.length * right.length > MAX_COMBINATIONS) {
        throw this.invalid(
          path,
          `'allOf' of '${key}' lists makes more than ${MAX_COMBINATIONS} alternatives`,
        );
      }
      if (key === 'oneOf') {
        this.checkExclusive(left, {}, path, depth);
        this.checkExclusive(right, {}, path, depth);
      }
      out['anyOf'] = left.flatMap((x) => right.map((y) => ({ allOf: [x, y] })));
      if (key === 'oneOf') delete out['oneOf'];
    }
    if (out['anyOf'] !== undefined && out['oneOf'] !== undefined) {
      // One each side: the pairings, as above.
      const left = this.schemaList(out, 'anyOf', path);
      const right = this.schemaList(out, 'oneOf', path);
      this.checkExclusive(right, {}, path, depth);
      if (left.length * right.length > MAX_COMBINATIONS) {
        throw this.invalid(
          path,
          `'allOf' of 'anyOf' and 'oneOf' makes more than ${MAX_COMBINATIONS} alternatives`,
        );
      }
      out['anyOf'] = left.flatMap((x) => right.map((y) => ({ allOf: [x, y] })));
      delete out['oneOf'];
    }
    return out;
  }

  private mergeProperties(a: Json, b: Json, out: Json, path: Path): void {
    const aProperties = isObject(a['properties']) ? a['properties'] : undefined;
    const bProperties = isObject(b['properties']) ? b['properties'] : undefined;
    const aExtra = a['additionalProperties'];
    const bExtra = b['additionalProperties'];
    if (!aProperties && !bProperties && aExtra === undefined && bExtra === undefined) return;
    const required = new Set(Array.isArray(out['required']) ? (out['required'] as string[]) : []);
    const properties: Record<string, unknown> = {};
    const keys = [...new Set([...Object.keys(aProperties ?? {}), ...Object.keys(bProperties ?? {})])];
    for (const key of keys) {
      // A key one side declares must also pass the other side's additionalProperties.
      const fromA = aProperties && key in aProperties ? aProperties[key] : aExtra;
      const fromB = bProperties && key in bProperties ? bProperties[key] : bExtra;
      if (fromA === false || fromB === false) {
        if (required.has(key)) {
          throw this.invalid(
            path,
            `'allOf' requires '${key}', which a member's 'additionalProperties': false forbids`,
          );
        }
        continue;
      }
      const sides = [fromA, fromB].filter((side) => side !== undefined && side !== true);
      properties[key] = sides.length === 0 ? true : sides.length === 1 ? sides[0] : { allOf: sides };
    }
    if (keys.length > 0) out['properties'] = properties;
    if (aExtra === false || bExtra === false) out['additionalProperties'] = false;
    else {
      const sides = [aExtra, bExtra].filter((side) => side !== undefined && side !== true);
      if (sides.length === 0) delete out['additionalProperties'];
      else out['additionalProperties'] = sides.length === 1 ? sides[0] : { allOf: sides };
    }
  }

  private mergeItems(a: Json, b: Json, out: Json): void {
    const aPrefix = Array.isArray(a['prefixItems']) ? (a['prefixItems'] as unknown[]) : [];
    const bPrefix = Array.isArray(b['prefixItems']) ? (b['prefixItems'] as unknown[]) : [];
    const combine = (x: unknown, y: unknown): unknown => {
      if (x === undefined || x === true) return y;
      if (y === undefined || y === true) return x;
      if (x === false || y === false) return false;
      return { allOf: [x, y] };
    };
    const length = Math.max(aPrefix.length, bPrefix.length);
    if (length > 0) {
      const prefix: unknown[] = [];
      for (let index = 0; index < length; index++) {
        prefix.push(combine(aPrefix[index] ?? a['items'], bPrefix[index] ?? b['items']));
      }
      // A `false` prefix item means the array ends before it.
      const end = prefix.indexOf(false);
      if (end >= 0) {
        out['prefixItems'] = prefix.slice(0, end);
        out['items'] = false;
        return;
      }
      out['prefixItems'] = prefix;
    }
    const items = combine(a['items'], b['items']);
    if (items === undefined) delete out['items'];
    else out['items'] = items;
  }
}

/** A schema the compiler writes as the marked constant tightenNumberRules replaces by `fragment`. */
function fragmentSchema(fragment: GrammarFragment): Json {
  return { const: `${MARKER}${Buffer.from(JSON.stringify(fragment), 'utf8').toString('base64url')}>>` };
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

/** Draft 4 wrote exclusive bounds as booleans beside minimum/maximum. */
function normalizeDraft4(schema: Json): Json {
  if (typeof schema['exclusiveMinimum'] !== 'boolean' && typeof schema['exclusiveMaximum'] !== 'boolean') {
    return schema;
  }
  const out: Json = { ...schema };
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[exclusive] !== 'boolean') continue;
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else delete out[exclusive];
  }
  return out;
}

/** Whether a schema says anything beyond annotations (so a $ref beside it needs merging). */
function hasConstraints(schema: Json): boolean {
  const annotations = new Set([
    'title',
    'description',
    'default',
    'examples',
    '$comment',
    'deprecated',
    'readOnly',
    'writeOnly',
    '$schema',
    '$id',
    '$anchor',
    '$defs',
    'definitions',
  ]);
  return Object.keys(schema).some((key) => !annotations.has(key));
}

function typeList(type: unknown): string[] | undefined {
  if (type === undefined) return undefined;
  return (Array.isArray(type) ? type : [type]).filter((entry): entry is string => typeof entry === 'string');
}

function intersectTypes(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a) {
    for (const y of b) {
      if (x === y) out.add(x);
      else if ((x === 'integer' && y === 'number') || (x === 'number' && y === 'integer')) out.add('integer');
    }
  }
  return [...out];
}

/** Whether a JSON value is of a JSON Schema `type` (an unknown type: false). */
export function hasJsonType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      return false;
  }
}

/** `multipleOf` values every integer satisfies: 1, 0.5, 0.25, 0.1… */
function dividesOne(value: unknown): boolean {
  return typeof value === 'number' && value > 0 && Number.isInteger(1 / value);
}

/** The JSON kinds a schema admits, or undefined when that is not plain from it. */
function kindsOf(schema: unknown): Set<string> | undefined {
  if (!isObject(schema) || schema['anyOf'] !== undefined || schema['oneOf'] !== undefined) return undefined;
  const values =
    'const' in schema ? [schema['const']] : Array.isArray(schema['enum']) ? schema['enum'] : undefined;
  if (values)
    return new Set(
      values.map((value) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value)),
    );
  const types = typeList(schema['type']);
  if (!types) return undefined;
  return new Set(types.map((type) => (type === 'integer' ? 'number' : type)));
}

/** Whether no value can satisfy both schemas, by the cheap tests oneOf needs. */
function exclusive(a: unknown, b: unknown): boolean {
  const aKinds = kindsOf(a);
  const bKinds = kindsOf(b);
  if (aKinds && bKinds && [...aKinds].every((kind) => !bKinds.has(kind))) return true;
  const constants = (schema: unknown): Set<string> | undefined => {
    if (!isObject(schema)) return undefined;
    if ('const' in schema) return new Set([canonical(schema['const'])]);
    if (Array.isArray(schema['enum'])) return new Set(schema['enum'].map(canonical));
    return undefined;
  };
  const disjoint = (x: Set<string> | undefined, y: Set<string> | undefined) =>
    x !== undefined && y !== undefined && [...x].every((value) => !y.has(value));
  if (disjoint(constants(a), constants(b))) return true;
  // Objects with a discriminator: every declared property is written, so its value tells them apart.
  if (isObject(a) && isObject(b) && isObject(a['properties']) && isObject(b['properties'])) {
    const bProperties = b['properties'];
    return Object.entries(a['properties']).some(
      ([key, schema]) => key in bProperties && disjoint(constants(schema), constants(bProperties[key])),
    );
  }
  return false;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A pattern as ECMAScript reads it: with the `u` flag as JSON Schema validators use, else without. */
function compileRegex(pattern: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(pattern, flags);
    } catch {
      // Tried without the `u` flag next.
    }
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
