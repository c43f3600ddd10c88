// `$ref`s of an OpenAPI document, resolved within the document (external files are not fetched),
// and OpenAPI schemas turned into the plain JSON Schema a function tool's parameters need:
// references inlined, recursion cut where it repeats, OpenAPI-only keywords (nullable, readOnly,
// discriminator, x-…) translated or dropped.

import { ActionDocumentError } from './action-errors.js';
import { isPlainObject } from './parse-document.js';

export type JsonSchema = Record<string, unknown>;

/** Schema nodes one operation's parameters may expand into (refs shared many times multiply). */
const MAX_SCHEMA_NODES = 20_000;
const MAX_SCHEMA_DEPTH = 64;

/** Keywords whose value is one schema. */
const SCHEMA_VALUED = new Set([
  'items',
  'additionalProperties',
  'not',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'additionalItems',
]);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
/** OpenAPI or bookkeeping keywords a model's JSON Schema does without. */
const DROPPED = new Set([
  'discriminator',
  'xml',
  'externalDocs',
  'nullable',
  'readOnly',
  'writeOnly',
  'example',
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$dynamicRef',
  '$comment',
  '$defs',
  'definitions',
]);

export interface Refs {
  /** The object `node` is, following `$ref`s (a chain of them too); `where` names it in errors. */
  deref(node: unknown, where: string): unknown;
  /** `schema` as self-contained JSON Schema for a request (readOnly properties left out). */
  requestSchema(schema: unknown, where: string): JsonSchema;
}

export function createRefs(document: Record<string, unknown>): Refs {
  const lookup = (ref: unknown, where: string): unknown => {
    if (typeof ref !== 'string') {
      throw new ActionDocumentError(`The $ref at ${where} is not a string.`, { code: 'invalid_ref' });
    }
    if (!ref.startsWith('#')) {
      throw new ActionDocumentError(
        `The $ref "${ref}" at ${where} points outside this document; only references inside it (#/components/…) are supported. Bundle the document into one file.`,
        { code: 'invalid_ref' },
      );
    }
    let node: unknown = document;
    const pointer = ref.slice(1);
    if (pointer !== '' && !pointer.startsWith('/')) {
      throw new ActionDocumentError(`The $ref "${ref}" at ${where} is not a JSON pointer (#/…).`, {
        code: 'invalid_ref',
      });
    }
    for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
      let token: string;
      try {
        token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      } catch {
        token = raw;
      }
      const next =
        Array.isArray(node) && /^\d+$/.test(token)
          ? node[Number(token)]
          : isPlainObject(node) && Object.hasOwn(node, token)
            ? node[token]
            : undefined;
      if (next === undefined) {
        throw new ActionDocumentError(`The $ref "${ref}" at ${where} points to nothing in this document.`, {
          code: 'invalid_ref',
        });
      }
      node = next;
    }
    return node;
  };

  const deref = (node: unknown, where: string): unknown => {
    const seen: string[] = [];
    let current = node;
    let at = where;
    while (isPlainObject(current) && '$ref' in current) {
      const ref = current['$ref'];
      if (typeof ref === 'string' && seen.includes(ref)) {
        throw new ActionDocumentError(
          `The $ref "${ref}" at ${where} is circular: it refers back to itself.`,
          {
            code: 'invalid_ref',
          },
        );
      }
      if (typeof ref === 'string') seen.push(ref);
      current = lookup(ref, at);
      at = String(ref);
    }
    return current;
  };

  const requestSchema = (schema: unknown, where: string): JsonSchema => {
    let nodes = 0;
    const convert = (node: unknown, at: string, expanding: readonly string[], depth: number): JsonSchema => {
      if (++nodes > MAX_SCHEMA_NODES || depth > MAX_SCHEMA_DEPTH) {
        throw new ActionDocumentError(
          `The schema at ${where} is too large once its $refs are expanded (more than ${MAX_SCHEMA_NODES} parts or ${MAX_SCHEMA_DEPTH} levels deep).`,
          { code: 'schema_too_large' },
        );
      }
      // OpenAPI 3.1 allows boolean schemas.
      if (node === true || node === undefined) return {};
      if (node === false) return { not: {} };
      if (!isPlainObject(node)) {
        throw new ActionDocumentError(`The schema at ${at} is not an object.`, { code: 'invalid_schema' });
      }
      if ('$ref' in node) {
        const ref = node['$ref'];
        const { $ref: _ref, ...siblings } = node;
        let target: JsonSchema;
        if (typeof ref === 'string' && expanding.includes(ref)) {
          // A recursive structure (a tree, a linked list): described once, not expanded forever.
          target = { description: `(recursive: the same structure as ${refName(ref)})` };
        } else {
          target = convert(lookup(ref, at), String(ref), [...expanding, String(ref)], depth + 1);
        }
        // 3.1 lets keywords sit beside a $ref (a description, say): they refine the target.
        return Object.keys(siblings).length === 0
          ? target
          : { ...target, ...convert(siblings, at, expanding, depth + 1) };
      }
      const out: JsonSchema = {};
      for (const [key, value] of Object.entries(node)) {
        if (key.startsWith('x-') || DROPPED.has(key)) continue;
        if (SCHEMA_VALUED.has(key)) {
          out[key] =
            typeof value === 'boolean' ? value : convert(value, `${at}/${key}`, expanding, depth + 1);
        } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
          out[key] = value.map((item, index) => convert(item, `${at}/${key}/${index}`, expanding, depth + 1));
        } else if (SCHEMA_MAPS.has(key) && isPlainObject(value)) {
          const map: Record<string, JsonSchema> = {};
          for (const [name, item] of Object.entries(value)) {
            // Properties the server sets itself (ids, timestamps) are not the caller's to send.
            if (
              key === 'properties' &&
              isPlainObject(item) &&
              readOnly(deref(item, `${at}/properties/${name}`))
            )
              continue;
            map[name] = convert(item, `${at}/${key}/${name}`, expanding, depth + 1);
          }
          out[key] = map;
        } else {
          out[key] = structuredClone(value);
        }
      }
      if (Array.isArray(out['required']) && isPlainObject(out['properties'])) {
        const properties = out['properties'];
        const declared = isPlainObject(node['properties']) ? node['properties'] : {};
        // Drop required names only when they were removed as readOnly (not merely undeclared).
        out['required'] = out['required'].filter(
          (name) => typeof name !== 'string' || name in properties || !(name in declared),
        );
      }
      if (node['nullable'] === true) {
        // OpenAPI 3.0's nullable is JSON Schema's type union with "null".
        const type = out['type'];
        if (typeof type === 'string') out['type'] = [type, 'null'];
        if (Array.isArray(out['enum']) && !out['enum'].includes(null)) out['enum'] = [...out['enum'], null];
      }
      if ('example' in node && !('examples' in node) && node['example'] !== undefined) {
        out['examples'] = [structuredClone(node['example'])];
      }
      return out;
    };
    return convert(schema, where, [], 0);
  };

  return { deref, requestSchema };
}

function readOnly(node: unknown): boolean {
  return isPlainObject(node) && node['readOnly'] === true;
}

/** `Node` for `#/components/schemas/Node`. */
function refName(ref: string): string {
  return ref.split('/').pop() || ref;
}
