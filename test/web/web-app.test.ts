// The web app in Debian's Chromium against a real server on the test model, clicking like a
// person: sign up, chat with a streamed answer, Markdown (code, tables, math), stop, regenerate,
// history, API keys, Korean, a phone-sized screen, the PWA. Screenshots go to test-results/web/.
import { readFile, rm } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';
import { fakeAnswer } from './fake-answer.js';

const PASSWORD = 'correct horse battery';
/** A model that never ends a reply by itself: answers to watch grow, and to stop. */
const LONG_MODEL = 'atelier-unending';

let server: TestServer;
/** This file's copy of the web app's build. */
let webDir: string | undefined;
let origin: string;
let browser: Browser;
let ada: BrowserContext;
let page: Page;

const lastAnswer = (target: Page) => target.locator('.message-assistant').last();

/** The last answer's text as shown ('' while it has none). */
const lastAnswerText = (target: Page) =>
  target.evaluate(
    () =>
      [...document.querySelectorAll('.message-assistant')].at(-1)?.querySelector('.markdown')?.textContent ??
      '',
  );

const lastAnswerId = (target: Page) =>
  target.evaluate(
    () =>
      [...document.querySelectorAll<HTMLElement>('.message-assistant')].at(-1)?.dataset['messageId'] ?? null,
  );

/** Waits until an answer other than `before` is the last one and has finished streaming. */
async function answerDone(target: Page, before: string | null): Promise<void> {
  await target.waitForFunction((previous) => {
    const last = [...document.querySelectorAll<HTMLElement>('.message-assistant')].at(-1);
    return !!last && last.dataset['messageId'] !== previous && last.getAttribute('aria-busy') !== 'true';
  }, before);
}

/** Types a message, presses Enter and waits for the whole answer. */
async function send(target: Page, text: string, { wait = true }: { wait?: boolean } = {}): Promise<void> {
  const before = await lastAnswerId(target);
  const input = target.getByRole('textbox', { name: /^(Message|메시지)$/ });
  await input.fill(text);
  await input.press('Enter');
  if (wait) await answerDone(target, before);
}

/** Picks a model in the chat's model menu. */
async function chooseModel(target: Page, model: string): Promise<void> {
  await target.getByRole('button', { name: /^Model: / }).click();
  await target.getByRole('menuitemradio', { name: new RegExp(`^${model}(\\s|$)`) }).click();
  await expect
    .poll(() => target.getByRole('button', { name: `Model: ${model}`, exact: true }).isVisible())
    .toBe(true);
}

// Chromium is part of CI (.ci/run installs it); ATELIER_TEST_SKIP_BROWSER=1 skips these on purpose.
const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;

