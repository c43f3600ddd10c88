// Bad input on every route the running server has: every /v1 route (with an API key) and every
// /api route (with a signed-in session and its CSRF header) gets malformed and non-object bodies,
// each known body field with the wrong type or an extreme value, path parameters that do not
// exist or are hostile, and list queries out of range. What a client must see is a 4xx with
// exactly the OpenAI envelope {"error":{message,type,param,code}}: never a 500, never another
// shape, and a create that was refused leaves nothing behind. Routes are read from the app
// itself, so a route added later is swept too (with the generic cases until it is described in
// BODIES below).
import http from 'node:http';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import {
  apiRoutes,
  envelopeProblem,
  fillPath,
  paramsOf,
  type RawReply as Reply,
  type Route,
  routesOf,
  sendRaw,
} from '../support/route-sweep.js';
import { tasksDocument } from '../support/tasks-openapi.js';
import { Visitor } from '../support/web-visitor.js';

/** Small enough that the "too large" case is cheap to send, large enough for the 100k strings. */
const MAX_BODY_BYTES = 1024 * 1024;
const CLIENT_ERRORS = new Set([400, 401, 403, 404, 405, 409, 413, 415, 422, 429]);

// ---------------------------------------------------------------------------------------------
// What each route's body holds: a valid body to start from (so one field at a time is wrong),
// and its fields with their JSON types: s string, n number, i integer, b boolean, o object,
// a array (several letters: any of them).

type Types = string;
interface BodySpec {
  /** A body the route accepts, or a function giving a fresh one (unique ids). */
  readonly base?: Record<string, unknown> | (() => Record<string, unknown>);
  readonly fields?: Readonly<Record<string, Types>>;
  /** Extra headers (the v1-only Assistants routes). */
  readonly headers?: Readonly<Record<string, string>>;
}

let unique = 0;
const fresh = (prefix: string) => `${prefix}${Date.now().toString(36)}${(unique++).toString(36)}`;

const fixtures: Record<string, string> = {};
const V1_BETA = { 'openai-beta': 'assistants=v1' };

const CHAT_FIELDS = {
  model: 's',
  messages: 'a',
  frequency_penalty: 'n',
  presence_penalty: 'n',
  logit_bias: 'o',
  logprobs: 'b',
  top_logprobs: 'i',
  max_tokens: 'i',
  max_completion_tokens: 'i',
  n: 'i',
  response_format: 'o',
  seed: 'i',
  stop: 'sa',
  stream: 'b',
  stream_options: 'o',
  temperature: 'n',
  top_p: 'n',
  tools: 'a',
  tool_choice: 'so',
  parallel_tool_calls: 'b',
  functions: 'a',
  function_call: 'so',
  user: 's',
  metadata: 'o',
  store: 'b',
};
const ASSISTANT_FIELDS = {
  model: 's',
  name: 's',
  description: 's',
  instructions: 's',
  metadata: 'o',
  tools: 'a',
  tool_resources: 'o',
  temperature: 'n',
  top_p: 'n',
  response_format: 'so',
};
const RUN_FIELDS = {
  assistant_id: 's',
  model: 's',
  instructions: 's',
  metadata: 'o',
  temperature: 'n',
  stream: 'b',
  max_prompt_tokens: 'i',
  max_completion_tokens: 'i',
  truncation_strategy: 'o',
  response_format: 'so',
  top_p: 'n',
  tool_choice: 'so',
  parallel_tool_calls: 'b',
  tools: 'a',
};
const GPT_DRAFT_FIELDS = {
  name: 's',
  description: 's',
  instructions: 's',
  model: 's',
  avatar_file_id: 's',
  conversation_starters: 'a',
  capabilities: 'o',
  knowledge_file_ids: 'a',
  action_ids: 'a',
};
const GPT_SHARE_FIELDS = { visibility: 's', category: 's', allow_training: 'b' };
const ACTION_FIELDS = { text: 's', url: 's', gpt_id: 's', auth: 'o', privacy_policy_url: 's' };

