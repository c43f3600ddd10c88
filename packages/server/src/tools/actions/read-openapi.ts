// An OpenAPI 3.0 or 3.1 document → the operations of an action, each with the function tool a
// model calls: a name (operationId, or one made from the method and path), a description, and
// one JSON Schema for its arguments that merges the parameters (path, query, header, cookie) and
// the JSON body. Problems that make the document unusable are errors naming what and where;
// smaller ones (an operation whose body is not JSON) leave that operation out with a warning.

import { createHash } from 'node:crypto';
import type { ToolDefinition } from '../../inference/spec.js';
import { ActionDocumentError } from './action-errors.js';
import { createRefs, type JsonSchema, type Refs } from './openapi-refs.js';
import { isPlainObject } from './parse-document.js';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

export interface ActionParameter {
  readonly name: string;
  readonly in: ParameterLocation;
  readonly required: boolean;
  readonly description: string | null;
  readonly schema: JsonSchema;
  /** OpenAPI serialization: `simple`, `form`, `deepObject`, … (defaults per location). */
  readonly style: string;
  readonly explode: boolean;
  /** Sent as JSON text (a parameter described with `content` instead of `schema`). */
  readonly json: boolean;
  /** The property of the tool's arguments that holds this parameter. */
  readonly argument: string;
}

export interface ActionRequestBody {
  readonly contentType: 'application/json' | 'application/x-www-form-urlencoded';
  readonly required: boolean;
  readonly description: string | null;
  readonly schema: JsonSchema;
  /** null: the body's properties are top-level arguments; else the argument holding the body. */
  readonly argument: string | null;
}

export interface ActionOperation {
  /** The function tool's name: unique in the action, 1-64 of [a-zA-Z0-9_-]. */
  readonly name: string;
  readonly operationId: string | null;
  readonly method: HttpMethod;
  /** The path template, e.g. `/forecast/{city}`. */
  readonly path: string;
  /** Where requests go: the operation's, path's or document's first server, without a trailing `/`. */
  readonly serverUrl: string;
  readonly summary: string | null;
  readonly description: string | null;
  readonly parameters: readonly ActionParameter[];
  readonly requestBody: ActionRequestBody | null;
  /** Always ask the user before sending: `x-openai-isConsequential`, or by default every method but GET. */
  readonly consequential: boolean;
  /** `x-openai-isConsequential` as written, or null when the operation does not say. */
  readonly consequentialFlag: boolean | null;
  readonly deprecated: boolean;
  readonly tool: ToolDefinition;
}

export interface ActionSpec {
  readonly openapiVersion: string;
  readonly title: string;
  readonly description: string | null;
  readonly version: string | null;
  /** The one host every operation calls: what consent is asked for. */
  readonly domain: string;
  readonly serverUrl: string;
  readonly operations: readonly ActionOperation[];
  /** Operations or parts left out, in words for the builder. */
  readonly warnings: readonly string[];
}

export const MAX_TOOL_NAME_LENGTH = 64;
const MAX_DESCRIPTION_LENGTH = 1024;
const MAX_OPERATIONS = 256;
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

export interface ReadOpenApiOptions {
  /** Where the document came from: relative server URLs are resolved against it. */
  readonly sourceUrl?: string | undefined;
}