describeBrowser('the web app in a browser', () => {
  beforeAll(async () => {
    // The page served must be the current source (a no-op when nothing changed).
    webDir = buildWebApp();
    server = await startApiServer({
      env: { ATELIER_WEB_DIR: webDir },
      // Replies of a few sentences; and one that never ends, to stop.
      models: {
        [MODEL]: { meanReplyTokens: 120 },
        [LONG_MODEL]: { meanReplyTokens: Number.POSITIVE_INFINITY },
      },
    });
    origin = server.baseURL.replace(/\/v1$/, '');
    browser = await launchChromium();
    // Service workers are blocked here so that page.route sees the chat's requests; the PWA test
    // below runs in a context of its own with them on.
    ada = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
    await ada.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    page = await ada.newPage();
    if (process.env['ATELIER_TEST_BROWSER_DEBUG']) {
      page.on('console', (m) => console.log('console:', m.type(), m.text()));
      page.on('pageerror', (e) => console.log('pageerror:', e.message));
      page.on('requestfinished', (r) => console.log('finished', r.method(), r.url()));
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  it('signs the first person up and opens an empty chat', async () => {
    await page.goto(`${origin}/`);
    await expect
      .poll(() => page.getByRole('heading', { name: 'Create your account' }).isVisible())
      .toBe(true);
    await expect.poll(() => page.getByText('You are the first person here').isVisible()).toBe(true);
    await screenshot(page, '01-sign-up');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email address').fill('ada@example.com');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    // The model menu shows the test model, and its notice says what it is.
    await expect
      .poll(() => page.getByRole('button', { name: 'Model: atelier-tiny', exact: true }).isVisible())
      .toBe(true);
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/random weights/);
    // The message box has the focus: typing starts a message.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('composer-input');
    await screenshot(page, '02-empty-chat');
  });

  it('streams an answer into the page as it is generated, and keeps the chat in the history', async () => {
    await chooseModel(page, LONG_MODEL);
    // Record how the answer's text grows, from the page's side.
    await page.evaluate(() => {
      const lengths: number[] = [];
      (window as unknown as { lengths: number[] }).lengths = lengths;
      new MutationObserver(() => {
        const answer = [...document.querySelectorAll('.message-assistant .message-body')].at(-1);
        const length = answer?.querySelector('.markdown')?.textContent?.length ?? 0;
        if (length > 0 && length !== lengths.at(-1)) lengths.push(length);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const before = await lastAnswerId(page);
    await send(page, 'Tell me about the tides', { wait: false });
    expect(await page.locator('.message-user .bubble').last().textContent()).toBe('Tell me about the tides');
    // Many updates, each longer than the last: the words arrive in pieces, as they are written.
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { lengths: number[] }).lengths.length), {
        timeout: 30_000,
      })
      .toBeGreaterThanOrEqual(3);
    const lengths = await page.evaluate(() => (window as unknown as { lengths: number[] }).lengths);
    expect([...lengths].sort((a, b) => a - b)).toEqual(lengths);
    // This model never ends by itself: stop it.
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await answerDone(page, before);
    await chooseModel(page, MODEL);

    await expect.poll(() => page.url()).toMatch(/\/c\/chat_[0-9A-Za-z]{24}$/);
    const history = page.getByRole('navigation', { name: 'Chat history' });
    await expect
      .poll(() => history.getByRole('link', { name: 'Tell me about the tides' }).isVisible())
      .toBe(true);
    expect(
      await history.getByRole('link', { name: 'Tell me about the tides' }).getAttribute('aria-current'),
    ).toBe('page');
    await screenshot(page, '03-streamed-answer');

    // A reload shows the same conversation, from the server.
    const answer = await lastAnswerText(page);
    expect(answer.length).toBeGreaterThan(0);
    await page.reload();
    await expect.poll(() => lastAnswerText(page)).toBe(answer);
  });

  it('renders Markdown: highlighted code with a copy button, tables and math', async () => {
    const markdown = [
      'Here is **bold**, `inline code`, and a [link](https://example.com).',
      '',
      '```python',
      'def area(r):',
      '    return 3.14159 * r ** 2',
      '```',
      '',
      '| planet | moons |',
      '|:--|--:|',
      '| Earth | 1 |',
      '| Mars | 2 |',
      '',
      'Euler: $e^{i\\pi} + 1 = 0$, and',
      '',
      '$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$',
      '',
      '<img src=x onerror="window.pwned=1"> stays text.',
    ].join('\n');
    // The answer's stream, as the server would send it, for a chat of its own.
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await page.route('**/api/chats', (route) =>
      route.fulfill(fakeAnswer(route, [{ type: 'text', text: markdown }])),
    );
    await send(page, 'Show me some formatting');
    await page.unroute('**/api/chats');

    const answer = lastAnswer(page);
    await expect.poll(() => answer.locator('code.hljs .hljs-keyword').first().textContent()).toBe('def');
    await expect.poll(() => answer.locator('.katex').count()).toBeGreaterThanOrEqual(2);
    expect(await answer.locator('table tbody tr').count()).toBe(2);
    expect(await answer.locator('th').first().textContent()).toBe('planet');
    expect(await answer.getByRole('link', { name: 'link' }).getAttribute('rel')).toContain('noopener');
    expect(await answer.locator('.markdown img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

    await answer.getByRole('button', { name: 'Copy code' }).click();
    await expect
      .poll(() => page.evaluate(() => navigator.clipboard.readText()))
      .toBe('def area(r):\n    return 3.14159 * r ** 2');
    await screenshot(page, '04-markdown');
  });

  it('stops generating on request and keeps what was written', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await chooseModel(page, LONG_MODEL);
    const before = await lastAnswerId(page);
    await send(page, 'Write a very long story', { wait: false });
    await expect
      .poll(async () => (await lastAnswerText(page)).length, { timeout: 30_000 })
      .toBeGreaterThan(20);
    await page.getByRole('button', { name: 'Stop generating' }).click();
    await answerDone(page, before);
    await expect.poll(() => lastAnswer(page).getByText('You stopped this answer.').isVisible()).toBe(true);
    const kept = await lastAnswerText(page);
    expect(kept.length).toBeGreaterThan(20);
    // The composer is ready for the next message.
    expect(await page.getByRole('button', { name: 'Send message' }).isVisible()).toBe(true);
    await screenshot(page, '05-stopped');
    // What was written is what the server kept: the same after a reload.
    await page.reload();
    await expect.poll(() => lastAnswer(page).getByText('You stopped this answer.').isVisible()).toBe(true);
    expect(await lastAnswerText(page)).toBe(kept);
    await chooseModel(page, MODEL);
  });

  it('regenerates an answer as a second version, both kept', async () => {
    const first = await lastAnswerText(page);
    const before = await lastAnswerId(page);
    await lastAnswer(page).getByRole('button', { name: 'Regenerate' }).click();
    await answerDone(page, before);
    await expect.poll(() => lastAnswer(page).getByText('2 / 2').isVisible()).toBe(true);
    const second = await lastAnswerText(page);
    expect(second).not.toBe(first);
    await lastAnswer(page).getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => lastAnswerText(page)).toBe(first);
    expect(await lastAnswer(page).getByText('1 / 2').isVisible()).toBe(true);
    // The branch on screen is saved with the chat.
    await expect
      .poll(async () => {
        const chatId = new URL(page.url()).pathname.split('/').at(-1);
        const chat = await (await page.request.get(`${origin}/api/chats/${chatId}`)).json();
        return chat.messages.find((message: { id: string }) => message.id === chat.current_node_id)?.status;
      })
      .toBe('stopped');
    await page.reload();
    await expect.poll(() => lastAnswer(page).getByText('1 / 2').isVisible()).toBe(true);
    await expect.poll(() => lastAnswerText(page)).toBe(first);
  });

  it('edits a question into a new branch, keeping the old one', async () => {
    const question = page.locator('.message-user').last();
    const original = await question.locator('.bubble').textContent();
    await question.hover();
    await question.getByRole('button', { name: 'Edit message' }).click();
    const editor = question.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('Write a short story instead');
    const before = await lastAnswerId(page);
    await question.getByRole('button', { name: 'Send' }).click();
    await answerDone(page, before);
    const edited = page.locator('.message-user').last();
    expect(await edited.locator('.bubble').textContent()).toBe('Write a short story instead');
    await expect.poll(() => edited.getByText('2 / 2').isVisible()).toBe(true);
    await edited.getByRole('button', { name: 'Previous version' }).click();
    await expect
      .poll(() => page.locator('.message-user').last().locator('.bubble').textContent())
      .toBe(original);
    // The old branch comes back with its answers (the newest of its two versions on screen).
    await expect.poll(() => lastAnswer(page).getByText('2 / 2').isVisible()).toBe(true);
  });

  it('searches, renames and deletes chats from the sidebar; keyboard shortcuts work', async () => {
    const history = page.getByRole('navigation', { name: 'Chat history' });
    // A third chat, to delete below.
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await send(page, 'Something to forget');
    await expect.poll(() => history.getByRole('link').count()).toBe(3);
    // Search finds words inside the messages too (the long story's question was edited).
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('SHORT STORY');
    await expect.poll(() => history.getByRole('link').allTextContents()).toEqual(['Write a very long story']);
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('');
    await expect.poll(() => history.getByRole('link').count()).toBe(3);

    await history.getByRole('button', { name: 'Options for “Tell me about the tides”' }).click();
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    const title = history.getByRole('textbox', { name: 'Chat title' });
    await title.fill('Ocean tides');
    await title.press('Enter');
    await expect.poll(() => history.getByRole('link', { name: 'Ocean tides' }).isVisible()).toBe(true);

    await history.getByRole('button', { name: 'Options for “Something to forget”' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete chat?' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => history.getByRole('link').count()).toBe(2);
    const listed = await (await page.request.get(`${origin}/api/chats`)).json();
    expect(listed.data.map((chat: { title: string }) => chat.title).sort()).toEqual([
      'Ocean tides',
      'Write a very long story',
    ]);

    // Ctrl+Shift+O: a new chat, with the message box focused; Ctrl+/: the shortcuts.
    await page.keyboard.press('Control+Shift+O');
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('composer-input');
    await page.keyboard.press('Control+/');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'hidden' });
  });

  it('keeps a temporary chat out of the history', async () => {
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await page.getByRole('button', { name: 'Turn on temporary chat' }).click();
    await page.getByRole('heading', { name: 'Temporary chat' }).waitFor();
    await send(page, 'Nobody needs to know this');
    await expect.poll(() => page.url()).toMatch(/\/c\/chat_/);
    expect(await page.locator('.temporary-badge').isVisible()).toBe(true);
    const history = page.getByRole('navigation', { name: 'Chat history' });
    const listed = await (await page.request.get(`${origin}/api/chats`)).json();
    expect(listed.data.map((chat: { title: string }) => chat.title)).not.toContain(
      'Nobody needs to know this',
    );
    // A reload keeps it on screen; it is still not listed.
    await page.reload();
    await expect
      .poll(() => page.locator('.message-user .bubble').first().textContent())
      .toBe('Nobody needs to know this');
    await expect
      .poll(async () => (await history.getByRole('link').allTextContents()).sort())
      .toEqual(['Ocean tides', 'Write a very long story']);
  });

  it('with chat history off, makes every new chat temporary and keeps it out of the history', async () => {
    await page.goto(`${origin}/settings/data-controls`);
    const settings = page.getByRole('dialog', { name: 'Settings' });
    const history = settings.getByRole('switch', { name: 'Chat history & training' });
    expect(await history.isChecked()).toBe(true);
    await history.click();
    await expect.poll(() => history.isChecked()).toBe(false);
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
    const note = page.getByRole('note').filter({ hasText: 'Chat history is off' });
    await expect.poll(() => note.isVisible()).toBe(true);

    // A new chat says it is temporary, with no switch to make it otherwise.
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await page.getByRole('heading', { name: 'Temporary chat' }).waitFor();
    expect(await page.getByText('Chat history is off in your settings').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Turn on temporary chat' }).count()).toBe(0);
    await screenshot(page, '12-history-off');
    await send(page, 'Keep this between us');
    await expect.poll(() => page.url()).toMatch(/\/c\/chat_/);
    expect(await page.locator('.temporary-badge').isVisible()).toBe(true);
    const stored = await (
      await page.request.get(`${origin}${new URL(page.url()).pathname.replace('/c/', '/api/chats/')}`)
    ).json();
    expect(stored.temporary).toBe(true);

    // Not listed, here or after a reload, and not found by search.
    const links = page.getByRole('navigation', { name: 'Chat history' }).getByRole('link');
    await page.reload();
    await expect
      .poll(async () => (await links.allTextContents()).sort())
      .toEqual(['Ocean tides', 'Write a very long story']);
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('between us');
    await expect.poll(() => page.getByText('No chats match “between us”.').isVisible()).toBe(true);
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('');
    expect(
      (await (await page.request.get(`${origin}/api/chats`)).json()).data.map(
        (chat: { title: string }) => chat.title,
      ),
    ).not.toContain('Keep this between us');

    // Turned back on from the sidebar, new chats are kept again.
    await note.getByRole('button', { name: 'Turn on chat history' }).click();
    await expect.poll(() => note.count()).toBe(0);
    await page.getByRole('button', { name: 'New chat' }).first().click();
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
  });

  it('exports all of one’s data from the settings as a JSON download', async () => {
    await page.goto(`${origin}/settings/data-controls`);
    const settings = page.getByRole('dialog', { name: 'Settings' });
    const exportLink = settings.getByRole('link', { name: 'Export' });
    await exportLink.waitFor();
    await screenshot(page, '13-export-data');
    const [download] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    expect(download.suggestedFilename()).toMatch(/^atelier-export-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(exported.account).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
    // Every chat, the temporary ones too (they are hers until they are deleted).
    expect(exported.chats.map((chat: { title: string }) => chat.title).sort()).toEqual([
      'Keep this between us',
      'Nobody needs to know this',
      'Ocean tides',
      'Write a very long story',
    ]);
    expect(exported.preferences.chat_history_enabled).toBe(true);
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
  });

  it('creates an API key that is shown once and works with the API, then revokes it', async () => {
    await page.getByRole('button', { name: /^Account menu/ }).click();
    await page.getByRole('menuitem', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByRole('tab', { name: 'API keys' }).click();
    await dialog.getByLabel('Name').fill('laptop');
    await dialog.getByRole('button', { name: 'Create new key' }).click();
    const secret = (await dialog.getByTestId('new-api-key').textContent()) ?? '';
    expect(secret).toMatch(/^sk-atelier-/);
    const models = await fetch(`${server.baseURL}/models`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(models.status).toBe(200);
    await screenshot(page, '06-api-keys');

    await dialog.getByRole('button', { name: 'Revoke laptop' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke API key?' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await expect.poll(() => dialog.getByRole('button', { name: 'Revoke laptop' }).count()).toBe(0);
    expect(
      (await fetch(`${server.baseURL}/models`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(401);
    // The secret is nowhere on the page once the dialog is reopened.
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await expect.poll(() => page.content()).not.toContain(secret);
  });

  it('fits a 375 px phone: the sidebar slides over the chat, nothing scrolls sideways', async () => {
    const phone = await ada.newPage();
    await phone.setViewportSize({ width: 375, height: 812 });
    await phone.goto(`${origin}/`);
    await phone.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    expect(await phone.getByRole('complementary', { name: 'Sidebar' }).isVisible()).toBe(false);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(phone, '07-phone-empty');

    await phone.getByRole('button', { name: 'Open sidebar' }).click();
    await expect.poll(() => phone.getByRole('complementary', { name: 'Sidebar' }).isVisible()).toBe(true);
    await screenshot(phone, '08-phone-sidebar');
    await phone.getByRole('link', { name: 'Ocean tides' }).click();
    // Choosing a chat closes the sidebar and shows the conversation.
    await expect.poll(() => phone.getByRole('complementary', { name: 'Sidebar' }).isVisible()).toBe(false);
    await expect
      .poll(() => phone.locator('.message-user .bubble').first().textContent())
      .toBe('Tell me about the tides');
    const widths = await phone.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      composer: document.querySelector('.composer')?.getBoundingClientRect().right ?? 0,
    }));
    expect(widths.page).toBeLessThanOrEqual(375);
    expect(widths.composer).toBeLessThanOrEqual(375);
    await screenshot(phone, '09-phone-chat');
    await phone.close();
  });

  it('speaks Korean when asked, everywhere and after a reload', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      serviceWorkers: 'block',
    });
    const bob = await context.newPage();
    await bob.goto(`${origin}/sign-up`);
    await bob.getByLabel('Name').fill('김민준');
    await bob.getByLabel('Email address').fill('minjun@example.com');
    await bob.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await bob.getByRole('button', { name: 'Create account' }).click();
    await bob.getByRole('heading', { name: 'What can I help with?' }).waitFor();

    await bob.goto(`${origin}/settings/general`);
    await bob.getByLabel('Language').selectOption('ko');
    await bob.getByRole('dialog', { name: '설정' }).waitFor();
    await bob.getByRole('button', { name: '닫기', exact: true }).click();
    await bob.getByRole('heading', { name: '무엇을 도와드릴까요?' }).waitFor();
    expect(await bob.getByRole('button', { name: '새 채팅' }).first().isVisible()).toBe(true);
    expect(await bob.getByRole('textbox', { name: '메시지' }).getAttribute('placeholder')).toBe(
      'Atelier에게 메시지 보내기',
    );
    expect(await bob.evaluate(() => document.documentElement.lang)).toBe('ko');

    await send(bob, '안녕하세요');
    await expect
      .poll(() =>
        bob
          .getByRole('navigation', { name: '채팅 기록' })
          .getByRole('link', { name: '안녕하세요' })
          .isVisible(),
      )
      .toBe(true);
    await expect.poll(() => bob.getByText('오늘').isVisible()).toBe(true);
    await screenshot(bob, '10-korean');

    // The choice is the account's: a new browser shows Korean once signed in.
    await context.clearCookies();
    await bob.evaluate(() => localStorage.clear());
    await bob.goto(`${origin}/sign-in`);
    await bob.getByLabel('Email address').fill('minjun@example.com');
    await bob.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await bob.getByRole('button', { name: 'Sign in' }).click();
    await bob.getByRole('heading', { name: '무엇을 도와드릴까요?' }).waitFor();
    // Bob sees his chats, not Ada's.
    const links = bob.getByRole('navigation', { name: '채팅 기록' }).getByRole('link');
    await expect.poll(() => links.allTextContents()).toEqual(['안녕하세요']);
    await context.close();
  });

  it('is an installable PWA: manifest with icons, a service worker that keeps the shell', async () => {
    const manifest = await (await fetch(`${origin}/manifest.webmanifest`)).json();
    expect(manifest).toMatchObject({ display: 'standalone', start_url: '/' });
    for (const icon of manifest.icons as Array<{ src: string; type: string }>) {
      const response = await fetch(`${origin}${icon.src}`);
      expect(response.status, icon.src).toBe(200);
      expect(response.headers.get('content-type'), icon.src).toContain(icon.type);
    }
    const context = await browser.newContext({ serviceWorkers: 'allow' });
    const visitor = await context.newPage();
    await visitor.goto(`${origin}/`);
    const cached = await visitor.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const names = await caches.keys();
      const cache = await caches.open(names.find((name) => name.startsWith('atelier-shell-'))!);
      return (await cache.keys()).map((request) => new URL(request.url).pathname);
    });
    expect(cached).toEqual(expect.arrayContaining(['/', '/manifest.webmanifest', '/icons/icon-192.png']));
    expect(cached.some((file) => /^\/assets\/index-.*\.js$/.test(file))).toBe(true);
    await context.close();
  });

  it('switches to the dark theme', async () => {
    await page.goto(`${origin}/settings/general`);
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.getByText('Dark', { exact: true }).click();
    expect(await settings.getByRole('radio', { name: 'Dark' }).isChecked()).toBe(true);
    await settings.getByRole('button', { name: 'Close', exact: true }).click();
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    await page.getByRole('link', { name: 'Ocean tides' }).click();
    await expect.poll(() => page.locator('.message-user').count()).toBeGreaterThan(0);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(33, 33, 33)');
    await screenshot(page, '11-dark');
  });
});
