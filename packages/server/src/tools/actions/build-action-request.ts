// A model's arguments for one operation → the HTTP request: path parameters encoded into the
// template (never able to add or climb path segments), query, header and cookie parameters
// serialized as OpenAPI's styles say, and the JSON (or form) body. Credentials are added later,
// by the caller, after the user saw this request's preview.

import { ActionArgumentsError } from './action-errors.js';
import { isPlainObject } from './parse-document.js';
import type { ActionOperation, ActionParameter } from './read-openapi.js';

export interface ActionRequest {
  /** Upper case. */
  readonly method: string;
  readonly url: string;
  /** Lower-case names: accept, content-type and the operation's header and cookie parameters. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  /** The body as the arguments gave it (for the consent preview), or null without one. */
  readonly bodyValue: unknown;
}

export function buildActionRequest({
  operation,
  arguments: raw,
}: {
  operation: ActionOperation;
  /** The model's arguments: a JSON string as in a tool call, or the parsed object. */
  arguments: unknown;
}): ActionRequest {
  const args = argumentObject(raw);
  const required = operation.tool.parameters['required'];
  const missing = (Array.isArray(required) ? required : []).filter(
    (name): name is string => typeof name === 'string' && (args[name] === undefined || args[name] === null),
  );
  if (missing.length > 0) {
    throw new ActionArgumentsError(
      `${operation.name} needs ${missing.map((name) => `"${name}"`).join(', ')}: call it again with ${missing.length === 1 ? 'that argument' : 'those arguments'}.`,
    );
  }

  let path = operation.path;
  const query: string[] = [];
  const headers: Record<string, string> = { accept: 'application/json, */*;q=0.8' };
  const cookies: string[] = [];
  for (const parameter of operation.parameters) {
    const value = args[parameter.argument];
    if (value === undefined || value === null) continue;
    switch (parameter.in) {
      case 'path':
        path = path.replaceAll(`{${parameter.name}}`, pathValue(parameter, value));
        break;
      case 'query':
        query.push(...queryPairs(parameter, value));
        break;
      case 'header': {
        const text = parameter.json
          ? JSON.stringify(value)
          : simpleValue(value, parameter.explode, (part) => part);
        if (/[\r\n\0]/.test(text)) {
          throw new ActionArgumentsError(
            `The header argument "${parameter.argument}" contains a line break.`,
          );
        }
        headers[parameter.name.toLowerCase()] = text;
        break;
      }
      case 'cookie':
        cookies.push(
          `${parameter.name}=${encodeURIComponent(parameter.json ? JSON.stringify(value) : simpleValue(value, false, (part) => part))}`,
        );
        break;
    }
  }
  if (cookies.length > 0) headers['cookie'] = cookies.join('; ');

  const base = new URL(operation.serverUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const expectedPath = `${basePath}${path}`;
  const url = new URL(`${base.origin}${expectedPath}${query.length > 0 ? `?${query.join('&')}` : ''}`);
  // "." and ".." (also as %2e) would be folded by URL parsing, moving the request elsewhere on
  // the host.
  const dotSegment = expectedPath
    .split('/')
    .some((segment) => ['.', '..'].includes(segment.toLowerCase().replaceAll('%2e', '.')));
  if (dotSegment || url.origin !== base.origin) {
    throw new ActionArgumentsError(
      `The path arguments of ${operation.name} must not be "." or "..": they would change which path is called.`,
    );
  }

  let body: string | null = null;
  let bodyValue: unknown = null;
  const requestBody = operation.requestBody;
  if (requestBody) {
    bodyValue = requestBody.argument === null ? mergedBody(operation, args) : args[requestBody.argument];
    if (typeof bodyValue === 'string' && requestBody.contentType === 'application/json') {
      // Models sometimes send the body object as JSON text.
      const parsed = tryParseJson(bodyValue);
      if (parsed !== undefined && typeof parsed === 'object') bodyValue = parsed;
    }
    if (
      bodyValue === undefined ||
      (requestBody.argument === null && isEmptyObject(bodyValue) && !requestBody.required)
    ) {
      bodyValue = null;
    }
    if (bodyValue !== null) {
      headers['content-type'] = requestBody.contentType;
      body = requestBody.contentType === 'application/json' ? JSON.stringify(bodyValue) : formBody(bodyValue);
    }
  }
  return { method: operation.method.toUpperCase(), url: url.href, headers, body, bodyValue };
}

/** The arguments object from a tool call's JSON text (or an object already parsed). */
export function argumentObject(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    value = tryParseJson(raw);
    if (value === undefined) {
      throw new ActionArgumentsError('The arguments are not valid JSON: send one JSON object.');
    }
  }
  if (!isPlainObject(value)) throw new ActionArgumentsError('The arguments must be a JSON object.');
  return value;
}