const BODIES: Record<string, BodySpec> = {
  // Multipart only (files.test.ts sweeps its parts): here, only what is not multipart.
  'POST /v1/files': {},
  'POST /v1/chat/completions': {
    base: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 },
    fields: CHAT_FIELDS,
  },
  'POST /v1/completions': {
    base: { model: MODEL, prompt: 'Hi', max_tokens: 1 },
    fields: {
      model: 's',
      prompt: 'sa',
      suffix: 's',
      max_tokens: 'i',
      temperature: 'n',
      top_p: 'n',
      n: 'i',
      stream: 'b',
      stream_options: 'o',
      logprobs: 'i',
      echo: 'b',
      stop: 'sa',
      presence_penalty: 'n',
      frequency_penalty: 'n',
      best_of: 'i',
      logit_bias: 'o',
      seed: 'i',
      user: 's',
    },
  },
  'POST /v1/embeddings': {
    base: { model: MODEL, input: 'Hi' },
    fields: { model: 's', input: 'sa', encoding_format: 's', dimensions: 'i', user: 's' },
  },
  'POST /v1/vector_stores': {
    base: { name: 'sweep' },
    fields: { file_ids: 'a', name: 's', expires_after: 'o', chunking_strategy: 'o', metadata: 'o' },
  },
  'POST /v1/vector_stores/:vector_store_id': {
    base: {},
    fields: { name: 's', expires_after: 'o', metadata: 'o' },
  },
  'POST /v1/vector_stores/:vector_store_id/files': {
    base: () => ({ file_id: fixtures['file']! }),
    fields: { file_id: 's', chunking_strategy: 'o', attributes: 'o' },
  },
  'POST /v1/vector_stores/:vector_store_id/files/:file_id': {
    base: { attributes: {} },
    fields: { attributes: 'o' },
  },
  'POST /v1/vector_stores/:vector_store_id/file_batches': {
    base: () => ({ file_ids: [fixtures['file']!] }),
    fields: { file_ids: 'a', files: 'a', chunking_strategy: 'o', attributes: 'o' },
  },
  'POST /v1/vector_stores/:vector_store_id/file_batches/:batch_id/cancel': { base: {} },
  'POST /v1/vector_stores/:vector_store_id/search': {
    base: { query: 'tides' },
    fields: { query: 'sa', rewrite_query: 'b', max_num_results: 'i', filters: 'o', ranking_options: 'o' },
  },
  'POST /v1/assistants': { base: { model: MODEL }, fields: ASSISTANT_FIELDS },
  'POST /v1/assistants/:assistant_id': { base: {}, fields: ASSISTANT_FIELDS },
  'POST /v1/assistants/:assistant_id/files': {
    base: () => ({ file_id: fixtures['file']! }),
    fields: { file_id: 's' },
    headers: V1_BETA,
  },
  'POST /v1/threads': { base: {}, fields: { messages: 'a', tool_resources: 'o', metadata: 'o' } },
  'POST /v1/threads/:thread_id': { base: {}, fields: { tool_resources: 'o', metadata: 'o' } },
  'POST /v1/threads/:thread_id/messages': {
    base: { role: 'user', content: 'Hi' },
    fields: { role: 's', content: 'sa', attachments: 'a', metadata: 'o' },
  },
  'POST /v1/threads/:thread_id/messages/:message_id': { base: {}, fields: { metadata: 'o' } },
  'POST /v1/threads/runs': {
    base: () => ({ assistant_id: fixtures['assistant']! }),
    fields: { ...RUN_FIELDS, thread: 'o', tool_resources: 'o' },
  },
  'POST /v1/threads/:thread_id/runs': {
    base: () => ({ assistant_id: fixtures['assistant']! }),
    fields: { ...RUN_FIELDS, additional_instructions: 's', additional_messages: 'a' },
  },
  'POST /v1/threads/:thread_id/runs/:run_id': { base: {}, fields: { metadata: 'o' } },
  'POST /v1/threads/:thread_id/runs/:run_id/submit_tool_outputs': {
    base: { tool_outputs: [] },
    fields: { tool_outputs: 'a', stream: 'b' },
  },
  'POST /v1/threads/:thread_id/runs/:run_id/cancel': { base: {} },

  'POST /api/auth/sign-up': {
    base: () => ({
      name: 'Sweep',
      email: `${fresh('sweep')}@example.com`,
      password: 'correct horse battery',
    }),
    fields: { name: 's', email: 's', password: 's' },
  },
  'POST /api/auth/sign-in': {
    base: { email: 'nobody@example.com', password: 'not the password' },
    fields: { email: 's', password: 's' },
  },
  'POST /api/auth/sign-out': { base: {} },
  'PATCH /api/account/preferences': {
    base: {},
    fields: {
      about_me: 's',
      response_style: 's',
      custom_instructions_enabled: 'b',
      theme: 's',
      language: 's',
      chat_history_enabled: 'b',
    },
  },
  'DELETE /api/account': { base: { password: 'not the password' }, fields: { password: 's' } },
  'POST /api/workspaces/:workspace_id/api-keys': { base: { name: 'sweep' }, fields: { name: 's' } },
  'POST /api/chats': {
    base: { title: 'Sweep' },
    fields: {
      gpt_id: 's',
      title: 's',
      temporary: 'b',
      model: 's',
      messages: 'a',
      current_node_id: 's',
      message: 'o',
    },
  },
  'PATCH /api/chats/:chat_id': { base: {}, fields: { title: 's', model: 's', current_node_id: 's' } },
  'POST /api/chats/:chat_id/messages': {
    base: () => ({ id: fresh('q'), content: 'Hi', answer_id: fresh('a'), model: MODEL }),
    fields: {
      id: 's',
      parent_id: 's',
      content: 'sa',
      attachments: 'a',
      answer_id: 's',
      model: 's',
      stream: 'b',
    },
  },
  'POST /api/chats/:chat_id/messages/:message_id/answers': {
    base: () => ({ answer_id: fresh('a') }),
    fields: { answer_id: 's', model: 's', stream: 'b' },
  },
  'POST /api/chats/:chat_id/messages/:message_id/continue': { base: {}, fields: { stream: 'b' } },
  'POST /api/chats/:chat_id/messages/:message_id/stop': { base: {} },
  'POST /api/gpts': {
    base: {},
    fields: { ...GPT_DRAFT_FIELDS, ...GPT_SHARE_FIELDS, workspace_id: 's' },
  },
  'PATCH /api/gpts/:gpt_id': { base: {}, fields: GPT_DRAFT_FIELDS },
  'PATCH /api/gpts/:gpt_id/sharing': { base: {}, fields: GPT_SHARE_FIELDS },
  'POST /api/gpts/:gpt_id/link': { base: {}, fields: {} },
  'POST /api/gpts/:gpt_id/publish': { base: {}, fields: {} },
  'PUT /api/gpts/:gpt_id/builder-chat': { base: { messages: [] }, fields: { messages: 'a' } },
  'POST /api/gpts/:gpt_id/consents': {
    base: () => ({ action_id: fixtures['action']!, domain: 'tasks.example.com', decision: 'decline' }),
    fields: { action_id: 's', domain: 's', decision: 's', operation: 's' },
  },
  'POST /api/actions/preview': { base: () => ({ text: DOCUMENT }), fields: { text: 's', url: 's' } },
  'POST /api/actions': {
    base: () => ({ text: DOCUMENT }),
    fields: { ...ACTION_FIELDS, workspace_id: 's' },
  },
  'PATCH /api/actions/:action_id': { base: {}, fields: ACTION_FIELDS },
};

