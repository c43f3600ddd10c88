// Two browsers signed in as the same person (a laptop and a phone, each with its own session):
// what one does shows on the other without a reload: a new chat in the history, a chat continued
// while it is open, an answer growing word by word as it is written (from a scripted model that
// writes slowly, test/support/scripted-upstream.ts), also on a device that opens the chat in the
// middle of it (one read to catch up, then the words alone), a rename, a deletion; and the account
// deleted on one signs the other out at once. Screenshots go to test-results/web/.
import { rm } from 'node:fs/promises';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { type ScriptedUpstream, startScriptedUpstream } from '../support/scripted-upstream.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';
import { lastAnswerText, PASSWORD, send, signIn, signUp } from './pages.js';

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;
/** Generous: answers come from a real (tiny) model. */
const SLOW = { timeout: 30_000 };
/** A model that writes a word every 150 ms. */
const WRITER = 'slow/writer';
const LONG_QUESTION = 'Tell me about Jeju, slowly';
const LONG_ANSWER =
  'Jeju is a volcanic island off the south coast of Korea, known for Hallasan, its lava tubes, ' +
  'the haenyeo who dive for shellfish, tangerine groves and long walks along the Olle trails.';
const LATER_QUESTION = 'And its food, slowly?';
/** About nine seconds at a word every 150 ms. */
const LATER_ANSWER =
  'Jeju is known for its black pork, grilled over charcoal and eaten wrapped in lettuce with ' +
  'garlic and ssamjang; for abalone porridge, hairtail soup and raw fish caught that morning; ' +
  'for buckwheat noodles in a rich pork broth; for omegi rice cakes made of millet; and for ' +
  'the tangerines, hallabong and green tea that grow on the slopes of Hallasan, sold at every ' +
  'market and roadside stall along the coast of the island.';

/** Whether the last answer on the page is still being written, and its text as shown. */
const answerOnScreen = (page: Page) =>
  page.evaluate(() => {
    const last = [...document.querySelectorAll('.message-assistant')].at(-1);
    return {
      busy: last?.getAttribute('aria-busy') === 'true',
      text: last?.querySelector('.markdown')?.textContent?.trim() ?? '',
    };
  });