export function readOpenApi(
  document: unknown,
  { sourceUrl = undefined }: ReadOpenApiOptions = {},
): ActionSpec {
  if (!isPlainObject(document)) {
    throw new ActionDocumentError('The document is not an OpenAPI object.');
  }
  if ('swagger' in document) {
    throw new ActionDocumentError(
      `Swagger ${String(document['swagger'])} documents are not supported: convert it to OpenAPI 3 (for example with swagger2openapi) and import that.`,
      { code: 'unsupported_openapi_version' },
    );
  }
  const version = document['openapi'];
  if (version === undefined) {
    throw new ActionDocumentError(
      'The document has no "openapi" field: it is not an OpenAPI 3 document (or a ChatGPT plugin manifest).',
      { code: 'unsupported_openapi_version' },
    );
  }
  if (typeof version !== 'string' || !/^3\.[01]\.\d+(-[\w.]+)?$/.test(version)) {
    throw new ActionDocumentError(
      `OpenAPI version ${JSON.stringify(version)} is not supported: actions read OpenAPI 3.0 and 3.1.`,
      { code: 'unsupported_openapi_version' },
    );
  }
  const info = document['info'];
  if (!isPlainObject(info) || typeof info['title'] !== 'string' || info['title'].trim() === '') {
    throw new ActionDocumentError('The document has no info.title: name the API there.');
  }
  const refs = createRefs(document);
  const rootServer = serverOf(document['servers'], 'servers', { sourceUrl, refs });
  if (rootServer === null) {
    throw new ActionDocumentError(
      'The document has no servers: add one, e.g. `servers: [{ url: "https://api.example.com" }]`, so the action knows where to send requests.',
      { code: 'missing_servers' },
    );
  }
  const paths = document['paths'];
  if (!isPlainObject(paths) || Object.keys(paths).length === 0) {
    throw new ActionDocumentError('The document has no paths: there is no operation to call.', {
      code: 'no_operations',
    });
  }

  const warnings: string[] = [];
  const drafts: OperationDraft[] = [];
  const operationIds = new Map<string, string>();
  for (const [path, rawItem] of Object.entries(paths)) {
    if (path.startsWith('x-')) continue;
    if (!path.startsWith('/')) {
      throw new ActionDocumentError(`The path "${path}" must start with "/".`, { code: 'invalid_path' });
    }
    const item = refs.deref(rawItem, `paths.${path}`);
    if (!isPlainObject(item)) {
      throw new ActionDocumentError(`paths.${path} is not an object.`);
    }
    const pathServer = serverOf(item['servers'], `paths.${path}.servers`, { sourceUrl, refs });
    // In the document's order: the builder sees the operations as written.
    const methods = Object.keys(item).filter((key): key is HttpMethod =>
      (HTTP_METHODS as readonly string[]).includes(key),
    );
    for (const method of methods) {
      const operation = item[method];
      const where = `${method.toUpperCase()} ${path}`;
      if (!isPlainObject(operation)) throw new ActionDocumentError(`${where} is not an object.`);
      const operationId = operation['operationId'];
      if (operationId !== undefined) {
        if (typeof operationId !== 'string' || operationId.trim() === '') {
          throw new ActionDocumentError(`The operationId of ${where} is not a non-empty string.`);
        }
        const previous = operationIds.get(operationId);
        if (previous !== undefined) {
          throw new ActionDocumentError(
            `The operationId "${operationId}" is used twice (${previous} and ${where}); operation ids must be unique.`,
            { code: 'duplicate_operation_id' },
          );
        }
        operationIds.set(operationId, where);
      }
      const server =
        serverOf(operation['servers'], `${where} servers`, { sourceUrl, refs }) ?? pathServer ?? rootServer;
      const draft = readOperation({
        operation,
        method,
        path,
        where,
        serverUrl: server,
        pathParameters: item['parameters'],
        refs,
        warnings,
      });
      if (draft) drafts.push(draft);
    }
  }
  if (drafts.length === 0) {
    throw new ActionDocumentError(
      warnings.length > 0
        ? `None of the document's operations can be called: ${warnings.join(' ')}`
        : 'The document has no operations under its paths.',
      { code: 'no_operations' },
    );
  }
  if (drafts.length > MAX_OPERATIONS) {
    throw new ActionDocumentError(
      `The document has ${drafts.length} operations; an action may have at most ${MAX_OPERATIONS}. Split it into several actions.`,
      { code: 'too_many_operations' },
    );
  }
  const domain = new URL(rootServer).hostname;
  const elsewhere = drafts.find((draft) => new URL(draft.serverUrl).hostname !== domain);
  if (elsewhere) {
    throw new ActionDocumentError(
      `All operations of an action must call one domain, but ${elsewhere.method.toUpperCase()} ${elsewhere.path} calls ${new URL(elsewhere.serverUrl).hostname} and the document's server is ${domain}. Split it into one action per domain.`,
      { code: 'multiple_domains' },
    );
  }
  const names = uniqueNames(drafts);
  return {
    openapiVersion: version,
    title: info['title'].trim(),
    description: typeof info['description'] === 'string' ? info['description'] : null,
    version: typeof info['version'] === 'string' ? info['version'] : null,
    domain,
    serverUrl: rootServer,
    operations: drafts.map((draft, index) => finishOperation(draft, names[index]!)),
    warnings,
  };
}

