// Two browsers signed in as the same person (a laptop and a phone, each with its own session):
// what one does shows on the other without a reload: a new chat in the history, a chat continued
// while it is open, a rename, a deletion. Screenshots go to test-results/web/.
import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { startApiServer } from '../support/api-server.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';
import { lastAnswerText, send, signIn, signUp } from './pages.js';

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;
/** Generous: answers come from a real (tiny) model. */
const SLOW = { timeout: 30_000 };

describeBrowser('a person’s devices stay in step', () => {
  let server: TestServer;
  let webDir: string | undefined;
  let origin: string;
  let browser: Browser;
  let laptop: Page;
  let phone: Page;

  beforeAll(async () => {
    // The page served must be the current source (a no-op when nothing changed).
    webDir = buildWebApp();
    server = await startApiServer({ env: { ATELIER_WEB_DIR: webDir } });
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
});
