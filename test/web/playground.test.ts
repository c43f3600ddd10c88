// The Assistants playground in Debian's Chromium against a real server on the test model, used
// like a developer would: create an assistant with a function tool (its JSON checked as typed),
// run it on a thread with tool_choice forcing the function, answer the call, watch the run
// complete with its steps; edit, attach files, cancel, delete; a 375 px phone. What the page
// shows is checked against what the official `openai` client reads with a key of the same
// workspace. Screenshots go to test-results/web/.
import { rm } from 'node:fs/promises';
import OpenAI from 'openai';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';

const PASSWORD = 'correct horse battery';
let webDir = '';
const FORECAST = {
  name: 'get_forecast',
  description: 'Weather forecast for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 24 }, days: { type: 'integer' } },
    required: ['city', 'days'],
    additionalProperties: false,
  },
};

let server: TestServer;
let origin: string;
let browser: Browser;
let page: Page;
/** The official client, with a key of Ada's personal workspace (where her session works). */
let client: OpenAI;
let assistantId: string;

const runCards = (target: Page) => target.locator('.run-card');
const statusOf = (card: Locator) => card.locator('.run-header .status-badge').textContent();
const outputsForm = (target: Page) => target.getByRole('form', { name: 'Submit tool outputs' });

/** Opens "Run options" (a disclosure that stays as it was left) and forces the function. */
async function forceFunction(target: Page, name: string): Promise<void> {
  const options = target.locator('details.run-options');
  if (!(await options.evaluate((details) => (details as HTMLDetailsElement).open))) {
    await options.getByText('Run options').click();
  }
  await target.getByLabel('Tool choice').selectOption({ label: `Function ${name}` });
}

/** Answers every function call the run waits for until it ends (the random model may call again). */
async function answerCallsUntilDone(target: Page, card: Locator, output: string): Promise<string> {
  for (let round = 0; round < 5; round++) {
    await expect
      .poll(() => statusOf(card), { timeout: 60_000 })
      .toMatch(/^(Requires action|Completed|Failed|Incomplete|Cancelled|Expired)$/);
    const status = await statusOf(card);
    if (status !== 'Requires action') return status ?? '';
    const form = outputsForm(target);
    const answered = await form.locator('label').allTextContents();
    for (const box of await form.getByRole('textbox').all()) await box.fill(output);
    await form.getByRole('button', { name: 'Submit outputs' }).click();
    // The form goes once the run moves on; if the model calls again, it comes back for new calls.
    await expect
      .poll(
        async () =>
          (await form.count()) === 0 ||
          (await form.locator('label').allTextContents()).join() !== answered.join(),
        {
          timeout: 60_000,
        },
      )
      .toBe(true);
  }
  return (await statusOf(card)) ?? '';
}

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;

