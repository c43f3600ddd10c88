// A GPT's action in Debian's Chromium, against a real server whose model is scripted to call it:
// Ada adds an action to her GPT by importing an OpenAPI document from a local test API (bearer
// API key, write-only), sees its operations, then asks in the preview. The consent dialog comes
// up before anything is sent: Decline leaves the API untouched and says so in the chat; asking
// again and Allow sends exactly one request, with the key, and the answer comes back. In a chat,
// what the model said before the call stays above the rest of the answer once it goes on. The
// editor and the dialog are also shot at 375 px. Screenshots go to test-results/web/.
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

let webDir = '';
const API_KEY = 'sk-tasks-web-0123456789';
const QUESTION = 'What is on my task list?';
const ANSWER = 'Your list has one task: Buy rope.';
/** What the model says before it calls the action. */
const BEFORE_CALL = 'Let me look at your list.';
/** An answer's text has what the model said before the call, then its answer. */
const saidInOrder = (text: string | null, answer = ANSWER) => {
  const before = (text ?? '').indexOf(BEFORE_CALL);
  return before >= 0 && before < (text ?? '').indexOf(answer);
};

let upstream: ScriptedUpstream;
let tasksApi: LocalServer;
let server: TestServer;
let origin: string;
let browser: Browser;
let page: Page;

/** Requests that reached the tasks API itself (not its schema). */
const taskCalls = () => tasksApi.requests.filter((request) => request.url.startsWith('/tasks'));

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;

