// GPT actions end to end on both databases: the builder previews and saves an action from an
// OpenAPI document served by a local test API (secrets write-only), a GPT with it answers as
// `model: "gpt-<id>"` through the official SDK with a scripted model that calls the action, and
// nothing reaches the API until the person allows the domain (POST /api/gpts/{id}/consents);
// consequential operations ask every time, Decline sends nothing, addresses outside the
// allow-list are refused, sharing needs a privacy policy URL, and OAuth signs in through the
// routes against a local OAuth server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  type LocalServer,
  sendJson,
  startLocalServer,
} from '../../packages/server/src/tools/outbound/test-support/local-server.js';
import { signUpPeople, webOrigin } from '../support/people.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { tasksDocument } from '../support/tasks-openapi.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const MODEL = 'scripted/coder';
const API_KEY = 'sk-local-tasks-0123456789';

for (const dialect of DIALECTS) {
  describe(`GPT actions [${dialect}]`, () => {
    let upstream: ScriptedUpstream;
    let tasksApi: LocalServer;
    let oauthServer: LocalServer;
    let dialectServer: DialectServer;
    let server: TestServer;
    let origin: string;
    let ada: Visitor;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      tasksApi = await startLocalServer((request, response) => {
        if (request.method === 'GET') return sendJson(response, 200, [{ id: 1, title: 'Buy rope' }]);
        return sendJson(response, 201, { id: 2, ...JSON.parse(request.body || '{}') });
      });
      oauthServer = await startLocalServer((request, response) => {
        if (request.url === '/token') {
          return sendJson(response, 200, {
            access_token: 'oauth-access-1',
            token_type: 'bearer',
            expires_in: 3600,
          });
        }
        return sendJson(response, 404, {});
      });
      dialectServer = await startDialectServer(dialect, {
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'script', base_url: upstream.baseUrl, prefix: 'scripted/' },
        ]),
        ATELIER_OUTBOUND_ALLOW: '127.0.0.1',
      });
      server = dialectServer.server;
      origin = webOrigin(server);
      [ada] = await signUpPeople(server, 'Ada');
    });
    afterAll(async () => {
      await dialectServer?.close();
      await upstream?.close();
      await tasksApi?.close();
      await oauthServer?.close();
    });

    const createAction = async (body: Json) => {
      const reply = await ada.call('POST', '/api/actions', { body });
      expect(reply.status).toBe(201);
      return reply.body;
    };
    const createGpt = async (actionId: string, body: Json = {}) => {
      const reply = await ada.call('POST', '/api/gpts', {
        body: { name: 'Task keeper', model: MODEL, action_ids: [actionId], ...body },
      });
      expect(reply.status).toBe(201);
      return reply.body;
    };
    const chat = (gptId: string, question: string) =>
      ada
        .sdk(server)
        .chat.completions.create({ model: `gpt-${gptId}`, messages: [{ role: 'user', content: question }] })
        .withResponse();
    /** What the model was told by the newest tool result. */
    const lastToolOutput = () => {
      const messages = upstream.requests.at(-1)!['messages'] as { role: string; content: string }[];
      return messages.findLast((message) => message.role === 'tool')!.content;
    };

    it('previews a document as operations, or shows its problems', async () => {
      const preview = await ada.call('POST', '/api/actions/preview', {
        body: { text: tasksDocument(tasksApi.url) },
      });
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({
        object: 'action.preview',
        title: 'Tasks',
        domain: '127.0.0.1',
        operations: [
          { name: 'listTasks', method: 'GET', path: '/tasks', consequential: false },
          { name: 'addTask', method: 'POST', path: '/tasks', consequential: true },
        ],
        problems: [],
      });
      const broken = await ada.call('POST', '/api/actions/preview', {
        body: { text: JSON.stringify({ swagger: '2.0', info: { title: 'Old' }, paths: {} }) },
      });
      expect(broken.status).toBe(200);
      expect(broken.body.operations).toEqual([]);
      expect(broken.body.problems[0]).toMatchObject({ code: 'unsupported_openapi_version' });
      expectEnvelope(await ada.call('POST', '/api/actions/preview', { body: {} }), 400, null);
      expectEnvelope(
        await new Visitor(origin).call('POST', '/api/actions/preview', { body: { text: 'x' } }),
        401,
        'not_signed_in',
      );
    });

    it('calls the local API with the right auth only after the person allows the domain', async () => {
      const action = await createAction({
        text: tasksDocument(tasksApi.url),
        auth: { type: 'api_key', scheme: 'bearer', api_key: API_KEY },
        privacy_policy_url: 'https://tasks.example/privacy',
      });
      expect(action.auth).toEqual({
        type: 'api_key',
        scheme: 'bearer',
        header_name: null,
        has_api_key: true,
      });
      const read = await ada.call('GET', `/api/actions/${action.id}`);
      expect(JSON.stringify(read.body)).not.toContain(API_KEY);
      const listed = await ada.call('GET', '/api/actions');
      expect(listed.body.data.map((item: Json) => item.id)).toContain(action.id);

      const gpt = await createGpt(action.id);
      upstream.script('What is on my list?', [
        { call: { name: 'listTasks', arguments: {} } },
        { text: 'Rope.' },
      ]);

      const before = tasksApi.requests.length;
      const asked = await chat(gpt.id, 'What is on my list?');
      expect(tasksApi.requests.length).toBe(before);
      expect(asked.response.headers.get('x-atelier-pending-actions')).toContain(action.domain);
      expect((asked.data as Json).atelier_pending_actions).toEqual([
        expect.objectContaining({
          type: 'consent_required',
          action_id: action.id,
          operation: 'listTasks',
          domain: action.domain,
          can_always_allow: true,
        }),
      ]);
      expect(lastToolOutput()).toContain('has not allowed');

      const answer = await ada.call('POST', `/api/gpts/${gpt.id}/consents`, {
        body: {
          action_id: action.id,
          domain: action.domain,
          operation: 'listTasks',
          decision: 'always_allow',
        },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ object: 'gpt.action_consent', always_allowed: true });

      const allowed = await chat(gpt.id, 'What is on my list?');
      expect(allowed.data.choices[0]!.message.content).toBe('Rope.');
      expect((allowed.data as Json).atelier_pending_actions).toBeUndefined();
      expect(tasksApi.requests.length).toBe(before + 1);
      expect(tasksApi.requests.at(-1)).toMatchObject({ method: 'GET', url: '/tasks' });
      expect(tasksApi.requests.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(lastToolOutput()).toContain('Buy rope');

      expectEnvelope(
        await ada.call('POST', `/api/gpts/${gpt.id}/consents`, {
          body: { action_id: action.id, domain: 'elsewhere.example', decision: 'allow_once' },
        }),
        400,
        'domain_mismatch',
      );
    });

    it('asks every time for a consequential operation, and Decline sends nothing', async () => {
      const action = await createAction({ text: tasksDocument(tasksApi.url) });
      const gpt = await createGpt(action.id);
      upstream.script('Add rope', [
        { call: { name: 'addTask', arguments: { title: 'rope' } } },
        { text: 'Done.' },
      ]);
      const consent = (decision: string) =>
        ada.call('POST', `/api/gpts/${gpt.id}/consents`, {
          body: { action_id: action.id, domain: action.domain, operation: 'addTask', decision },
        });
      const before = tasksApi.requests.length;

      const asked = await chat(gpt.id, 'Add rope');
      expect((asked.data as Json).atelier_pending_actions[0]).toMatchObject({
        operation: 'addTask',
        can_always_allow: false,
        preview: expect.objectContaining({ method: 'POST', body: { title: 'rope' } }),
      });
      expectEnvelope(await consent('always_allow'), 400, 'consent_not_rememberable');

      expect((await consent('decline')).status).toBe(200);
      const declined = await chat(gpt.id, 'Add rope');
      expect((declined.data as Json).atelier_pending_actions).toHaveLength(1);
      expect(tasksApi.requests.length).toBe(before);

      expect((await consent('allow_once')).status).toBe(200);
      await chat(gpt.id, 'Add rope');
      expect(tasksApi.requests.length).toBe(before + 1);
      expect(tasksApi.requests.at(-1)).toMatchObject({ method: 'POST', url: '/tasks' });
      expect(JSON.parse(tasksApi.requests.at(-1)!.body)).toEqual({ title: 'rope' });

      // Allowed once means once: the next call asks again.
      const again = await chat(gpt.id, 'Add rope');
      expect((again.data as Json).atelier_pending_actions).toHaveLength(1);
      expect(tasksApi.requests.length).toBe(before + 1);

      // Streaming, the question comes last, in a chunk without choices.
      const stream = await ada.sdk(server).chat.completions.create({
        model: `gpt-${gpt.id}`,
        messages: [{ role: 'user', content: 'Add rope' }],
        stream: true,
      });
      const chunks: Json[] = [];
      for await (const chunk of stream) chunks.push(chunk as Json);
      expect(chunks.at(-1)).toMatchObject({
        object: 'chat.completion.chunk',
        choices: [],
        atelier_pending_actions: [
          expect.objectContaining({ type: 'consent_required', operation: 'addTask' }),
        ],
      });
      expect(chunks.slice(0, -1).every((chunk) => chunk.atelier_pending_actions === undefined)).toBe(true);
      expect(tasksApi.requests.length).toBe(before + 1);
    });

    it('refuses loopback addresses the admin did not allow', async () => {
      // Only 127.0.0.1 is allowed on this server: the rest of 127.0.0.0/8 is still refused.
      const action = await createAction({ text: tasksDocument(`http://127.0.0.2:${tasksApi.port}`) });
      const gpt = await createGpt(action.id);
      await ada.call('POST', `/api/gpts/${gpt.id}/consents`, {
        body: { action_id: action.id, domain: action.domain, decision: 'always_allow' },
      });
      upstream.script('List from the other host', [
        { call: { name: 'listTasks', arguments: {} } },
        { text: 'Could not reach it.' },
      ]);
      const answer = await chat(gpt.id, 'List from the other host');
      expect(answer.data.choices[0]!.message.content).toBe('Could not reach it.');
      expect(lastToolOutput()).toMatch(/Refused to connect to 127\.0\.0\.2.*loopback/);
    });

    it('requires known actions of the workspace, and a privacy policy URL to share beyond "only me"', async () => {
      expectEnvelope(
        await ada.call('POST', '/api/gpts', { body: { name: 'Ghost', action_ids: ['act_missing'] } }),
        400,
        'action_not_found',
      );
      const action = await createAction({ text: tasksDocument(tasksApi.url) });
      expectEnvelope(
        await ada.call('POST', '/api/gpts', {
          body: { name: 'Shared', action_ids: [action.id], visibility: 'link' },
        }),
        400,
        'privacy_policy_required',
      );
      const gpt = await createGpt(action.id);
      expect(gpt.visibility).toBe('private');
      expectEnvelope(
        await ada.call('PATCH', `/api/gpts/${gpt.id}/sharing`, { body: { visibility: 'workspace' } }),
        400,
        'privacy_policy_required',
      );
      const fixed = await ada.call('PATCH', `/api/actions/${action.id}`, {
        body: { privacy_policy_url: 'https://tasks.example/privacy' },
      });
      expect(fixed.body.privacy_policy_url).toBe('https://tasks.example/privacy');
      const shared = await ada.call('PATCH', `/api/gpts/${gpt.id}/sharing`, {
        body: { visibility: 'workspace' },
      });
      expect(shared.status).toBe(200);
      expect(shared.body.visibility).toBe('workspace');
    });

    it('signs in with OAuth through the start and callback routes', async () => {
      const action = await createAction({
        text: tasksDocument(tasksApi.url),
        auth: {
          type: 'oauth',
          client_id: 'atelier-client',
          client_secret: 'client-secret-1',
          authorization_url: `${oauthServer.url}/authorize`,
          token_url: `${oauthServer.url}/token`,
          scope: 'tasks',
        },
      });
      expect(action.auth).toMatchObject({
        type: 'oauth',
        client_id: 'atelier-client',
        has_client_secret: true,
      });
      const start = await fetch(`${origin}/api/actions/${action.id}/oauth/start`, {
        headers: { cookie: ada.cookie! },
        redirect: 'manual',
      });
      expect(start.status).toBe(302);
      const authorize = new URL(start.headers.get('location')!);
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${oauthServer.url}/authorize`);
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${origin}/api/actions/oauth/callback`);
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      const state = authorize.searchParams.get('state')!;

      // The provider sends the browser back with a code.
      const callback = await fetch(
        `${origin}/api/actions/oauth/callback?state=${encodeURIComponent(state)}&code=code-123`,
        { headers: { cookie: ada.cookie! } },
      );
      expect(callback.status).toBe(200);
      expect(callback.headers.get('content-type')).toMatch(/text\/html/);
      expect(await callback.text()).toContain('atelier.action_oauth');
      const exchange = new URLSearchParams(oauthServer.requests.at(-1)!.body);
      expect(exchange.get('code')).toBe('code-123');
      expect(exchange.get('grant_type')).toBe('authorization_code');
      expect(exchange.get('code_verifier')).toBeTruthy();

      const read = await ada.call('GET', `/api/actions/${action.id}`);
      expect(read.body.oauth_connection).toMatchObject({ connected: true });
      expect(JSON.stringify(read.body)).not.toContain('client-secret-1');

      // A state is used once.
      expectEnvelope(
        await ada.call('GET', `/api/actions/oauth/callback?state=${encodeURIComponent(state)}&code=code-123`),
        400,
        'invalid_oauth_state',
      );
    });
  });
}