describeBrowser('a person’s devices stay in step', () => {
  let server: TestServer;
  let upstream: ScriptedUpstream;
  let webDir: string | undefined;
  let origin: string;
  let browser: Browser;
  let laptop: Page;
  let phone: Page;

  beforeAll(async () => {
    // The page served must be the current source (a no-op when nothing changed).
    webDir = buildWebApp();
    upstream = await startScriptedUpstream({ model: 'writer', wordDelayMs: 150 });
    upstream.script(LONG_QUESTION, [{ text: LONG_ANSWER }]);
    upstream.script(LATER_QUESTION, [{ text: LATER_ANSWER }]);
    server = await startApiServer({
      env: {
        ATELIER_WEB_DIR: webDir,
        ATELIER_UPSTREAMS: JSON.stringify([{ name: 'slow', base_url: upstream.baseUrl, prefix: 'slow/' }]),
      },
    });
    origin = server.baseURL.replace(/\/v1$/, '');
    browser = await launchChromium();
    const options = { viewport: { width: 1100, height: 760 }, serviceWorkers: 'block' as const };
    laptop = await (await browser.newContext(options)).newPage();
    phone = await (await browser.newContext(options)).newPage();
    await signUp(laptop, origin, { name: 'Ada Lovelace', email: 'ada@example.com' });
    await signIn(phone, origin, 'ada@example.com');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await upstream?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  const historyOf = (page: Page) => page.getByRole('navigation', { name: 'Chat history' });

  it('shows a chat started on one device in the other’s history', async () => {
    await send(laptop, 'Plan a trip to Jeju');
    await expect
      .poll(() => historyOf(phone).getByRole('link', { name: 'Plan a trip to Jeju' }).isVisible(), SLOW)
      .toBe(true);
    await screenshot(phone, '20-sync-new-chat-on-phone');
  });

  it('shows a chat continued on one device in the other, open on it', async () => {
    await historyOf(phone).getByRole('link', { name: 'Plan a trip to Jeju' }).click();
    await expect
      .poll(() => phone.locator('.message-user .bubble').allTextContents(), SLOW)
      .toEqual(['Plan a trip to Jeju']);
    await send(laptop, 'What about the weather?');
    const answer = await lastAnswerText(laptop);
    await expect
      .poll(() => phone.locator('.message-user .bubble').allTextContents(), SLOW)
      .toEqual(['Plan a trip to Jeju', 'What about the weather?']);
    await expect.poll(() => lastAnswerText(phone), SLOW).toBe(answer);
    await screenshot(phone, '21-sync-continued-on-phone');
  });

  it('shows an answer being written on one device growing word by word on the other', async () => {
    // Both have the chat open (above). The laptop asks a model that writes slowly.
    await laptop.getByRole('button', { name: /^Model: / }).click();
    await laptop.getByRole('menuitemradio', { name: new RegExp(`^${WRITER}(\\s|$)`) }).click();
    await send(laptop, LONG_QUESTION, { wait: false });
    // What the phone shows of the answer while it is still being written, sampled.
    const seen = new Set<string>();
    await phone.waitForFunction(
      () => document.querySelector('.message-assistant[aria-busy="true"]') !== null,
      undefined,
      SLOW,
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = await answerOnScreen(phone);
      if (!now.busy) break;
      if (Date.now() > deadline)
        expect.fail(`After 30 s the answer was still being written (${seen.size} texts seen).`);
      if (now.text) seen.add(now.text);
      if (seen.size === 3) await screenshot(phone, '23-sync-answer-growing-on-phone');
      await phone.waitForTimeout(100);
    }
    await expect.poll(() => lastAnswerText(phone), SLOW).toBe(LONG_ANSWER);
    // It grew: several partial texts, each the beginning of the answer.
    expect(seen.size).toBeGreaterThanOrEqual(3);
    for (const partial of seen) expect(LONG_ANSWER.startsWith(partial)).toBe(true);
    expect(Math.min(...[...seen].map((partial) => partial.length))).toBeLessThan(LONG_ANSWER.length / 2);
  });

  it('follows an answer from the middle on a device that opens the chat then, reading it once more at most', async () => {
    // The laptop asks (the slow model is still chosen, above); the phone opens the chat a few
    // seconds in. Its first read has the answer as saved up to a second before, so the first
    // words it hears start past that: it reads the chat once more, then follows the words alone.
    await send(laptop, LATER_QUESTION, { wait: false });
    await laptop.waitForFunction(
      () => document.querySelector('.message-assistant[aria-busy="true"]') !== null,
      undefined,
      SLOW,
    );
    const chatPath = new URL(laptop.url()).pathname;
    const chatId = chatPath.split('/').at(-1)!;
    await laptop.waitForTimeout(2500);
    const isChatRead = (request: Request) =>
      request.method() === 'GET' && new URL(request.url()).pathname === `/api/chats/${chatId}`;
    let reads = 0;
    const countReads = (request: Request) => {
      if (isChatRead(request)) reads++;
    };
    /** What each read gave of the answer while it was still being written (null once it was done). */
    const readTexts: Promise<string | null>[] = [];
    const keepReadText = (response: Response) => {
      if (!isChatRead(response.request())) return;
      readTexts.push(
        response.json().then(
          (chat: { messages?: { status: string; content: string }[] }) => {
            const writing = chat.messages?.find((message) => message.status === 'in_progress');
            return writing ? writing.content.trim() : null;
          },
          // A read the page made as it was left (for the new one) may have no body to give.
          () => null,
        ),
      );
    };
    phone.on('request', countReads);
    phone.on('response', keepReadText);
    await phone.goto(`${origin}${chatPath}`);
    // The answer takes about eleven seconds, and the phone came in the middle of it (the test's
    // own limit leaves room for this deadline to be what fails, with what the phone showed).
    const deadline = Date.now() + 30_000;
    const seen: string[] = [];
    for (;;) {
      const now = await answerOnScreen(phone);
      if (now.busy && now.text && now.text !== seen.at(-1)) seen.push(now.text);
      if (!now.busy && seen.length > 0) break;
      if (!now.busy && now.text === LATER_ANSWER) {
        expect.fail('The phone opened the chat after the answer was written: it had nothing to follow.');
      }
      if (Date.now() > deadline) {
        expect.fail(
          `After 30 s the phone still showed ${now.busy ? 'the answer being written' : 'no answer being written'} (${seen.length} texts of it seen).`,
        );
      }
      await phone.waitForTimeout(100);
    }
    phone.off('request', countReads);
    phone.off('response', keepReadText);
    await expect.poll(() => lastAnswerText(phone), SLOW).toBe(LATER_ANSWER);
    // Opened in the middle: it showed the answer under way, each time a beginning of it.
    expect(seen[0]!.length).toBeLessThan(LATER_ANSWER.length);
    for (const partial of seen) expect(LATER_ANSWER.startsWith(partial)).toBe(true);
    // The read that opened the chat, one to catch up (two if the server's save came late), the
    // one that found the answer done; not one every half second while it was written.
    expect(reads).toBeLessThanOrEqual(4);
    // And word by word after the last of its reads while the answer was written: texts longer than
    // any read gave can only have come from the words as they were sent (were the words past the
    // first read never caught up, the answer would have stood still until it was done).
    const whileWritten = (await Promise.all(readTexts)).filter((text) => text !== null);
    expect(whileWritten.length).toBeGreaterThanOrEqual(1);
    const longestRead = Math.max(...whileWritten.map((text) => text.length));
    const followed = seen.filter((text) => text.length > longestRead);
    expect(
      followed.length,
      `lengths shown: ${seen.map((text) => text.length).join(', ')}; the longest read: ${longestRead}`,
    ).toBeGreaterThanOrEqual(4);
    await screenshot(phone, '25-sync-answer-followed-from-the-middle');
  }, 90_000);

  it('renames and deletes on one device, and the other follows', async () => {
    const laptopHistory = historyOf(laptop);
    await laptopHistory.getByRole('button', { name: 'Options for “Plan a trip to Jeju”' }).click();
    await laptop.getByRole('menuitem', { name: 'Rename' }).click();
    const title = laptopHistory.getByRole('textbox', { name: 'Chat title' });
    await title.fill('Jeju in spring');
    await title.press('Enter');
    await expect
      .poll(() => historyOf(phone).getByRole('link', { name: 'Jeju in spring' }).isVisible(), SLOW)
      .toBe(true);

    await laptopHistory.getByRole('button', { name: 'Options for “Jeju in spring”' }).click();
    await laptop.getByRole('menuitem', { name: 'Delete' }).click();
    await laptop
      .getByRole('dialog', { name: 'Delete chat?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect.poll(() => historyOf(phone).getByRole('link').count(), SLOW).toBe(0);
    // The phone had it open: it says the chat is gone rather than showing a stale copy.
    await expect
      .poll(() => phone.getByText('This chat does not exist, or it was deleted.').isVisible(), SLOW)
      .toBe(true);
    await screenshot(phone, '22-sync-deleted-on-phone');
  });

  it('shows the sign-in page on one device as soon as the account is deleted on the other', async () => {
    await phone.goto(`${origin}/`);
    await phone.getByRole('textbox', { name: 'Message' }).waitFor();
    const settings = laptop.getByRole('dialog', { name: 'Settings' });
    await laptop.goto(`${origin}/settings/account`);
    await settings.getByLabel('Your password, to confirm').fill(PASSWORD);
    await settings.getByRole('button', { name: 'Delete my account' }).click();
    // The phone did nothing: its event stream ended with the session, and it asked who is there.
    await expect.poll(() => phone.getByLabel('Email address').isVisible(), SLOW).toBe(true);
    expect(await phone.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
    await screenshot(phone, '24-sync-account-deleted-on-phone');
  });
});