describeBrowser('the Assistants playground in a browser', () => {
  beforeAll(async () => {
    // Its own copy of the build: another file's build must not change the page under this one.
    webDir = buildWebApp();
    server = await startApiServer({ env: { ATELIER_WEB_DIR: webDir } });
    origin = server.baseURL.replace(/\/v1$/, '');
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      serviceWorkers: 'block',
    });
    page = await context.newPage();
    if (process.env['ATELIER_TEST_BROWSER_DEBUG']) {
      page.on('console', (m) => console.log('console:', m.type(), m.text()));
      page.on('pageerror', (e) => console.log('pageerror:', e.message));
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  it('opens from the account menu, and creates an assistant with a function whose JSON is checked as typed', async () => {
    await page.goto(`${origin}/`);
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();

    // A key for Ada's personal workspace: what the playground makes, the API must show.
    const session = await (await page.request.get(`${origin}/api/session`)).json();
    const created = await page.request.post(`${origin}/api/workspaces/${session.workspace_id}/api-keys`, {
      headers: { 'x-atelier-csrf': session.csrf_token },
      data: { name: 'playground test' },
    });
    expect(created.status()).toBe(201);
    client = new OpenAI({ baseURL: server.baseURL, apiKey: (await created.json()).secret, maxRetries: 0 });

    await page.getByRole('button', { name: /^Account menu/ }).click();
    await page.getByRole('menuitem', { name: 'Playground' }).click();
    await page.getByRole('heading', { name: 'Playground', level: 1 }).waitFor();
    // No assistant yet: the form for a first one.
    await expect.poll(() => page.url()).toBe(`${origin}/playground/new`);
    await page.getByRole('heading', { name: 'New assistant' }).waitFor();
    expect(await page.getByLabel('Model').inputValue()).toBe('atelier-tiny');
    expect(await page.getByText('Create the assistant to run it on a thread.').isVisible()).toBe(true);

    await page.getByLabel('Name').fill('Forecaster');
    await page
      .getByRole('textbox', { name: 'Instructions', exact: true })
      .fill('Answer with the weather, briefly.');

    await page.getByRole('button', { name: 'Add function' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add function' });
    const editor = dialog.getByLabel('Definition (JSON)');
    await editor.fill('{"name": "get_forecast",');
    await expect.poll(() => dialog.getByText(/^This is not valid JSON/).isVisible()).toBe(true);
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    // Valid JSON, but `required` names a property that does not exist.
    await editor.fill(
      JSON.stringify({ ...FORECAST, parameters: { ...FORECAST.parameters, required: ['town'] } }),
    );
    await expect
      .poll(() =>
        dialog.getByText('At parameters: “town” is required but not among the properties.').isVisible(),
      )
      .toBe(true);
    await editor.fill(JSON.stringify(FORECAST, null, 2));
    await expect.poll(() => dialog.getByText('Valid JSON.').isVisible()).toBe(true);
    expect(await editor.getAttribute('aria-invalid')).toBeNull();
    await screenshot(page, 'playground-01-function-editor');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(
      await page.getByRole('list', { name: 'Functions' }).getByRole('listitem').allTextContents(),
    ).toEqual(['get_forecastWeather forecast for a city']);

    await page.getByRole('button', { name: 'Create assistant' }).click();
    await expect.poll(() => page.url()).toMatch(/\/playground\/asst_[A-Za-z0-9]+$/);
    assistantId = page.url().split('/').at(-1) ?? '';
    await page.getByText('All changes saved.').waitFor();
    expect(await page.getByRole('combobox', { name: 'Assistant' }).inputValue()).toBe(assistantId);
    await screenshot(page, 'playground-02-created');

    // Stored: a reload shows it, and the API returns what the form said.
    await page.reload();
    await page.getByRole('heading', { name: 'Assistant', exact: true }).waitFor();
    expect(await page.getByLabel('Name').inputValue()).toBe('Forecaster');
    expect(await page.getByRole('textbox', { name: 'Instructions', exact: true }).inputValue()).toBe(
      'Answer with the weather, briefly.',
    );
    expect(await page.getByRole('button', { name: 'Edit function get_forecast' }).isVisible()).toBe(true);
    const stored = await client.beta.assistants.retrieve(assistantId);
    expect(stored).toMatchObject({
      name: 'Forecaster',
      model: 'atelier-tiny',
      instructions: 'Answer with the weather, briefly.',
      tools: [{ type: 'function', function: FORECAST }],
      temperature: 1,
      top_p: 1,
    });
  });

  it('runs with tool_choice forcing the function: requires action, takes the output, completes, lists its steps', async () => {
    await forceFunction(page, 'get_forecast');
    await page.getByRole('textbox', { name: 'Message' }).fill('What is the weather in Seoul for 3 days?');
    const created = page.waitForResponse(
      (response) =>
        response.request().method() === 'POST' && /\/v1\/threads\/[^/]+\/runs$/.test(response.url()),
    );
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    // The run is created streaming: its events arrive as server-sent events.
    const response = await created;
    expect(response.request().postDataJSON()).toEqual({
      assistant_id: assistantId,
      tool_choice: { type: 'function', function: { name: 'get_forecast' } },
      stream: true,
    });
    expect(response.headers()['content-type']).toContain('text/event-stream');

    const card = runCards(page).first();
    await expect.poll(() => statusOf(card), { timeout: 60_000 }).toBe('Requires action');
    await expect.poll(() => page.url()).toMatch(/\?thread=thread_/);
    const threadId = new URL(page.url()).searchParams.get('thread') ?? '';
    // The user's message, then the run with the call and its schema-valid arguments.
    expect(await page.locator('.thread-message-user .message-text').textContent()).toBe(
      'What is the weather in Seoul for 3 days?',
    );
    const runId = (await card.getAttribute('data-run-id')) ?? '';
    const waiting = await client.beta.threads.runs.retrieve(runId, { thread_id: threadId });
    expect(waiting.status).toBe('requires_action');
    expect(waiting.tool_choice).toEqual({ type: 'function', function: { name: 'get_forecast' } });
    const call = waiting.required_action!.submit_tool_outputs.tool_calls[0]!;
    const args = JSON.parse(call.function.arguments);
    expect(Object.keys(args).sort()).toEqual(['city', 'days']);
    expect(await card.getByText('Function get_forecast').first().isVisible()).toBe(true);
    expect(await card.locator('.tool-call .code-box').first().textContent()).toBe(
      JSON.stringify(args, null, 2),
    );
    expect(await card.getByText('Waiting for your output.').isVisible()).toBe(true);
    expect(await outputsForm(page).getByLabel(`Output of get_forecast (${call.id})`).isVisible()).toBe(true);
    await screenshot(page, 'playground-03-requires-action');

    const final = await answerCallsUntilDone(page, card, '{"temperature": 21}');
    expect(final).toBe('Completed');
    const run = await client.beta.threads.runs.retrieve(runId, { thread_id: threadId });
    expect(run.status).toBe('completed');
    // Usage as the API reports it.
    await expect
      .poll(() => card.locator('.run-facts').textContent())
      .toContain(
        `${run.usage!.prompt_tokens} prompt + ${run.usage!.completion_tokens} completion = ${run.usage!.total_tokens}`,
      );
    // Every step the API lists is on the page, in order, with the call's output.
    const steps = await client.beta.threads.runs.steps.list(runId, { thread_id: threadId, order: 'asc' });
    await expect
      .poll(() =>
        card.locator('.step').evaluateAll((items) => items.map((item) => item.getAttribute('data-step-id'))),
      )
      .toEqual(steps.data.map((step) => step.id));
    const first = card.locator('.step').first();
    expect(await first.locator('.step-kind').textContent()).toBe('Tool calls');
    expect(await first.locator('.code-box').nth(1).textContent()).toBe('{\n  "temperature": 21\n}');
    const last = card.locator('.step').last();
    expect(await last.locator('.step-kind').textContent()).toBe('Message');
    const answer = await client.beta.threads.messages.list(threadId, { run_id: runId });
    const answerText =
      answer.data[0]?.content[0]?.type === 'text' ? answer.data[0].content[0].text.value : '';
    expect((await last.locator('.message-text').allTextContents()).join('')).toBe(answerText);
    await screenshot(page, 'playground-04-completed');

    // A reload reads the thread back from the API: the same run, steps and answer.
    await page.reload();
    await expect.poll(() => runCards(page).count()).toBe(1);
    expect(await statusOf(runCards(page).first())).toBe('Completed');
    expect(await runCards(page).first().locator('.step').count()).toBe(steps.data.length);
  });

  it('cancels a run that waits for outputs', async () => {
    await page.getByRole('button', { name: 'New thread' }).click();
    await expect.poll(() => page.url()).not.toContain('thread=');
    await expect.poll(() => runCards(page).count()).toBe(0);
    await forceFunction(page, 'get_forecast');
    await page.getByRole('textbox', { name: 'Message' }).fill('And in Busan?');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const card = runCards(page).first();
    await expect.poll(() => statusOf(card), { timeout: 60_000 }).toBe('Requires action');
    await card.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => statusOf(card)).toBe('Cancelled');
    await expect.poll(() => card.locator('.step .status-badge').first().textContent()).toBe('Cancelled');
    const threadId = new URL(page.url()).searchParams.get('thread') ?? '';
    const runs = await client.beta.threads.runs.list(threadId);
    expect(runs.data.map((item) => item.status)).toEqual(['cancelled']);
  });

  it('edits an assistant, gives its tools files, attaches a file to a message, and deletes it', async () => {
    await page.getByRole('combobox', { name: 'Assistant' }).selectOption('new');
    await page.getByRole('heading', { name: 'New assistant' }).waitFor();
    await page.getByLabel('Name').fill('Librarian');
    await page.getByRole('button', { name: 'Create assistant' }).click();
    await expect.poll(() => page.url()).not.toContain('/playground/new');
    const librarianId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    await page.getByText('All changes saved.').waitFor();

    // File search: the first upload makes the assistant's vector store.
    await page.getByRole('switch', { name: 'File search' }).check();
    await expect
      .poll(() => page.getByText('Unsaved changes: runs use the saved assistant.').isVisible())
      .toBe(true);
    const handbook = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Add files' }).first().click();
    await (await handbook).setFiles({
      name: 'handbook.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Handbook\n\nHolidays: 25 days a year.\n'),
    });
    const searchFiles = page.getByRole('list', { name: 'Files for file search' });
    await expect.poll(() => searchFiles.getByText('handbook.md').isVisible()).toBe(true);
    await expect
      .poll(() => searchFiles.locator('.status-badge').textContent(), { timeout: 30_000 })
      .toBe('Ready');

    // Code interpreter: uploaded files go to its tool_resources.
    await page.getByRole('switch', { name: 'Code interpreter' }).check();
    const data = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Add files' }).nth(1).click();
    await (await data).setFiles({
      name: 'data.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('a,b\n1,2\n'),
    });
    const codeFiles = page.getByRole('list', { name: 'Files for the code interpreter' });
    await expect.poll(() => codeFiles.getByText('data.csv').isVisible()).toBe(true);

    await page
      .getByRole('textbox', { name: 'Instructions', exact: true })
      .fill('Look things up in the handbook.');
    await page.getByLabel('Response format').selectOption('json_object');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('All changes saved.').waitFor();
    await screenshot(page, 'playground-05-tools-and-files');

    const librarian = await client.beta.assistants.retrieve(librarianId);
    expect(librarian.instructions).toBe('Look things up in the handbook.');
    expect(librarian.tools.map((tool) => tool.type)).toEqual(['code_interpreter', 'file_search']);
    expect(librarian.response_format).toEqual({ type: 'json_object' });
    const codeFileIds = librarian.tool_resources?.code_interpreter?.file_ids ?? [];
    expect(codeFileIds).toHaveLength(1);
    expect((await client.files.retrieve(codeFileIds[0]!)).filename).toBe('data.csv');
    const storeIds = librarian.tool_resources?.file_search?.vector_store_ids ?? [];
    expect(storeIds).toHaveLength(1);
    const storeFiles = await client.vectorStores.files.list(storeIds[0]!);
    expect(storeFiles.data).toHaveLength(1);
    expect((await client.files.retrieve(storeFiles.data[0]!.id)).filename).toBe('handbook.md');

    // A message with an attachment for file search, added without running.
    await page.getByRole('button', { name: 'New thread' }).click();
    const notes = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Attach files' }).click();
    await (await notes).setFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Remember the milk.'),
    });
    const pending = page.getByRole('list', { name: 'Attachments' });
    await expect.poll(() => pending.getByText('notes.txt').isVisible()).toBe(true);
    expect(await pending.getByRole('checkbox', { name: 'File search' }).isChecked()).toBe(true);
    await pending.getByRole('checkbox', { name: 'Code interpreter' }).uncheck();
    await page.getByRole('textbox', { name: 'Message' }).fill('What should I remember?');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const attached = page.getByRole('list', { name: 'Attached files' });
    await expect.poll(() => attached.textContent()).toBe('notes.txt File search');
    const threadId = new URL(page.url()).searchParams.get('thread') ?? '';
    const messages = await client.beta.threads.messages.list(threadId);
    expect(messages.data).toHaveLength(1);
    expect(messages.data[0]?.attachments).toEqual([
      { file_id: expect.stringMatching(/^file-/), tools: [{ type: 'file_search' }] },
    ]);

    // Deleting asks first, then the assistant is gone from the picker and from the API.
    await page.getByRole('button', { name: 'Delete assistant' }).click();
    await page
      .getByRole('dialog', { name: 'Delete assistant?' })
      .getByRole('button', { name: 'Delete assistant' })
      .click();
    await expect.poll(() => page.url()).toContain(`/playground/${assistantId}`);
    const options = await page
      .getByRole('combobox', { name: 'Assistant' })
      .locator('option')
      .allTextContents();
    expect(options).toEqual(['New assistant', `Forecaster (${assistantId})`]);
    await expect(client.beta.assistants.retrieve(librarianId)).rejects.toMatchObject({ status: 404 });
  });

  it('fits a 375 px phone: one pane at a time, nothing scrolls sideways', async () => {
    const phone = await page.context().newPage();
    await phone.setViewportSize({ width: 375, height: 812 });
    await phone.goto(`${origin}/playground/${assistantId}`);
    await phone.getByLabel('Name').waitFor();
    expect(await phone.getByLabel('Name').inputValue()).toBe('Forecaster');
    expect(await phone.getByRole('complementary', { name: 'Sidebar' }).isVisible()).toBe(false);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(phone, 'playground-06-phone-assistant');

    await phone.getByRole('button', { name: 'Thread', exact: true }).click();
    await phone.getByRole('textbox', { name: 'Message' }).fill('Weather in Jeju for 2 days?');
    await forceFunction(phone, 'get_forecast');
    // Folded again, the run options leave the thread the screen.
    await phone.locator('details.run-options').getByText('Run options').click();
    await phone.getByRole('button', { name: 'Run', exact: true }).click();
    const card = runCards(phone).first();
    await expect.poll(() => statusOf(card), { timeout: 60_000 }).toBe('Requires action');
    const widths = await phone.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      card: document.querySelector('.run-card')?.getBoundingClientRect().right ?? 0,
      composer: document.querySelector('.thread-composer')?.getBoundingClientRect().right ?? 0,
    }));
    expect(widths.page).toBeLessThanOrEqual(375);
    expect(widths.card).toBeLessThanOrEqual(375);
    expect(widths.composer).toBeLessThanOrEqual(375);
    await screenshot(phone, 'playground-07-phone-thread');
    expect(await answerCallsUntilDone(phone, card, 'sunny')).toBe('Completed');
    await phone.close();
  });
});