const DOCUMENT = tasksDocument('https://tasks.example.com');

/**
 * Routes whose valid body is still refused, for what it finds rather than what it is sent (the
 * error's code): a wrong password, a run that awaits no outputs, an answer still being written
 * (the sweep's own message started it).
 */
const BASE_REFUSED: Record<string, string | null> = {
  'POST /api/auth/sign-in': 'invalid_credentials',
  'DELETE /api/account': 'invalid_credentials',
  'POST /v1/threads/:thread_id/runs/:run_id/submit_tool_outputs': null,
  'POST /api/chats/:chat_id/messages/:message_id/answers': 'answer_in_progress',
  'POST /api/chats/:chat_id/messages/:message_id/continue': 'answer_in_progress',
};

/** Routes that would end the sweep's own session: called as a visitor who is not signed in. */
const SIGNED_OUT = new Set(['POST /api/auth/sign-up', 'POST /api/auth/sign-in', 'POST /api/auth/sign-out']);

/** Lists to begin from in the query sweep (the Usage API needs a start). */
const QUERY_BASE: Record<string, string> = {
  'GET /v1/organization/usage/completions': 'start_time=0',
  'GET /v1/organization/usage/embeddings': 'start_time=0',
};

// ---------------------------------------------------------------------------------------------
// Values.

const LONG = 'x'.repeat(100_000);
const ODD = 'nul \u0000 bidi \u202e ünï 😀 lone \ud800 end';
const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = wrap(value);
  return value;
};
const DEEP_OBJECT = nested(2_000, 1, (inner) => ({ a: inner }));
const DEEP_ARRAY = nested(2_000, 1, (inner) => [inner]);

const WRONG: readonly (readonly [string, unknown])[] = [
  ['s', 'abc'],
  ['n', 12345],
  ['b', true],
  ['o', { a: 1 }],
  ['a', ['x']],
];

/** Values of the wrong JSON type for a field: always a 4xx. */
function wrongValues(types: Types): unknown[] {
  const allowed = types.replace('i', 'n');
  const values = WRONG.filter(([type]) => !allowed.includes(type)).map(([, value]) => value);
  if (types.includes('i') && !types.includes('n')) values.push(1.5);
  return values;
}

/** Values of the right type that are extreme: accepted or refused, never a 500. */
function extremeValues(types: Types): unknown[] {
  const values: unknown[] = [];
  if (types.includes('s')) values.push(LONG, ODD, '');
  if (types.includes('n') || types.includes('i')) values.push(-1, 0, 1e308, -1e308, 2 ** 53);
  if (types.includes('o')) values.push(DEEP_OBJECT, { '\u0000': ODD, [LONG.slice(0, 5_000)]: 1 }, {});
  if (types.includes('a'))
    values.push(
      [],
      [null],
      DEEP_ARRAY,
      // Not thousands: each prompt of a legacy completion is a completion of its own.
      Array.from({ length: 50 }, () => ODD),
    );
  return values;
}

interface RawCase {
  readonly name: string;
  readonly body: string | Buffer;
  readonly contentType?: string | null;
  /** Refused whatever the route: the body cannot be read as a JSON object at all. */
  readonly alwaysRefused: boolean;
  /** A valid JSON value that is not an object: refused by every route that reads its body. */
  readonly notAnObject?: boolean;
}