describeBrowser('a GPT action in a browser', () => {
  beforeAll(async () => {
    // Its own copy of the build: another file's build must not change the page under this one.
    webDir = buildWebApp();
    // A word every 100 ms: an answer can be seen while it is written.
    upstream = await startScriptedUpstream({ wordDelayMs: 100 });
    upstream.script(QUESTION, [
      { text: BEFORE_CALL, call: { name: 'listTasks', arguments: {} } },
      { text: ANSWER },
    ]);
    tasksApi = await startLocalServer((request, response) => {
      if (request.url === '/openapi.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(tasksDocument(tasksApi.url));
        return;
      }
      return sendJson(response, 200, [{ id: 1, title: 'Buy rope' }]);
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
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      serviceWorkers: 'block',
    });
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await upstream?.close();
    await tasksApi?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  it('adds an action imported from a URL, with a bearer key that is never shown again', async () => {
    await signUp(page, origin, { name: 'Ada Lovelace', email: 'ada@example.com' });
    await startGpt(page, origin, 'Task keeper');
    await page.getByLabel('Model').selectOption('scripted/coder');

    await page.getByRole('button', { name: 'Create new action' }).click();
    const editor = page.getByRole('dialog', { name: 'New action' });
    await editor.getByLabel('Import from URL').fill(`${tasksApi.url}/openapi.json`);
    await editor.getByRole('button', { name: 'Import', exact: true }).click();
    const operations = editor.getByRole('table', { name: 'Available operations' });
    await expect.poll(() => operations.getByRole('row').count(), { timeout: 15_000 }).toBe(3);
    expect(await operations.getByRole('row').nth(1).innerText()).toMatch(/listTasks\s+GET\s+\/tasks\s+No/);
    expect(await operations.getByRole('row').nth(2).innerText()).toMatch(/addTask\s+POST\s+\/tasks\s+Yes/);
    expect(tasksApi.requests.map((request) => request.url)).toEqual(['/openapi.json']);

    await editor.getByRole('radio', { name: 'API key' }).check();
    await editor.getByRole('textbox', { name: 'API key' }).fill(API_KEY);
    await editor.getByRole('radio', { name: 'Bearer' }).check();
    await editor.getByLabel('Privacy policy URL').fill('https://example.com/privacy');
    await screenshot(page, 'gpts-actions-01-editor');
    await page.setViewportSize({ width: 375, height: 740 });
    await screenshot(page, 'gpts-actions-02-editor-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    await editor.getByRole('button', { name: 'Save action' }).click();
    await expect.poll(() => editor.isVisible()).toBe(false);

    const row = page.getByRole('list', { name: 'Actions of this GPT' }).getByRole('listitem');
    await expect.poll(() => row.innerText()).toMatch(/Tasks[\s\S]*127\.0\.0\.1 · 2 operations/);
    await expect.poll(() => page.locator('.gpt-save-state').textContent(), { timeout: 30_000 }).toBe('Saved');

    // Opened again, the key is "saved", never shown.
    await row.getByRole('button', { name: 'Edit action Tasks' }).click();
    const again = page.getByRole('dialog', { name: 'Edit action' });
    const key = again.getByRole('textbox', { name: 'API key' });
    expect(await key.inputValue()).toBe('');
    expect(await key.getAttribute('placeholder')).toBe('Saved');
    expect(await page.content()).not.toContain(API_KEY);
    await again.getByRole('button', { name: 'Cancel' }).click();
  }, 120_000);

  it('asks before calling: Decline sends nothing; Allow sends one request with the key', async () => {
    const ask = async () => {
      await page.getByRole('textbox', { name: 'Message Task keeper' }).fill(QUESTION);
      await page.getByRole('textbox', { name: 'Message Task keeper' }).press('Enter');
    };
    const consent = page.getByRole('dialog', { name: 'Task keeper wants to talk to 127.0.0.1' });

    // First on a phone: the builder shows its preview through the header's switch.
    await page.setViewportSize({ width: 375, height: 740 });
    const closeSidebar = page.getByRole('button', { name: 'Close sidebar' });
    if (await closeSidebar.isVisible()) await closeSidebar.click();
    await page.getByRole('button', { name: 'Preview' }).click();
    await ask();
    await consent.waitFor({ timeout: 60_000 });
    await consent.getByText('What will be sent').click();
    await expect.poll(() => consent.getByText(`${tasksApi.url}/tasks`).isVisible()).toBe(true);
    expect(await consent.getByRole('button', { name: 'Always allow' }).isVisible()).toBe(true);
    await screenshot(page, 'gpts-actions-04-consent-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    await screenshot(page, 'gpts-actions-03-consent');

    await consent.getByRole('button', { name: 'Decline' }).click();
    await expect.poll(() => consent.isVisible()).toBe(false);
    await expect.poll(() => page.getByText('Declined: nothing was sent to 127.0.0.1').isVisible()).toBe(true);
    expect(taskCalls()).toEqual([]);
    const modelCalls = upstream.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(upstream.requests.length).toBe(modelCalls); // not sent again

    await ask();
    await consent.waitFor({ timeout: 60_000 });
    expect(taskCalls()).toEqual([]);
    await consent.getByRole('button', { name: 'Allow', exact: true }).click();
    await expect.poll(() => taskCalls().length, { timeout: 60_000 }).toBe(1);
    expect(taskCalls()[0]).toMatchObject({ method: 'GET', url: '/tasks' });
    expect(taskCalls()[0]!.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    const last = page.locator('.gpt-message-assistant').last();
    await expect
      .poll(async () => (await last.getAttribute('data-status')) === 'done' && (await last.innerText()), {
        timeout: 60_000,
      })
      .toContain(ANSWER);
    // What the model got the second time was the API's answer.
    const tool = (upstream.requests.at(-1)!['messages'] as { role: string; content: string }[]).findLast(
      (message) => message.role === 'tool',
    );
    expect(tool?.content).toContain('Buy rope');
    expect(tool?.content).toContain('action_response');
    expect(taskCalls()).toHaveLength(1);
    await screenshot(page, 'gpts-actions-05-answer');
  }, 180_000);

  it('in a chat with the GPT, Decline sends nothing; the chat stays in the history', async () => {
    const gptId = /\/gpts\/(g-\w+)\/edit$/.exec(page.url())?.[1];
    expect(gptId).toBeTruthy();
    await page.goto(`${origin}/g/${gptId}`);
    const box = page.getByRole('textbox', { name: 'Message Task keeper' });
    await box.fill(QUESTION);
    await box.press('Enter');
    const consent = page.getByRole('dialog', { name: 'Task keeper wants to talk to 127.0.0.1' });
    await consent.waitFor({ timeout: 60_000 });
    // The chat exists already, waiting on the answer.
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/c\/chat_\w+$/);
    await screenshot(page, 'gpts-actions-06-chat-consent');
    await consent.getByRole('button', { name: 'Decline' }).click();
    await expect.poll(() => consent.isVisible()).toBe(false);
    // The answer goes on without the call: the model heard the Decline, nothing was sent. What it
    // said before the call stays, above the new words, while they are written and after.
    const firstWord = ANSWER.split(' ')[0]!;
    const whileWriting = await (
      await page.waitForFunction(
        (word) => {
          const answer = [...document.querySelectorAll('.message-assistant')].at(-1);
          const text = answer?.textContent ?? '';
          return answer?.getAttribute('data-status') === 'streaming' && text.includes(word) ? text : null;
        },
        firstWord,
        { timeout: 60_000 },
      )
    ).jsonValue();
    expect(saidInOrder(whileWriting, firstWord)).toBe(true);
    const last = page.locator('.message-assistant').last();
    await expect
      .poll(
        async () => (await last.getAttribute('data-status')) === 'complete' && (await last.textContent()),
        {
          timeout: 60_000,
        },
      )
      .toContain(ANSWER);
    expect(saidInOrder(await last.textContent())).toBe(true);
    const tool = (upstream.requests.at(-1)!['messages'] as { role: string; content: string }[]).findLast(
      (message) => message.role === 'tool',
    );
    expect(tool?.content).toContain('action_declined');
    expect(taskCalls()).toHaveLength(1);

    await page.reload();
    await expect
      .poll(() => page.locator('.history-item a', { hasText: 'What is on my task list' }).count(), {
        timeout: 30_000,
      })
      .toBe(1);
    await expect.poll(() => page.locator('.message-assistant').last().textContent()).toContain(ANSWER);
    expect(saidInOrder(await page.locator('.message-assistant').last().textContent())).toBe(true);
    expect(await page.getByRole('dialog', { name: 'Task keeper wants to talk to 127.0.0.1' }).count()).toBe(
      0,
    );
    await screenshot(page, 'gpts-actions-07-chat-declined');
  }, 180_000);
});
