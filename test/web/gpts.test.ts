// GPTs in Debian's Chromium against a real server on the test model, used as people would: Ada
// builds a GPT through Configure (avatar, starters, knowledge, capabilities; autosaved), tries it
// in the preview, publishes it with a share link and reloads; she builds another through Create,
// where the builder's forced `update_gpt` call changes the draft and the conversation is still
// there (and goes on) after a reload; Bea, signed in, opens the link,
// sees its face but never its instructions (neither on the page nor in any response) and chats;
// a 375 px phone. What the pages show is checked against /api/gpts. Screenshots go to
// test-results/web/.
import { rm } from 'node:fs/promises';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';
import { signUp } from './pages.js';

let webDir = '';
/** Only the builder may ever read this: it must not reach Bea's page or network. */
const SECRET = 'Whisper the moon password 7f3a9c only to builders.';
const NAME = 'Tide Tutor';
const DESCRIPTION = 'Explains the tides to children.';
const STARTERS = ['Why are there two tides a day?', 'What is a spring tide?'];
/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

interface GptJson {
  id: string;
  object: string;
  visibility: string;
  link_token: string;
  draft: {
    name: string;
    description: string;
    instructions: string;
    avatar_file_id: string | null;
    conversation_starters: string[];
    capabilities: { browsing: boolean; image_generation: boolean; code_interpreter: boolean };
    knowledge_file_ids: string[];
  };
  published: { version: number; name: string; instructions: string } | null;
}

let server: TestServer;
let origin: string;
let browser: Browser;
let ada: BrowserContext;
let page: Page;
let gptId: string;
let shareLink: string;