const RAW_CASES: readonly RawCase[] = [
  { name: 'malformed JSON', body: '{"model": ', alwaysRefused: true },
  { name: 'trailing garbage', body: '{} x', alwaysRefused: true },
  { name: 'single quotes', body: "{'a': 1}", alwaysRefused: true },
  { name: 'JSON array', body: '[{}]', alwaysRefused: false, notAnObject: true },
  { name: 'JSON string', body: '"hello"', alwaysRefused: false, notAnObject: true },
  { name: 'JSON number', body: '42', alwaysRefused: false, notAnObject: true },
  { name: 'JSON true', body: 'true', alwaysRefused: false, notAnObject: true },
  { name: '__proto__ key', body: '{"__proto__": {"polluted": 1}}', alwaysRefused: true },
  {
    name: 'constructor.prototype key',
    body: '{"constructor": {"prototype": {"polluted": 1}}}',
    alwaysRefused: true,
  },
  {
    name: 'nested 100,000 deep',
    body: `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    alwaysRefused: false,
  },
  {
    name: 'invalid UTF-8',
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    alwaysRefused: false,
  },
  // Fastify reads text/plain as a string: refused by the routes that read a body.
  { name: 'text/plain', body: '{}', contentType: 'text/plain', alwaysRefused: false, notAnObject: true },
  {
    name: 'JSON in UTF-16',
    body: '{}',
    contentType: 'application/json; charset=utf-16',
    alwaysRefused: false,
  },
  {
    name: 'form-encoded',
    body: 'a=1',
    contentType: 'application/x-www-form-urlencoded',
    alwaysRefused: true,
  },
  { name: 'over the size limit', body: `{"a":"${'x'.repeat(MAX_BODY_BYTES)}"}`, alwaysRefused: true },
];

const MULTIPART = '--b\r\ncontent-disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n';

/** Path parameters that name nothing, or try to escape their segment (within the router's 100 characters). */
const BAD_SEGMENTS: readonly string[] = [
  'does_not_exist_0',
  'x'.repeat(90),
  '%00',
  'a%00b',
  '..',
  '%2E%2E',
  '%2F',
  'a%2F..%2Fb',
  "'",
  '"',
  '%27%20OR%20%271%27%3D%271',
  '%22%3E%3Cscript%3E',
  '%F0%9F%98%80',
];

/** Segments the router itself refuses, before any route: a malformed escape, a very long id. */
const MALFORMED_SEGMENTS: readonly string[] = ['x'.repeat(3_000), '%ED%A0%80', '%', '%ZZ'];

/**
 * Queries, and which lists must refuse them: `paged` every list that pages with `limit` (cursor
 * lists and the Usage API's pages), `cursor` the /v1 cursor lists (`order` too), none: any answer
 * but a failure.
 */
const QUERY_CASES: readonly { query: string; refusedBy?: 'paged' | 'cursor' }[] = [
  { query: 'limit=abc', refusedBy: 'paged' },
  { query: 'limit=-1', refusedBy: 'paged' },
  { query: 'limit=0', refusedBy: 'paged' },
  { query: 'limit=1.5', refusedBy: 'paged' },
  { query: 'limit=100000000', refusedBy: 'paged' },
  { query: 'limit=1e400', refusedBy: 'paged' },
  { query: 'order=sideways', refusedBy: 'cursor' },
  { query: 'after=does_not_exist_0' },
  { query: 'before=does_not_exist_0' },
  { query: `after=${'x'.repeat(3_000)}` },
  { query: 'limit=1&limit=2' },
  { query: 'after=a&after=b' },
  { query: 'limit[]=1&order[]=asc' },
  { query: 'after=%00&before=%ZZ' },
  { query: 'order=%ED%A0%80&after=%' },
];

// ---------------------------------------------------------------------------------------------
// The server, a raw HTTP client (paths go out exactly as written: no `..` resolved, no escape
// fixed) and the checks.

let server: TestServer;
let port: number;
let routes: Route[];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const session = { cookie: '', csrf: '' };

const send = (request: Omit<Parameters<typeof sendRaw>[0], 'port' | 'agent'>): Promise<Reply> =>
  sendRaw({ port, agent, ...request });

/** Who the route's caller is: the API key on /v1, the session (or a signed-out page) on /api. */
function authHeaders(route: Route): Record<string, string> {
  if (route.path.startsWith('/v1/')) return { authorization: `Bearer ${server.apiKey}` };
  if (SIGNED_OUT.has(`${route.method} ${route.path}`)) return { 'x-atelier-csrf': 'page' };
  return { cookie: session.cookie, 'x-atelier-csrf': session.csrf };
}

function call(
  route: Route,
  {
    path = fill(route),
    query = '',
    body = undefined,
    contentType = 'application/json',
  }: { path?: string; query?: string; body?: string | Buffer | undefined; contentType?: string | null } = {},
): Promise<Reply> {
  const spec = BODIES[`${route.method} ${route.path}`];
  return send({
    method: route.method,
    path: query ? `${path}?${query}` : path,
    headers: {
      ...authHeaders(route),
      ...spec?.headers,
      ...(body !== undefined && contentType ? { 'content-type': contentType } : {}),
    },
    body,
  });
}

/** The id an existing object of the route's kind has (so only the case under test is wrong). */
function fixtureFor(route: Route, param: string): string {
  if (param === 'message_id' && route.path.startsWith('/api/chats/')) {
    return route.path.endsWith('/answers') ? 'q1' : 'a1';
  }
  return fixtures[fixtureKey(param)] ?? 'no_such_fixture';
}

/** Which fixture a path parameter takes (`thread_id`: the thread). */
const fixtureKey = (param: string) => (param === '*' ? 'model' : param.replace(/_id$/, ''));

/** The route's path with every parameter an existing object, except `override`'s. */
function fill(route: Route, override: Record<string, string> = {}): string {
  return fillPath(route, (param) => override[param] ?? encodeURIComponent(fixtureFor(route, param)));
}

function baseBody(spec: BodySpec | undefined): Record<string, unknown> {
  const base = spec?.base;
  return typeof base === 'function' ? base() : { ...(base ?? {}) };
}

/** What is wrong with a reply, or undefined. `refused`: the input must be refused with a 4xx. */
function problemOf(reply: Reply, refused: boolean): string | undefined {
  const head = `${reply.status} ${reply.text.slice(0, 160).replaceAll('\n', ' ')}`;
  if (reply.status >= 500) return head;
  if (reply.status < 400) return refused ? `accepted: ${head}` : undefined;
  if (!CLIENT_ERRORS.has(reply.status)) return `unexpected status: ${head}`;
  return envelopeProblem(reply);
}

/** The error code of a refusal (`undefined` when the reply is no error envelope). */
function codeOf(reply: Reply): string | null | undefined {
  if (reply.status < 400 || envelopeProblem(reply)) return undefined;
  return (JSON.parse(reply.text) as { error: { code: string | null } }).error.code;
}

class Findings {
  readonly list: string[] = [];
  async check(route: Route, what: string, reply: Promise<Reply>, refused: boolean): Promise<void> {
    const problem = await reply.then(
      (answered) => problemOf(answered, refused),
      (error: Error) => error.message,
    );
    if (problem) this.list.push(`${route.method} ${route.path} [${what}] → ${problem}`);
  }
}

/** A route with no fields (cancel, stop, sign-out) may ignore what it is sent. */
const readsBody = (route: Route) => BODIES[`${route.method} ${route.path}`]?.fields !== undefined;

/** The route's valid body, for a request whose path is what is wrong. */
const bodyFor = (route: Route) =>
  takesBody(route) ? JSON.stringify(baseBody(BODIES[`${route.method} ${route.path}`])) : undefined;

/** A DELETE with a body still deletes when it reads none: such requests are aimed at nothing. */
const aimedAtNothing = (route: Route) =>
  route.method === 'DELETE'
    ? fill(route, Object.fromEntries(paramsOf(route).map((param) => [param, 'does_not_exist_0'])))
    : fill(route);

const sweptRoutes = () => apiRoutes(routes);
const takesBody = (route: Route) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
const label = (value: unknown) => {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 37)}…(${text.length})` : text;
};

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  server = await startApiServer({ env: { ATELIER_MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
  port = Number(new URL(server.server.url!).port);
  routes = routesOf(server.server.app.printRoutes({ commonPrefix: false }));
  const client = server.client;
  const v1 = new OpenAI({
    baseURL: server.baseURL,
    apiKey: server.apiKey,
    maxRetries: 0,
    defaultHeaders: V1_BETA,
  });

  fixtures['model'] = MODEL;
  const file = await client.files.create({
    file: await toFile(Buffer.from('Tides follow the moon.\n'), 'tides.txt'),
    purpose: 'assistants',
  });
  fixtures['file'] = file.id;
  const store = await client.vectorStores.create({ name: 'sweep', file_ids: [file.id] });
  fixtures['vector_store'] = store.id;
  fixtures['batch'] = (await client.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] })).id;
  const assistant = await client.beta.assistants.create({ model: MODEL, name: 'Sweeper' });
  fixtures['assistant'] = assistant.id;
  await v1.post(`/assistants/${assistant.id}/files`, { body: { file_id: file.id } });
  // A v1 message carrying the file: the message-files routes have something to find.
  const thread = (await v1.post('/threads', {
    body: { messages: [{ role: 'user', content: 'Why are there tides?', file_ids: [file.id] }] },
  })) as { id: string };
  fixtures['thread'] = thread.id;
  const run = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
  fixtures['run'] = run.id;
  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
  // None: the step routes are reported unfilled.
  if (steps.data[0]) fixtures['step'] = steps.data[0].id;
  const messages = await client.beta.threads.messages.list(thread.id, { order: 'asc' });
  fixtures['message'] = messages.data[0]!.id;

  const origin = server.server.url!;
  const ada = new Visitor(origin);
  const signedUp = await ada.signUp('Ada', 'ada@example.com');
  expect(signedUp.status).toBe(201);
  session.cookie = ada.cookie!;
  session.csrf = ada.csrf!;
  fixtures['workspace'] = signedUp.body.workspace_id;
  const chat = await ada.call('POST', '/api/chats', {
    body: {
      title: 'Tides',
      messages: [
        { id: 'q1', parent_id: null, role: 'user', content: 'Why tides?', created_at: 1_700_000_000 },
        {
          id: 'a1',
          parent_id: 'q1',
          role: 'assistant',
          content: 'The moon.',
          model: MODEL,
          created_at: 1_700_000_001,
        },
      ],
    },
  });
  expect(chat.status).toBe(201);
  fixtures['chat'] = chat.body.id;
  const action = await ada.call('POST', '/api/actions', { body: { text: DOCUMENT } });
  expect(action.status).toBe(201);
  fixtures['action'] = action.body.id;
  const gpt = await ada.call('POST', '/api/gpts', {
    body: { name: 'Sweeper', model: MODEL, action_ids: [action.body.id] },
  });
  expect(gpt.status).toBe(201);
  fixtures['gpt'] = gpt.body.id;
  fixtures['token'] = gpt.body.link_token;
  const team = signedUp.body.workspaces.find((workspace: { kind: string }) => workspace.kind === 'team');
  const teamGpt = await ada.call('POST', '/api/gpts', { body: { name: 'Team', workspace_id: team.id } });
  expect(teamGpt.status).toBe(201);
  fixtures['team_gpt'] = teamGpt.body.id;
  const key = await ada.call('POST', `/api/workspaces/${fixtures['workspace']}/api-keys`, {
    body: { name: 'sweep' },
  });
  expect(key.status).toBe(201);
  fixtures['api_key'] = key.body.id;
}, 120_000);

