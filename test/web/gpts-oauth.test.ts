// An OAuth 2 action in Debian's Chromium, end to end: Ada gives her GPT an action whose API signs
// people in with OAuth (authorization code + PKCE) at a local OAuth server started here, and
// publishes it. Bob, another person in another workspace, chats with the GPT: he is asked to sign
// in, goes through the provider's authorize page in a popup, comes back, allows the call, and the
// action reaches the local API with `Authorization: Bearer <the token this provider issued him>`;
// the answer shown is made from the API's result. Screenshots go to test-results/web/.
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import {
  type LocalServer,
  sendJson,
  startLocalServer,
} from '../../packages/server/src/tools/outbound/test-support/local-server.js';
import { startApiServer } from '../support/api-server.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { tasksDocument } from '../support/tasks-openapi.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';
import { signUp, startGpt } from './pages.js';

const CLIENT_ID = 'atelier-tasks-client';
const CLIENT_SECRET = 'tasks-client-secret-42';
const QUESTION = 'What is on my task list?';
const GPT_NAME = 'Task keeper';

/** What the provider issued: authorization codes (with their PKCE challenge) and access tokens. */
interface Grant {
  readonly challenge: string;
  readonly redirectUri: string;
  readonly user: string;
}

/** The provider's authorize page: what a person sees before granting access, with one button. */
function authorizePage(params: URLSearchParams): string {
  const hidden = ['redirect_uri', 'state', 'code_challenge', 'client_id']
    .map((name) => `<input type="hidden" name="${name}" value="${params.get(name) ?? ''}">`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Tasks: sign in</title></head><body>
<h1>Allow ${params.get('client_id')} to read your tasks?</h1>
<form method="post" action="/authorize">${hidden}
<label>Account <input name="user" value="bob@tasks.example"></label>
<button type="submit">Allow access</button></form></body></html>`;
}

let upstream: ScriptedUpstream;
let provider: LocalServer;
let server: TestServer;
let origin: string;
let browser: Browser;
let ada: Page;
let bob: Page;
let webDir = '';
let gptId = '';
const codes = new Map<string, Grant>();
const tokens = new Map<string, string>();

const taskCalls = () => provider.requests.filter((request) => request.url.startsWith('/tasks'));
const tokenCalls = () => provider.requests.filter((request) => request.url === '/token');

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;

describeBrowser('an OAuth action in a browser', () => {
  beforeAll(async () => {
    webDir = buildWebApp();
    upstream = await startScriptedUpstream();
    // The model calls the action, then answers from what it returned (nothing made up).
    upstream.script(QUESTION, [
      { call: { name: 'listTasks', arguments: {} } },
      {
        reply: (output) => {
          const parsed = JSON.parse(output) as { type?: string; body?: unknown };
          if (parsed.type !== 'action_response' || !Array.isArray(parsed.body)) {
            return 'I cannot see your task list yet.';
          }
          const titles = (parsed.body as { title: string }[]).map((task) => task.title);
          return `Your list has ${titles.length} task: ${titles.join(', ')}.`;
        },
      },
    ]);
    provider = await startLocalServer((request, response) => {
      const url = new URL(request.url, provider.url);
      if (url.pathname === '/openapi.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(tasksDocument(provider.url));
        return;
      }
      if (url.pathname === '/authorize' && request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(authorizePage(url.searchParams));
        return;
      }
      if (url.pathname === '/authorize' && request.method === 'POST') {
        const form = new URLSearchParams(request.body);
        const code = randomBytes(12).toString('hex');
        codes.set(code, {
          challenge: form.get('code_challenge') ?? '',
          redirectUri: form.get('redirect_uri') ?? '',
          user: form.get('user') ?? '',
        });
        const back = new URL(form.get('redirect_uri') ?? '');
        back.searchParams.set('code', code);
        back.searchParams.set('state', form.get('state') ?? '');
        response.writeHead(302, { location: back.href });
        response.end();
        return;
      }
      if (url.pathname === '/token' && request.method === 'POST') {
        const form = new URLSearchParams(request.body);
        const grant = codes.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (
          !grant ||
          form.get('grant_type') !== 'authorization_code' ||
          form.get('client_id') !== CLIENT_ID ||
          form.get('client_secret') !== CLIENT_SECRET ||
          form.get('redirect_uri') !== grant.redirectUri ||
          challenge !== grant.challenge
        ) {
          return sendJson(response, 400, { error: 'invalid_grant' });
        }
        codes.delete(form.get('code') ?? '');
        const token = `tasks-token-${randomBytes(12).toString('hex')}`;
        tokens.set(token, grant.user);
        return sendJson(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      }
      if (url.pathname === '/tasks') {
        const presented = /^Bearer (.+)$/.exec(request.headers['authorization'] ?? '')?.[1] ?? '';
        if (!tokens.has(presented)) return sendJson(response, 401, { error: 'sign in first' });
        return sendJson(response, 200, [{ id: 1, title: `Buy rope for ${tokens.get(presented)}` }]);
      }
      return sendJson(response, 404, { error: 'not found' });
    });
    server = await startApiServer({
      env: {
        ATELIER_UPSTREAMS: JSON.stringify([
          { name: 'script', base_url: upstream.baseUrl, prefix: 'scripted/' },
        ]),
        ATELIER_OUTBOUND_ALLOW: '127.0.0.1',
        ATELIER_WEB_DIR: webDir,
      },
    });
    origin = server.baseURL.replace(/\/v1$/, '');
    browser = await launchChromium();
    const options = { viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' as const };
    ada = await (await browser.newContext(options)).newPage();
    bob = await (await browser.newContext(options)).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await upstream?.close();
    await provider?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  it('lets the builder set up OAuth for an action and publish the GPT', async () => {
    await signUp(ada, origin, { name: 'Ada Lovelace', email: 'ada@example.com' });
    gptId = await startGpt(ada, origin, GPT_NAME);
    await ada.getByLabel('Model').selectOption('scripted/coder');

    await ada.getByRole('button', { name: 'Create new action' }).click();
    const editor = ada.getByRole('dialog', { name: 'New action' });
    await editor.getByLabel('Import from URL').fill(`${provider.url}/openapi.json`);
    await editor.getByRole('button', { name: 'Import', exact: true }).click();
    const operations = editor.getByRole('table', { name: 'Available operations' });
    await expect.poll(() => operations.getByRole('row').count(), { timeout: 15_000 }).toBe(3);
    await editor.getByRole('radio', { name: 'OAuth' }).check();
    await editor.getByLabel('Client ID').fill(CLIENT_ID);
    await editor.getByLabel('Client secret').fill(CLIENT_SECRET);
    await editor.getByLabel('Authorization URL').fill(`${provider.url}/authorize`);
    await editor.getByLabel('Token URL').fill(`${provider.url}/token`);
    await editor.getByLabel('Scope').fill('tasks.read');
    // The address to register with the provider is shown where the builder needs it.
    expect(await editor.getByLabel('Callback URL').inputValue()).toBe(`${origin}/api/actions/oauth/callback`);
    await editor.getByLabel('Privacy policy URL').fill('https://example.com/privacy');
    await screenshot(ada, 'gpts-oauth-01-editor');
    await editor.getByRole('button', { name: 'Save action' }).click();
    await expect.poll(() => editor.isVisible()).toBe(false);
    await expect.poll(() => ada.locator('.gpt-save-state').textContent(), { timeout: 30_000 }).toBe('Saved');
    expect(await ada.content()).not.toContain(CLIENT_SECRET);

    await ada.getByRole('button', { name: 'Publish' }).click();
    const share = ada.getByRole('dialog', { name: 'Share GPT' });
    await share.getByRole('radio', { name: /^Everyone/ }).check();
    await share.getByRole('button', { name: 'Publish' }).click();
    await ada
      .getByRole('dialog', { name: 'GPT published' })
      .getByRole('button', { name: 'Close' })
      .first()
      .click();
    await expect.poll(() => ada.getByText('Published · version 1').isVisible()).toBe(true);
    // Nothing reached the provider but the document (read to preview it, then to save it).
    expect(new Set(provider.requests.map((request) => request.url))).toEqual(new Set(['/openapi.json']));
  }, 120_000);

  it('signs a user in through the provider, then the call carries the token it issued', async () => {
    await signUp(bob, origin, { name: 'Bob Stone', email: 'bob@example.com' });
    await bob.goto(`${origin}/g/${gptId}`);
    const box = bob.getByRole('textbox', { name: `Message ${GPT_NAME}` });
    await box.fill(QUESTION);
    await box.press('Enter');

    // Not signed in yet: nothing is sent, and the dialog offers the sign-in.
    const ask = bob.getByRole('dialog', { name: `${GPT_NAME} wants to talk to 127.0.0.1` });
    await ask.waitFor({ timeout: 60_000 });
    const signIn = ask.getByRole('button', { name: 'Sign in to 127.0.0.1' });
    await expect.poll(() => signIn.isVisible()).toBe(true);
    expect(taskCalls()).toEqual([]);
    await screenshot(bob, 'gpts-oauth-02-sign-in');

    const [popup] = await Promise.all([bob.waitForEvent('popup'), signIn.click()]);
    await popup.getByRole('heading', { name: `Allow ${CLIENT_ID} to read your tasks?` }).waitFor();
    const authorize = new URL(popup.url());
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${provider.url}/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(authorize.searchParams.get('scope')).toBe('tasks.read');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${origin}/api/actions/oauth/callback`);
    await screenshot(popup, 'gpts-oauth-03-authorize');
    await popup.getByRole('button', { name: 'Allow access' }).click();
    // The callback exchanges the code and closes the popup (polled: it may close before any wait).
    await expect.poll(() => popup.isClosed(), { timeout: 30_000 }).toBe(true);
    expect(tokenCalls()).toHaveLength(1);
    expect(tokens.size).toBe(1);
    const [issued] = [...tokens.keys()];

    // Signed in: the answer goes on, and the call now asks for consent.
    await expect
      .poll(() => ask.getByRole('button', { name: 'Allow', exact: true }).isVisible(), {
        timeout: 60_000,
      })
      .toBe(true);
    expect(taskCalls()).toEqual([]);
    await ask.getByRole('button', { name: 'Allow', exact: true }).click();

    await expect.poll(() => taskCalls().length, { timeout: 60_000 }).toBe(1);
    expect(taskCalls()[0]).toMatchObject({ method: 'GET', url: '/tasks' });
    expect(taskCalls()[0]!.headers['authorization']).toBe(`Bearer ${issued}`);
    const last = bob.locator('.message-assistant').last();
    await expect
      .poll(
        async () => (await last.getAttribute('data-status')) === 'complete' && (await last.textContent()),
        {
          timeout: 60_000,
        },
      )
      .toContain('Your list has 1 task: Buy rope for bob@tasks.example.');
    await screenshot(bob, 'gpts-oauth-04-answer');

    // The token is Bob's: the builder was never signed in, and the API saw no other credential.
    const connection = await bob.request.get(`${origin}/api/gpts/${gptId}`);
    expect(connection.status()).toBe(200);
    expect(JSON.stringify(await connection.json())).not.toContain(issued!);
    expect(
      provider.requests.filter((request) => request.url === '/tasks' && !request.headers['authorization']),
    ).toEqual([]);
  }, 180_000);
});