type OperationDraft = Omit<ActionOperation, 'name' | 'tool'>;

function readOperation({
  operation,
  method,
  path,
  where,
  serverUrl,
  pathParameters,
  refs,
  warnings,
}: {
  operation: Record<string, unknown>;
  method: HttpMethod;
  path: string;
  where: string;
  serverUrl: string;
  pathParameters: unknown;
  refs: Refs;
  warnings: string[];
}): OperationDraft | null {
  // Path-level parameters apply unless the operation redefines the same name and location.
  const byKey = new Map<string, Record<string, unknown>>();
  for (const [list, label] of [
    [pathParameters, `paths.${path}.parameters`],
    [operation['parameters'], `${where} parameters`],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new ActionDocumentError(`${label} is not a list.`);
    list.forEach((raw, index) => {
      const parameter = refs.deref(raw, `${label}[${index}]`);
      if (!isPlainObject(parameter) || typeof parameter['name'] !== 'string') {
        throw new ActionDocumentError(`${label}[${index}] is not a parameter with a name.`);
      }
      byKey.set(`${parameter['in']}:${parameter['name']}`, parameter);
    });
  }
  const parameters: Omit<ActionParameter, 'argument'>[] = [];
  for (const parameter of byKey.values()) {
    const name = parameter['name'] as string;
    const location = parameter['in'];
    if (location !== 'path' && location !== 'query' && location !== 'header' && location !== 'cookie') {
      throw new ActionDocumentError(
        `The parameter "${name}" of ${where} is in ${JSON.stringify(location)}; it must be in path, query, header or cookie.`,
      );
    }
    if (location === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
    if (location === 'path' && !path.includes(`{${name}}`)) {
      warnings.push(`${where}: the path parameter "${name}" does not appear in the path; it is left out.`);
      continue;
    }
    const described = `the parameter "${name}" of ${where}`;
    let schema: JsonSchema;
    let json = false;
    if (parameter['schema'] !== undefined) {
      schema = refs.requestSchema(parameter['schema'], described);
    } else if (isPlainObject(parameter['content'])) {
      const media = Object.values(parameter['content'])[0];
      schema = refs.requestSchema(isPlainObject(media) ? media['schema'] : undefined, described);
      json = true;
    } else {
      schema = { type: 'string' };
    }
    const style =
      typeof parameter['style'] === 'string'
        ? parameter['style']
        : location === 'query' || location === 'cookie'
          ? 'form'
          : 'simple';
    parameters.push({
      name,
      in: location,
      required: location === 'path' || parameter['required'] === true,
      description: typeof parameter['description'] === 'string' ? parameter['description'] : null,
      schema,
      style,
      explode: typeof parameter['explode'] === 'boolean' ? parameter['explode'] : style === 'form',
      json,
    });
  }
  for (const match of path.matchAll(/\{([^}]+)\}/g)) {
    const name = match[1]!;
    if (!parameters.some((parameter) => parameter.in === 'path' && parameter.name === name)) {
      // Common in hand-written documents: treat the placeholder as a required string.
      warnings.push(
        `${where}: the path placeholder {${name}} has no parameter; it is taken as a required string.`,
      );
      parameters.push({
        name,
        in: 'path',
        required: true,
        description: null,
        schema: { type: 'string' },
        style: 'simple',
        explode: false,
        json: false,
      });
    }
  }

  let requestBody: Omit<ActionRequestBody, 'argument'> | null = null;
  if (operation['requestBody'] !== undefined) {
    const body = refs.deref(operation['requestBody'], `${where} requestBody`);
    if (!isPlainObject(body) || !isPlainObject(body['content'])) {
      throw new ActionDocumentError(`The requestBody of ${where} has no content.`);
    }
    const types = Object.keys(body['content']);
    const jsonType = types.find((type) => /^application\/([\w.-]+\+)?json\b/i.test(type) || type === '*/*');
    const formType = types.find((type) => /^application\/x-www-form-urlencoded\b/i.test(type));
    const chosen = jsonType ?? formType;
    const required = body['required'] === true;
    if (chosen === undefined) {
      const what = `${where}: request bodies of type ${types.join(', ') || '(none)'} are not supported (only JSON and form data)`;
      if (required) {
        warnings.push(`${what}; the operation is left out.`);
        return null;
      }
      warnings.push(`${what}; the operation is called without a body.`);
    } else {
      const media = body['content'][chosen];
      requestBody = {
        contentType: chosen === jsonType ? 'application/json' : 'application/x-www-form-urlencoded',
        required,
        description: typeof body['description'] === 'string' ? body['description'] : null,
        schema: refs.requestSchema(
          isPlainObject(media) ? media['schema'] : undefined,
          `the request body of ${where}`,
        ),
      };
    }
  }

  const flag = operation['x-openai-isConsequential'];
  const operationId = typeof operation['operationId'] === 'string' ? operation['operationId'] : null;
  const { parameters: placed, requestBody: placedBody } = placeArguments(parameters, requestBody);
  return {
    operationId,
    method,
    path,
    serverUrl,
    summary: typeof operation['summary'] === 'string' ? operation['summary'] : null,
    description: typeof operation['description'] === 'string' ? operation['description'] : null,
    parameters: placed,
    requestBody: placedBody,
    consequential: typeof flag === 'boolean' ? flag : method !== 'get',
    consequentialFlag: typeof flag === 'boolean' ? flag : null,
    deprecated: operation['deprecated'] === true,
  };
}

/** Gives each parameter and the body the argument names they take in the tool's schema. */
function placeArguments(
  parameters: readonly Omit<ActionParameter, 'argument'>[],
  body: Omit<ActionRequestBody, 'argument'> | null,
): { parameters: ActionParameter[]; requestBody: ActionRequestBody | null } {
  const taken = new Set<string>();
  const placed = parameters.map((parameter) => {
    // The same name in two locations (an `id` in the path and in a header): the later one says where.
    let argument = taken.has(parameter.name) ? `${parameter.name}_${parameter.in}` : parameter.name;
    while (taken.has(argument)) argument = `${argument}_`;
    taken.add(argument);
    return { ...parameter, argument };
  });
  if (!body) return { parameters: placed, requestBody: null };
  const properties = body.schema['properties'];
  const mergeable =
    isPlainObject(properties) &&
    (body.schema['type'] === 'object' || body.schema['type'] === undefined) &&
    !['allOf', 'anyOf', 'oneOf', 'not', 'if'].some((keyword) => keyword in body.schema) &&
    Object.keys(properties).every((name) => !taken.has(name));
  if (mergeable) return { parameters: placed, requestBody: { ...body, argument: null } };
  let argument = 'requestBody';
  while (taken.has(argument)) argument = `${argument}_`;
  return { parameters: placed, requestBody: { ...body, argument } };
}

function finishOperation(draft: OperationDraft, name: string): ActionOperation {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const parameter of draft.parameters) {
    const description = parameter.description ?? parameter.schema['description'];
    properties[parameter.argument] = {
      ...parameter.schema,
      ...(typeof description === 'string' ? { description } : {}),
    };
    if (parameter.required) required.push(parameter.argument);
  }
  const body = draft.requestBody;
  if (body && body.argument === null) {
    Object.assign(properties, body.schema['properties']);
    const bodyRequired = body.schema['required'];
    if (Array.isArray(bodyRequired)) {
      required.push(...bodyRequired.filter((item): item is string => typeof item === 'string'));
    }
  } else if (body && body.argument !== null) {
    properties[body.argument] = {
      ...body.schema,
      ...(body.description ? { description: body.description } : {}),
    };
    if (body.required) required.push(body.argument);
  }
  const parameters: JsonSchema = { type: 'object', properties };
  if (required.length > 0) parameters['required'] = [...new Set(required)];
  const description = [draft.summary, draft.description]
    .filter((part): part is string => typeof part === 'string' && part.trim() !== '')
    .map((part) => part.trim())
    .filter((part, index, parts) => index === 0 || part !== parts[0])
    .join('\n\n');
  return {
    ...draft,
    name,
    tool: {
      name,
      ...(description ? { description: truncate(description, MAX_DESCRIPTION_LENGTH) } : {}),
      parameters,
    },
  };
}