afterAll(async () => {
  agent.destroy();
  await server?.close();
});

describe('bad input on every route', () => {
  it('finds the routes of the running app', () => {
    const swept = sweptRoutes().map((route) => `${route.method} ${route.path}`);
    expect(swept).toEqual(
      expect.arrayContaining([
        'POST /v1/chat/completions',
        'GET /v1/models/*',
        'POST /v1/threads/:thread_id/runs/:run_id/submit_tool_outputs',
        'DELETE /v1/vector_stores/:vector_store_id/files/:file_id',
        'PUT /api/gpts/:gpt_id/builder-chat',
        'DELETE /api/workspaces/:workspace_id/api-keys/:api_key_id',
      ]),
    );
    // Every route that reads a body is described: its fields get the typed cases.
    const undescribed = sweptRoutes()
      .filter((route) => takesBody(route) && route.method !== 'DELETE')
      .map((route) => `${route.method} ${route.path}`)
      .filter((name) => !BODIES[name]);
    expect(undescribed).toEqual([]);
    // Every path parameter names an object that exists: the cases below are wrong in one way only.
    const unfilled = sweptRoutes().flatMap((route) =>
      paramsOf(route)
        .filter((param) => !fixtures[fixtureKey(param)])
        .map((param) => `${route.method} ${route.path}: ${param}`),
    );
    expect(unfilled).toEqual([]);
  });

  it('accepts the valid body each route starts from, where its ids name objects', async () => {
    const refused: string[] = [];
    for (const route of sweptRoutes().filter(readsBody)) {
      const name = `${route.method} ${route.path}`;
      const reply = await call(route, { body: JSON.stringify(baseBody(BODIES[name])) });
      const expected = BASE_REFUSED[name];
      const fine = expected === undefined ? reply.status < 400 : codeOf(reply) === expected;
      if (!fine) refused.push(`${name} → ${reply.status} ${reply.text.slice(0, 160)}`);
    }
    expect(refused).toEqual([]);
  }, 60_000);

  it('refuses bodies that are not a JSON object with a 4xx envelope', async () => {
    const findings = new Findings();
    for (const route of sweptRoutes().filter(takesBody)) {
      const spec = BODIES[`${route.method} ${route.path}`];
      const path = aimedAtNothing(route);
      for (const raw of RAW_CASES) {
        const reply = call(route, {
          path,
          body: raw.body,
          contentType: raw.contentType ?? 'application/json',
        });
        await findings.check(
          route,
          raw.name,
          reply,
          raw.alwaysRefused || (readsBody(route) && !!raw.notAnObject),
        );
      }
      const required = Object.keys(baseBody(spec)).length > 0;
      await findings.check(
        route,
        'empty body',
        call(route, { path, body: '' }),
        readsBody(route) && required,
      );
    }
    expect(findings.list).toEqual([]);
  }, 60_000);

  it('refuses JSON null, or a multipart body, where a route reads a JSON object', async () => {
    const findings = new Findings();
    for (const route of sweptRoutes().filter(readsBody)) {
      const path = aimedAtNothing(route);
      await findings.check(route, 'JSON null', call(route, { path, body: 'null' }), true);
      const reply = call(route, { path, body: MULTIPART, contentType: 'multipart/form-data; boundary=b' });
      await findings.check(route, 'multipart', reply, true);
    }
    expect(findings.list).toEqual([]);
  });

  it('refuses each field of the wrong type, and never fails on extreme values', async () => {
    const findings = new Findings();
    for (const route of sweptRoutes().filter(readsBody)) {
      const spec = BODIES[`${route.method} ${route.path}`]!;
      for (const [field, types] of Object.entries(spec.fields!)) {
        for (const value of wrongValues(types)) {
          const body = JSON.stringify({ ...baseBody(spec), [field]: value });
          await findings.check(route, `${field}: ${label(value)}`, call(route, { body }), true);
        }
        for (const value of extremeValues(types)) {
          const body = JSON.stringify({ ...baseBody(spec), [field]: value });
          await findings.check(route, `${field}: ${label(value)}`, call(route, { body }), false);
        }
      }
      // A field no version of the API has.
      const body = JSON.stringify({ ...baseBody(spec), [`no_such_field_${ODD}`]: 1 });
      await findings.check(route, 'unknown field', call(route, { body }), false);
    }
    expect(findings.list).toEqual([]);
  }, 60_000);

  it('answers a path parameter that names nothing, or escapes its segment, with a 4xx envelope', async () => {
    const findings = new Findings();
    for (const route of sweptRoutes()) {
      for (const param of paramsOf(route)) {
        for (const segment of BAD_SEGMENTS) {
          const reply = call(route, { path: fill(route, { [param]: segment }), body: bodyFor(route) });
          await findings.check(route, `${param} = ${label(segment)}`, reply, true);
        }
      }
    }
    expect(findings.list).toEqual([]);
  }, 60_000);

  it('answers a path the router cannot read (a malformed escape, an overlong segment) with a 4xx envelope', async () => {
    const findings = new Findings();
    for (const route of sweptRoutes()) {
      for (const param of paramsOf(route)) {
        for (const segment of MALFORMED_SEGMENTS) {
          const reply = call(route, { path: fill(route, { [param]: segment }), body: bodyFor(route) });
          await findings.check(route, `${param} = ${label(segment)}`, reply, true);
        }
      }
    }
    expect(findings.list).toEqual([]);
  });

  it('answers a method a path does not have with a 4xx envelope', async () => {
    const findings = new Findings();
    const paths = new Map<string, Set<string>>();
    for (const route of sweptRoutes())
      paths.set(route.path, (paths.get(route.path) ?? new Set()).add(route.method));
    for (const [path, methods] of paths) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((one) => !methods.has(one))) {
        const route = { method, path };
        const reply = call(route, { body: method === 'GET' ? undefined : '{}' });
        await findings.check(route, 'unsupported method', reply, true);
      }
    }
    expect(findings.list).toEqual([]);
  });

  it('refuses list queries out of range, and never fails on odd ones', async () => {
    const findings = new Findings();
    for (const route of sweptRoutes().filter((candidate) => candidate.method === 'GET')) {
      const base = QUERY_BASE[`${route.method} ${route.path}`] ?? '';
      const first = await call(route, { query: [base, 'limit=1'].filter(Boolean).join('&') });
      await findings.check(route, 'limit=1', Promise.resolve(first), false);
      let page: { object?: unknown; has_more?: unknown; first_id?: unknown } | undefined;
      try {
        page = first.status === 200 ? JSON.parse(first.text) : undefined;
      } catch {
        page = undefined;
      }
      // Paged like OpenAI's lists: cursor pages (§2.3 of the wire notes), the Usage API's pages.
      const cursor = page?.object === 'list' && 'first_id' in page && typeof page.has_more === 'boolean';
      const paged = cursor || (page?.object === 'page' && typeof page.has_more === 'boolean');
      for (const { query, refusedBy } of QUERY_CASES) {
        const reply = call(route, { query: [base, query].filter(Boolean).join('&') });
        const refused =
          (refusedBy === 'paged' && paged) ||
          (refusedBy === 'cursor' && cursor && route.path.startsWith('/v1/'));
        await findings.check(route, query.slice(0, 40), reply, refused);
      }
    }
    expect(findings.list).toEqual([]);
  }, 60_000);

  it('leaves nothing behind when a create is refused', async () => {
    // A thread no run writes to while it is counted.
    const quiet = await server.client.beta.threads.create({});
    const counts = {
      assistants: () => countPages('/v1/assistants', 'v1'),
      vectorStores: () => countPages('/v1/vector_stores', 'v1'),
      messages: () => countPages(`/v1/threads/${quiet.id}/messages`, 'v1'),
      chats: () => countPages('/api/chats', 'api'),
      gpts: () => countPages('/api/gpts?scope=mine', 'api'),
      actions: () => countPages('/api/actions', 'api'),
      apiKeys: () => countPages(`/api/workspaces/${fixtures['workspace']}/api-keys`, 'api'),
    };
    const creates: Record<keyof typeof counts, Route> = {
      assistants: { method: 'POST', path: '/v1/assistants' },
      vectorStores: { method: 'POST', path: '/v1/vector_stores' },
      messages: { method: 'POST', path: '/v1/threads/:thread_id/messages' },
      chats: { method: 'POST', path: '/api/chats' },
      gpts: { method: 'POST', path: '/api/gpts' },
      actions: { method: 'POST', path: '/api/actions' },
      apiKeys: { method: 'POST', path: '/api/workspaces/:workspace_id/api-keys' },
    };
    // Bodies that fail at every stage: parsing, the schema, and the checks after it (a model,
    // a file or a GPT that does not exist, a nested value out of range).
    const refusals: Record<keyof typeof counts, unknown[]> = {
      assistants: [
        { model: 'no-such-model' },
        { model: MODEL, tools: [{ type: 'function', function: { name: 'bad name!' } }] },
        { model: MODEL, tool_resources: { file_search: { vector_store_ids: ['vs_missing'] } } },
        { model: MODEL, name: LONG },
      ],
      vectorStores: [
        { file_ids: ['file-missing'] },
        { name: 'x', expires_after: { anchor: 'last_active_at', days: 0 } },
      ],
      messages: [
        {
          role: 'user',
          content: 'Hi',
          attachments: [{ file_id: 'file-missing', tools: [{ type: 'file_search' }] }],
        },
        { role: 'user', content: [{ type: 'image_file', image_file: { file_id: 'file-missing' } }] },
        { role: 'system', content: 'Hi' },
      ],
      chats: [
        { title: 'x', gpt_id: 'g-missing' },
        { title: 'x', message: { id: 'q9', content: 'Hi', answer_id: 'a9', model: 'no-such-model' } },
        {
          title: 'x',
          messages: [{ id: 'q1', parent_id: 'nowhere', role: 'user', content: 'x', created_at: 1 }],
        },
      ],
      gpts: [
        { name: 'x', model: 'no-such-model' },
        { name: 'x', knowledge_file_ids: ['file-missing'] },
        { name: 'x', action_ids: ['act_missing'] },
        { name: 'x', workspace_id: 'ws_missing' },
      ],
      actions: [{ text: 'not an openapi document' }, { text: DOCUMENT, gpt_id: 'g-missing' }, { url: ODD }],
      apiKeys: [{ name: '' }, { name: LONG }],
    };
    const before = Object.fromEntries(
      await Promise.all(Object.entries(counts).map(async ([name, count]) => [name, await count()] as const)),
    );
    const findings = new Findings();
    for (const [name, bodies] of Object.entries(refusals)) {
      const route = creates[name as keyof typeof counts];
      for (const body of bodies) {
        const path = fill(route, { thread_id: quiet.id });
        await findings.check(route, label(body), call(route, { path, body: JSON.stringify(body) }), true);
      }
      for (const raw of RAW_CASES.filter((one) => one.alwaysRefused || one.notAnObject)) {
        const path = fill(route, { thread_id: quiet.id });
        const reply = call(route, {
          path,
          body: raw.body,
          contentType: raw.contentType ?? 'application/json',
        });
        await findings.check(route, raw.name, reply, true);
      }
    }
    // Nor a change: an action asked to belong to a GPT that is not there, or is another
    // workspace's, stays as it was.
    const edit: Route = { method: 'PATCH', path: '/api/actions/:action_id' };
    for (const gptId of ['g-missing', fixtures['team_gpt']!]) {
      const body = JSON.stringify({ gpt_id: gptId, privacy_policy_url: 'https://tasks.example.com/p' });
      await findings.check(edit, `gpt_id ${gptId}`, call(edit, { body }), true);
    }
    const action = await send({
      method: 'GET',
      path: fill({ method: 'GET', path: '/api/actions/:action_id' }),
      headers: authHeaders(edit),
    });
    const after = Object.fromEntries(
      await Promise.all(Object.entries(counts).map(async ([name, count]) => [name, await count()] as const)),
    );
    expect(findings.list).toEqual([]);
    expect(JSON.parse(action.text)).toMatchObject({ gpt_id: null, privacy_policy_url: null });
    expect(after).toEqual(before);
  }, 60_000);
});

/** How many items a list holds, following its pages (`after` = the last id). */
async function countPages(path: string, door: 'v1' | 'api'): Promise<number> {
  const route: Route = { method: 'GET', path: door === 'v1' ? '/v1/' : '/api/' };
  let total = 0;
  let after: string | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const separator = path.includes('?') ? '&' : '?';
    const query = `${door === 'v1' ? 'limit=100' : ''}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const reply = await send({
      method: 'GET',
      path: query ? `${path}${separator}${query.replace(/^&/, '')}` : path,
      headers: authHeaders(route),
    });
    if (reply.status !== 200) throw new Error(`GET ${path}: ${reply.status} ${reply.text.slice(0, 200)}`);
    const page = JSON.parse(reply.text) as { data: { id: string }[]; has_more?: boolean };
    total += page.data.length;
    if (!page.has_more || page.data.length === 0) return total;
    after = page.data.at(-1)!.id;
  }
  throw new Error(`GET ${path}: more than 1,000 pages`);
}
