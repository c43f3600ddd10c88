// Signing in to a GPT's OAuth action as one of its users, on both databases: the person chatting
// is rarely in the workspace that keeps the action, so the sign-in starts from the GPT
// (`/api/actions/{id}/oauth/start?gpt_id=…`) for whoever may chat with it, and for nobody else;
// the tokens that come back are that person's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  type LocalServer,
  sendJson,
  startLocalServer,
} from '../../packages/server/src/tools/outbound/test-support/local-server.js';
import { expectEnvelope, type Json, Visitor } from '../support/web-visitor.js';
import { DIALECTS, type DialectServer, startDialectServer } from './vector-stores-support.js';

const document = (url: string) =>
  JSON.stringify({
    openapi: '3.1.0',
    info: { title: 'Tasks', version: '1' },
    servers: [{ url }],
    paths: { '/tasks': { get: { operationId: 'listTasks', responses: { 200: { description: 'ok' } } } } },
  });

for (const dialect of DIALECTS) {
  describe(`OAuth sign-in from a GPT's chat [${dialect}]`, () => {
    let provider: LocalServer;
    let dialectServer: DialectServer;
    let server: TestServer;
    let origin: string;
    let ada: Visitor;
    let bob: Visitor;
    let action: Json;
    let gpt: Json;

    const start = (visitor: Visitor, query: string) =>
      fetch(`${origin}/api/actions/${action.id}/oauth/start${query}`, {
        headers: visitor.cookie ? { cookie: visitor.cookie } : {},
        redirect: 'manual',
      });

    beforeAll(async () => {
      provider = await startLocalServer((request, response) => {
        if (request.url === '/token') {
          return sendJson(response, 200, {
            access_token: 'bob-token',
            token_type: 'bearer',
            expires_in: 3600,
          });
        }
        return sendJson(response, 404, {});
      });
      dialectServer = await startDialectServer(dialect, { ATELIER_OUTBOUND_ALLOW: '127.0.0.1' });
      server = dialectServer.server;
      origin = server.baseURL.replace(/\/v1$/, '');
      ada = new Visitor(origin);
      bob = new Visitor(origin);
      await ada.signUp('Ada', 'ada@example.com');
      await bob.signUp('Bob', 'bob@example.com');
      const created = await ada.call('POST', '/api/actions', {
        body: {
          text: document(`${provider.url}`),
          privacy_policy_url: 'https://example.com/privacy',
          auth: {
            type: 'oauth',
            client_id: 'atelier-client',
            client_secret: 'client-secret-1',
            authorization_url: `${provider.url}/authorize`,
            token_url: `${provider.url}/token`,
          },
        },
      });
      expect(created.status).toBe(201);
      action = created.body;
      const made = await ada.call('POST', '/api/gpts', {
        body: { name: 'Task keeper', action_ids: [action.id], visibility: 'public' },
      });
      expect(made.status).toBe(201);
      gpt = (await ada.call('POST', `/api/gpts/${made.body.id}/publish`)).body;
    });
    afterAll(async () => {
      await dialectServer?.close();
      await provider?.close();
    });

    it('starts for a user of the GPT, not through the action alone, and keeps the tokens as theirs', async () => {
      // The action is kept in Ada's workspace: Bob cannot reach it directly.
      expectEnvelope(await bob.call('GET', `/api/actions/${action.id}/oauth/start`), 404, null);
      const started = await start(bob, `?gpt_id=${gpt.id}`);
      expect(started.status).toBe(302);
      const authorize = new URL(started.headers.get('location')!);
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${provider.url}/authorize`);
      expect(authorize.searchParams.get('redirect_uri')).toBe(`${origin}/api/actions/oauth/callback`);

      const callback = await fetch(
        `${origin}/api/actions/oauth/callback?state=${encodeURIComponent(authorize.searchParams.get('state')!)}&code=c1`,
        { headers: { cookie: bob.cookie! } },
      );
      expect(callback.status).toBe(200);
      const bobId = (await bob.call('GET', '/api/session')).body.account.id;
      expect(
        await server.server.actions.oauthStatus({ accountId: bobId, actionId: action.id }),
      ).toMatchObject({
        connected: true,
      });
      // Ada's own connection is untouched: tokens are per person.
      expect((await ada.call('GET', `/api/actions/${action.id}`)).body.oauth_connection).toMatchObject({
        connected: false,
      });
    });

    it('refuses a GPT the person cannot chat with, or one that does not use the action', async () => {
      const unrelated = await ada.call('POST', '/api/gpts', {
        body: { name: 'Other', visibility: 'public' },
      });
      await ada.call('POST', `/api/gpts/${unrelated.body.id}/publish`);
      expectEnvelope(
        await bob.call('GET', `/api/actions/${action.id}/oauth/start?gpt_id=${unrelated.body.id}`),
        404,
        null,
      );
      const hidden = await ada.call('POST', '/api/gpts', { body: { name: 'Mine', action_ids: [action.id] } });
      await ada.call('POST', `/api/gpts/${hidden.body.id}/publish`);
      expectEnvelope(
        await bob.call('GET', `/api/actions/${action.id}/oauth/start?gpt_id=${hidden.body.id}`),
        404,
        null,
      );
      expectEnvelope(
        await bob.call('GET', `/api/actions/${action.id}/oauth/start?gpt_id=${gpt.id}&x=1`),
        400,
        'unknown_parameter',
      );
      const anonymous = new Visitor(origin);
      expectEnvelope(
        await anonymous.call('GET', `/api/actions/${action.id}/oauth/start?gpt_id=${gpt.id}`),
        401,
        'not_signed_in',
      );
      // The builder signs in from her own GPT (or through the action, as before).
      expect((await start(ada, `?gpt_id=${hidden.body.id}`)).status).toBe(302);
      expect((await start(ada, '')).status).toBe(302);
    });
  });
}