/** One tool name per operation: the operationId, or method and path, made valid and unique. */
function uniqueNames(drafts: readonly OperationDraft[]): string[] {
  const used = new Set<string>();
  return drafts.map((draft) => {
    const base = toolName(draft);
    let name = base;
    for (let suffix = 2; used.has(name); suffix++) {
      const tail = `_${suffix}`;
      name = base.slice(0, MAX_TOOL_NAME_LENGTH - tail.length) + tail;
    }
    used.add(name);
    return name;
  });
}

function toolName(draft: OperationDraft): string {
  const fromId = draft.operationId?.replace(/[^a-zA-Z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') ?? '';
  const source = fromId || `${draft.method}_${draft.path}`;
  const name = (fromId || `${draft.method}_${draft.path.replace(/[{}]/g, '')}`)
    .replace(/[^a-zA-Z0-9_-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name.length <= MAX_TOOL_NAME_LENGTH) return name || draft.method;
  // Long names keep their start and a short hash of the whole, so they stay distinct.
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_TOOL_NAME_LENGTH - 9)}_${hash}`;
}

/** The first server's URL with its variables filled in, absolute and without a trailing `/`; null when there is none. */
function serverOf(
  servers: unknown,
  where: string,
  { sourceUrl, refs }: { sourceUrl: string | undefined; refs: Refs },
): string | null {
  if (servers === undefined) return null;
  if (!Array.isArray(servers)) throw new ActionDocumentError(`${where} is not a list.`);
  if (servers.length === 0) return null;
  const server = refs.deref(servers[0], `${where}[0]`);
  if (!isPlainObject(server) || typeof server['url'] !== 'string' || server['url'].trim() === '') {
    throw new ActionDocumentError(`${where}[0] has no url.`, { code: 'missing_servers' });
  }
  const variables = isPlainObject(server['variables']) ? server['variables'] : {};
  const filled = server['url'].trim().replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const variable = variables[name];
    const fallback = isPlainObject(variable) ? variable['default'] : undefined;
    if (typeof fallback !== 'string') {
      throw new ActionDocumentError(
        `The server URL ${server['url']} uses {${name}}, which has no default value in ${where}[0].variables.`,
        { code: 'missing_servers' },
      );
    }
    return fallback;
  });
  let url: URL;
  try {
    url = sourceUrl === undefined ? new URL(filled) : new URL(filled, sourceUrl);
  } catch {
    throw new ActionDocumentError(
      sourceUrl === undefined && !/^[a-z][a-z0-9+.-]*:/i.test(filled)
        ? `The server URL "${filled}" is relative, and the document was not fetched from a URL to resolve it against: give an absolute URL (https://…).`
        : `The server URL "${filled}" is not a valid URL.`,
      { code: 'missing_servers' },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ActionDocumentError(`The server URL "${filled}" must be http:// or https://.`, {
      code: 'missing_servers',
    });
  }
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