function mergedBody(operation: ActionOperation, args: Record<string, unknown>): Record<string, unknown> {
  const schema = operation.requestBody!.schema;
  const declared = isPlainObject(schema['properties']) ? Object.keys(schema['properties']) : [];
  const extra = schema['additionalProperties'];
  const parameterArguments = new Set(operation.parameters.map((parameter) => parameter.argument));
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    if (parameterArguments.has(name) || value === undefined) continue;
    // Only what the schema declares, unless it explicitly takes more: a model's invented
    // arguments are not sent on to the API.
    if (declared.includes(name) || (extra !== undefined && extra !== false)) body[name] = value;
  }
  return body;
}

function pathValue(parameter: ActionParameter, value: unknown): string {
  const encode = (part: string) => encodeURIComponent(part);
  if (parameter.json) return encode(JSON.stringify(value));
  const text = simpleValue(value, parameter.explode, encode);
  if (parameter.style === 'label') return `.${text}`;
  if (parameter.style === 'matrix') return `;${encode(parameter.name)}=${text}`;
  return text;
}

/** OpenAPI's `simple` style: arrays and objects as comma-separated lists. */
function simpleValue(value: unknown, explode: boolean, encode: (part: string) => string): string {
  if (Array.isArray(value)) return value.map((item) => encode(scalar(item))).join(',');
  if (isPlainObject(value)) {
    return Object.entries(value)
      .map(([key, item]) =>
        explode ? `${encode(key)}=${encode(scalar(item))}` : `${encode(key)},${encode(scalar(item))}`,
      )
      .join(',');
  }
  return encode(scalar(value));
}

function queryPairs(parameter: ActionParameter, value: unknown): string[] {
  const key = encodeURIComponent(parameter.name);
  const encode = (part: string) => encodeURIComponent(part);
  if (parameter.json) return [`${key}=${encode(JSON.stringify(value))}`];
  if (Array.isArray(value)) {
    const items = value
      .filter((item) => item !== null && item !== undefined)
      .map((item) => encode(scalar(item)));
    if (parameter.style === 'spaceDelimited') return [`${key}=${items.join('%20')}`];
    if (parameter.style === 'pipeDelimited') return [`${key}=${items.join('|')}`];
    return parameter.explode ? items.map((item) => `${key}=${item}`) : [`${key}=${items.join(',')}`];
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, item]) => item !== null && item !== undefined);
    if (parameter.style === 'deepObject') {
      return entries.map(([name, item]) => `${key}%5B${encode(name)}%5D=${encode(scalar(item))}`);
    }
    if (parameter.explode) return entries.map(([name, item]) => `${encode(name)}=${encode(scalar(item))}`);
    return [`${key}=${entries.map(([name, item]) => `${encode(name)},${encode(scalar(item))}`).join(',')}`];
  }
  return [`${key}=${encode(scalar(value))}`];
}

function formBody(value: unknown): string {
  if (!isPlainObject(value)) throw new ActionArgumentsError('The form body must be an object of fields.');
  const form = new URLSearchParams();
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined || item === null) continue;
    if (Array.isArray(item)) for (const element of item) form.append(name, scalar(element));
    else form.append(name, scalar(item));
  }
  return form.toString();
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

function isEmptyObject(value: unknown): boolean {
  return isPlainObject(value) && Object.keys(value).length === 0;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