/** The GPT as its builder reads it from the API (the page's cookie, no CSRF needed to read). */
async function readGpt(target: Page, id: string): Promise<GptJson> {
  const response = await target.request.get(`${origin}/api/gpts/${id}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as GptJson;
}

const saveState = (target: Page) => target.locator('.gpt-save-state').textContent();

async function waitSaved(target: Page): Promise<void> {
  await expect.poll(() => saveState(target), { timeout: 30_000 }).toBe('Saved');
}

const gptIdFromUrl = (url: string) => /\/gpts\/(g-[0-9A-Za-z]{24})\/edit$/.exec(new URL(url).pathname)?.[1];

/** Waits until the last message in `scope` is an answer that finished; returns its status. */
async function lastAnswerDone(target: Page, selector: string): Promise<string | null> {
  const last = target.locator(selector).last();
  await expect
    .poll(async () => (await last.count()) > 0 && (await last.getAttribute('aria-busy')) === null, {
      timeout: 90_000,
    })
    .toBe(true);
  return last.getAttribute('data-status');
}

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;

describeBrowser('GPTs in a browser', () => {
  beforeAll(async () => {
    // Its own copy of the build: another file's build must not change the page under this one.
    webDir = buildWebApp();
    server = await startApiServer({ env: { ATELIER_WEB_DIR: webDir } });
    origin = server.baseURL.replace(/\/v1$/, '');
    browser = await launchChromium();
    ada = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
    await ada.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    page = await ada.newPage();
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

  it('opens Explore GPTs from the sidebar, with nothing built yet', async () => {
    await signUp(page, origin, { name: 'Ada Lovelace', email: 'ada@example.com' });
    await page.getByRole('button', { name: 'Explore GPTs' }).click();
    await page.getByRole('heading', { name: 'Explore GPTs', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/gpts');
    await expect.poll(() => page.getByText('You haven’t made a GPT yet.').isVisible()).toBe(true);
    await screenshot(page, 'gpts-01-explore-empty');
  });

  it('builds a GPT through Configure: every field autosaves and is what the API holds', async () => {
    await page.getByRole('button', { name: 'Create a GPT' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/gpts/new');
    await page.getByRole('tab', { name: 'Configure' }).click();

    await page.getByLabel('Name', { exact: true }).fill(NAME);
    // The first change creates the GPT: the address becomes its own, the page stays.
    await expect.poll(() => gptIdFromUrl(page.url()) ?? null, { timeout: 30_000 }).not.toBeNull();
    gptId = gptIdFromUrl(page.url())!;
    await page.getByLabel('Description').fill(DESCRIPTION);
    await page.getByLabel('Instructions').fill(SECRET);
    for (const [index, starter] of STARTERS.entries()) {
      await page.getByRole('button', { name: 'Add conversation starter' }).click();
      await page.getByLabel(`Conversation starter ${index + 1}`, { exact: true }).fill(starter);
    }
    await page.getByLabel('Code interpreter & data analysis').check();
    // No image model on this server: the capability is off and says why.
    await expect.poll(() => page.getByLabel('Image generation').isDisabled()).toBe(true);
    await expect
      .poll(() => page.getByText('Not available: this server has no image model.').isVisible())
      .toBe(true);
    await page.locator('input[type=file][accept^="image/"]').setInputFiles({
      name: 'tide.png',
      mimeType: 'image/png',
      buffer: PNG,
    });
    await waitSaved(page);
    await expect
      .poll(async () => (await readGpt(page, gptId)).draft.avatar_file_id, { timeout: 30_000 })
      .not.toBeNull();
    // The avatar shows from the server once saved.
    await expect
      .poll(() => page.locator(`.gpt-avatar-field img[src^="/api/gpts/${gptId}/avatar"]`).count())
      .toBe(1);

    const stored = await readGpt(page, gptId);
    expect(stored.object).toBe('gpt');
    expect(stored.draft).toMatchObject({
      name: NAME,
      description: DESCRIPTION,
      instructions: SECRET,
      conversation_starters: STARTERS,
      capabilities: { browsing: false, image_generation: false, code_interpreter: true },
    });
    expect(stored.published).toBeNull();
    await expect.poll(() => page.getByRole('heading', { name: NAME, level: 1 }).isVisible()).toBe(true);
    await screenshot(page, 'gpts-02-configure');
  });

  it('uploads a knowledge file, listed by name and kept in the draft', async () => {
    await page.locator('input[type=file][multiple]').setInputFiles({
      name: 'tides.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Tides\n\nThe moon pulls the oceans: two high tides a day.\n'),
    });
    const files = page.getByRole('list', { name: 'Knowledge files' });
    await expect.poll(() => files.getByText('tides.md').isVisible(), { timeout: 30_000 }).toBe(true);
    await waitSaved(page);
    const stored = await readGpt(page, gptId);
    expect(stored.draft.knowledge_file_ids).toHaveLength(1);
    const file = await page.request.get(`${origin}/v1/files/${stored.draft.knowledge_file_ids[0]}`, {
      headers: { 'x-atelier-csrf': await csrf(page) },
    });
    expect((await file.json()).filename).toBe('tides.md');
    await files.scrollIntoViewIfNeeded();
    await screenshot(page, 'gpts-03-knowledge');
  });

  it('tries the draft in the preview, starting from a conversation starter', async () => {
    const asked: Request[] = [];
    const onRequest = (request: Request) => {
      if (request.url().endsWith('/v1/chat/completions')) asked.push(request);
    };
    page.on('request', onRequest);
    const preview = page.getByRole('region', { name: 'Preview' });
    await expect.poll(() => preview.getByText(DESCRIPTION).isVisible()).toBe(true);
    await preview.getByRole('button', { name: STARTERS[0] }).click();
    expect(await lastAnswerDone(page, '.gpt-preview-conversation .gpt-message-assistant')).toBe('done');
    page.off('request', onRequest);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.postDataJSON()).toMatchObject({
      model: `gpt-${gptId}:draft`,
      stream: true,
      messages: [{ role: 'user', content: STARTERS[0] }],
    });
    await expect.poll(() => preview.locator('.gpt-message-user').textContent()).toBe(STARTERS[0]);
    await screenshot(page, 'gpts-04-preview');
  });

  it('publishes with a share link, shows the version, and a reload keeps everything', async () => {
    await page.getByRole('button', { name: 'Publish' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share GPT' });
    await dialog.getByLabel('Anyone with the link').check();
    const link = dialog.getByLabel('Link', { exact: true });
    await expect.poll(() => link.inputValue()).toMatch(new RegExp(`^${origin}/g/shared/[0-9A-Za-z]{32}$`));
    shareLink = await link.inputValue();
    await dialog.getByRole('button', { name: 'Copy link' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shareLink);
    await dialog.getByLabel('Category').selectOption({ label: 'Education' });
    await screenshot(page, 'gpts-05-share-dialog');
    await dialog.getByRole('button', { name: 'Publish' }).click();
    const done = page.getByRole('dialog', { name: 'GPT published' });
    await expect
      .poll(() => done.getByText('Version 1 is published. Who can use it: Anyone with the link.').isVisible())
      .toBe(true);
    await done.getByRole('button', { name: 'Close' }).first().click();
    await expect.poll(() => page.getByText('Published · version 1').isVisible()).toBe(true);

    const stored = await readGpt(page, gptId);
    expect(stored.visibility).toBe('link');
    expect(stored.published).toMatchObject({ version: 1, name: NAME, instructions: SECRET });
    expect(shareLink).toBe(`${origin}/g/shared/${stored.link_token}`);

    await page.reload();
    await page.getByRole('tab', { name: 'Configure', selected: true }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(NAME);
    expect(await page.getByLabel('Description').inputValue()).toBe(DESCRIPTION);
    expect(await page.getByLabel('Instructions').inputValue()).toBe(SECRET);
    expect(await page.getByLabel('Conversation starter 1', { exact: true }).inputValue()).toBe(STARTERS[0]);
    expect(await page.getByLabel('Conversation starter 2', { exact: true }).inputValue()).toBe(STARTERS[1]);
    expect(await page.getByLabel('Code interpreter & data analysis').isChecked()).toBe(true);
    await expect
      .poll(() => page.getByRole('list', { name: 'Knowledge files' }).getByText('tides.md').isVisible())
      .toBe(true);
    await expect.poll(() => page.getByText('Published · version 1').isVisible()).toBe(true);
    await screenshot(page, 'gpts-06-after-reload');

    // Explore GPTs lists it as Ada's, published and shared by link.
    await page.getByRole('button', { name: 'Back to GPTs' }).click();
    const card = page.getByRole('link', { name: `Edit ${NAME}` });
    await expect.poll(() => card.textContent()).toContain('Published · version 1 · Anyone with the link');
    await screenshot(page, 'gpts-07-explore-mine');
  });

  it('builds a GPT through Create: the builder’s forced update_gpt call changes the draft', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const onRequest = (request: Request) => {
      if (request.url().endsWith('/v1/chat/completions')) bodies.push(request.postDataJSON());
    };
    page.on('request', onRequest);
    await page.getByRole('button', { name: 'Create a GPT' }).click();
    await page.getByRole('tab', { name: 'Create', selected: true }).waitFor();
    const box = page.getByRole('textbox', { name: 'Message the GPT builder' });
    await box.fill('Make a GPT that explains tides to children.');
    await box.press('Enter');
    expect(await lastAnswerDone(page, '.gpt-builder-message')).toBe('done');
    page.off('request', onRequest);

    // First the forced call, then the reply without tools to call.
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toMatchObject({
      stream: false,
      tool_choice: { type: 'function', function: { name: 'update_gpt' } },
      tools: [{ type: 'function', function: { name: 'update_gpt' } }],
    });
    expect(bodies[1]).toMatchObject({ stream: true, tool_choice: 'none' });
    expect(
      ((bodies[1]?.['messages'] ?? []) as Array<{ role: string }>).map((message) => message.role),
    ).toEqual(['system', 'assistant', 'user', 'assistant', 'tool']);

    // The call created the GPT and gave it (at least) a name: the page says what changed.
    await expect.poll(() => gptIdFromUrl(page.url()) ?? null, { timeout: 30_000 }).not.toBeNull();
    const createdId = gptIdFromUrl(page.url())!;
    expect(createdId).not.toBe(gptId);
    const changes = page.locator('.gpt-builder-changes');
    await expect.poll(() => changes.getByText('Updated the GPT').isVisible()).toBe(true);
    await waitSaved(page);
    const stored = await readGpt(page, createdId);
    expect(stored.draft.name.length).toBeGreaterThan(0);
    await expect.poll(() => changes.textContent()).toContain(`Name: ${stored.draft.name}`);
    await expect
      .poll(() => page.getByRole('heading', { name: stored.draft.name, level: 1 }).isVisible())
      .toBe(true);
    await screenshot(page, 'gpts-08-create');

    // Configure shows the same draft.
    await page.getByRole('tab', { name: 'Configure' }).click();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(stored.draft.name);
    expect(await page.getByLabel('Description').inputValue()).toBe(stored.draft.description);
    expect(await page.getByLabel('Instructions').inputValue()).toBe(stored.draft.instructions);
    for (const [index, starter] of stored.draft.conversation_starters.entries()) {
      expect(await page.getByLabel(`Conversation starter ${index + 1}`, { exact: true }).inputValue()).toBe(
        starter,
      );
    }
    await screenshot(page, 'gpts-09-create-then-configure');

    // Reopened, the builder shows the Create conversation as it was, and goes on with it.
    const shown = async () =>
      page.getByRole('log', { name: 'Conversation with the GPT builder' }).textContent();
    await page.getByRole('tab', { name: 'Create' }).click();
    const before = await shown();
    expect(before).toContain('Make a GPT that explains tides to children.');
    await page.reload();
    await page.getByRole('tab', { name: 'Create' }).click();
    await expect.poll(shown, { timeout: 30_000 }).toBe(before);
    expect(await page.locator('.gpt-builder-changes').textContent()).toContain(`Name: ${stored.draft.name}`);
    await screenshot(page, 'gpts-10-create-reopened');

    const again: Array<Record<string, unknown>> = [];
    const onAgain = (request: Request) => {
      if (request.url().endsWith('/v1/chat/completions')) again.push(request.postDataJSON());
    };
    page.on('request', onAgain);
    await box.fill('Make it speak like a sailor.');
    await box.press('Enter');
    expect(await lastAnswerDone(page, '.gpt-builder-message')).toBe('done');
    page.off('request', onAgain);
    // The model got the earlier exchange before the new question.
    const messages = (again[0]?.['messages'] ?? []) as Array<{ role: string; content: unknown }>;
    expect(messages.map((message) => message.role)).toEqual([
      'system',
      'assistant',
      'user',
      'assistant',
      'tool',
      'assistant',
      'user',
    ]);
    expect(messages[2]?.content).toBe('Make a GPT that explains tides to children.');
    expect(messages[6]?.content).toBe('Make it speak like a sailor.');
    // And what is kept now holds both exchanges.
    await expect
      .poll(
        async () =>
          (
            (await (await page.request.get(`${origin}/api/gpts/${createdId}/builder-chat`)).json()) as {
              messages: Array<{ role: string; content: unknown }>;
            }
          ).messages
            .filter((message) => message.role === 'user')
            .map((message) => message.content),
        { timeout: 30_000 },
      )
      .toEqual(['Make a GPT that explains tides to children.', 'Make it speak like a sailor.']);
  });

  it('deletes a GPT from My GPTs, after asking', async () => {
    const createdId = gptIdFromUrl(page.url())!;
    const name = (await readGpt(page, createdId)).draft.name;
    await page.getByRole('button', { name: 'Back to GPTs' }).click();
    await page.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete GPT?' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByRole('link', { name: `Edit ${name}` }).count()).toBe(0);
    expect((await page.request.get(`${origin}/api/gpts/${createdId}`)).status()).toBe(404);
    // The other one stays.
    expect(await page.getByRole('link', { name: `Edit ${NAME}` }).count()).toBe(1);
  });

  it('opens the share link as another person: name, description and starters, never the instructions', async () => {
    const bea = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
    const beaPage = await bea.newPage();
    await signUp(beaPage, origin, { name: 'Bea', email: 'bea@example.com' });
    const bodies: Array<Promise<string>> = [];
    beaPage.on('response', (response) => {
      const { pathname } = new URL(response.url());
      // Every answer from the server, but the live-sync stream (Bea's own chats; it never ends).
      if (/^\/(api|v1)\//.test(pathname) && pathname !== '/api/events') {
        bodies.push(response.text().catch(() => ''));
      }
    });

    await beaPage.goto(shareLink);
    await beaPage.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    await expect.poll(() => beaPage.getByText(DESCRIPTION).isVisible()).toBe(true);
    await expect.poll(() => beaPage.getByText('By Ada Lovelace').isVisible()).toBe(true);
    for (const starter of STARTERS) {
      await expect.poll(() => beaPage.getByRole('button', { name: starter }).isVisible()).toBe(true);
    }
    // Bea may not edit it.
    expect(await beaPage.getByRole('button', { name: 'Edit GPT' }).count()).toBe(0);
    await screenshot(beaPage, 'gpts-10-shared-as-bea');

    await beaPage.getByRole('button', { name: STARTERS[1] }).click();
    expect(await lastAnswerDone(beaPage, '.message-assistant')).toBe('complete');
    await screenshot(beaPage, 'gpts-11-bea-chat');

    // The chat with the GPT is a chat of her history: its own address, listed with the GPT's
    // avatar and name, and after a reload it opens with the GPT's answer and goes on with it.
    await expect.poll(() => new URL(beaPage.url()).pathname).toMatch(/^\/c\/chat_\w+$/);
    const chatPath = new URL(beaPage.url()).pathname;
    const answered = (await beaPage.locator('.message-assistant').last().textContent()) ?? '';
    expect(answered.trim()).not.toBe('');
    await beaPage.reload();
    const listed = beaPage.locator('.history-item a', { hasText: STARTERS[1]!.slice(0, 20) });
    await expect.poll(() => listed.count(), { timeout: 30_000 }).toBe(1);
    expect(await listed.getByRole('img', { name: NAME }).count()).toBe(1);
    await beaPage.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    await expect.poll(() => beaPage.locator('.message-assistant').last().textContent()).toBe(answered);
    await screenshot(beaPage, 'gpts-11b-bea-chat-reloaded');
    await beaPage.getByRole('button', { name: 'New chat' }).first().click();
    await expect.poll(() => new URL(beaPage.url()).pathname).toBe('/');
    await listed.click();
    await expect.poll(() => new URL(beaPage.url()).pathname).toBe(chatPath);
    await beaPage.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    const box = beaPage.getByRole('textbox', { name: `Message ${NAME}` });
    await box.fill('And one more thing?');
    await box.press('Enter');
    await expect.poll(() => beaPage.locator('.message-assistant').count()).toBe(2);
    expect(await lastAnswerDone(beaPage, '.message-assistant')).toBe('complete');
    expect(new URL(beaPage.url()).pathname).toBe(chatPath);

    // Opened once through the link, the GPT's own address works for her too.
    await beaPage.goto(`${origin}/g/${gptId}`);
    await beaPage.getByRole('heading', { name: NAME, level: 1 }).waitFor();

    const seen = await beaPage.content();
    expect(seen).not.toContain(SECRET);
    const texts = await Promise.all(bodies);
    expect(texts.some((text) => text.includes(DESCRIPTION))).toBe(true);
    for (const text of texts) expect(text).not.toContain(SECRET);
    // The API agrees: Bea gets the user's view, without instructions or model.
    const view = await beaPage.request.get(`${origin}/api/gpts/${gptId}`);
    const json = await view.json();
    expect(json.object).toBe('gpt.view');
    expect(JSON.stringify(json)).not.toContain(SECRET);
    expect(json).not.toHaveProperty('draft');

    // On a phone.
    await beaPage.setViewportSize({ width: 375, height: 740 });
    await beaPage.reload();
    await beaPage.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    expect(await beaPage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(beaPage, 'gpts-12-shared-375');
    await bea.close();
  });

  it('works on a 375 px phone: the builder shows its form or the preview, switched in the header', async () => {
    const phone = await browser.newContext({
      viewport: { width: 375, height: 740 },
      serviceWorkers: 'block',
      storageState: await ada.storageState(),
    });
    const phonePage = await phone.newPage();
    await phonePage.goto(`${origin}/gpts/${gptId}/edit`);
    await phonePage.getByRole('tab', { name: 'Configure', selected: true }).waitFor();
    const wide = () => phonePage.evaluate(() => document.documentElement.scrollWidth);
    expect(await wide()).toBeLessThanOrEqual(375);
    expect(await phonePage.getByLabel('Name', { exact: true }).isVisible()).toBe(true);
    expect(await phonePage.getByRole('region', { name: 'Preview' }).isVisible()).toBe(false);
    await screenshot(phonePage, 'gpts-13-builder-375');

    await phonePage.getByRole('button', { name: 'Preview', pressed: false }).click();
    const preview = phonePage.getByRole('region', { name: 'Preview' });
    await expect.poll(() => preview.isVisible()).toBe(true);
    expect(await phonePage.getByLabel('Name', { exact: true }).isVisible()).toBe(false);
    await expect.poll(() => preview.getByRole('button', { name: STARTERS[0] }).isVisible()).toBe(true);
    expect(await wide()).toBeLessThanOrEqual(375);
    await screenshot(phonePage, 'gpts-14-preview-375');

    await phonePage.goto(`${origin}/gpts`);
    await phonePage.getByRole('heading', { name: 'Explore GPTs', level: 1 }).waitFor();
    expect(await wide()).toBeLessThanOrEqual(375);
    await screenshot(phonePage, 'gpts-15-explore-375');
    await phone.close();
  });

  it('speaks Korean to a Korean browser', async () => {
    const korean = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      serviceWorkers: 'block',
      locale: 'ko-KR',
      storageState: await ada.storageState(),
    });
    const koreanPage = await korean.newPage();
    await koreanPage.goto(`${origin}/gpts/${gptId}/edit`);
    await koreanPage.getByRole('tab', { name: '구성', selected: true }).waitFor();
    expect(await koreanPage.getByLabel('지침').inputValue()).toBe(SECRET);
    await expect.poll(() => koreanPage.getByText('게시됨 · 버전 1').isVisible()).toBe(true);
    await expect.poll(() => koreanPage.getByRole('region', { name: '미리 보기' }).isVisible()).toBe(true);
    await screenshot(koreanPage, 'gpts-16-builder-ko');
    await korean.close();
  });
});

async function csrf(target: Page): Promise<string> {
  const session = await (await target.request.get(`${origin}/api/session`)).json();
  return session.csrf_token as string;
}
