// Files in the web app's chat, in Chromium against a real server whose model can see images and
// which has both built-in tools (stubs of their backends: the random-weight model would not use
// them anyway): files come in by the paperclip, by a drop on the chat and by pasting an image;
// they upload at once and go with the question (images inline, documents to file_search, data to
// the code interpreter); an answer's citations name their file, and the images and files the code
// interpreter made are shown and download. Screenshots go to test-results/web/.
import { readFile, rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../../packages/server/src/test-support/test-server.js';
import { MODEL, startApiServer } from '../support/api-server.js';
import { solidPng } from '../support/png.js';
import { buildWebApp, launchChromium, screenshot } from './browser.js';
import { fakeAnswer } from './fake-answer.js';
import { answerDone, lastAnswer, lastAnswerId, signUp } from './pages.js';

const describeBrowser = process.env['ATELIER_TEST_SKIP_BROWSER'] === '1' ? describe.skip : describe;

const NOTES = 'The queen lays 2,000 eggs a day.';
const SALES = 'month,jars\nMay,40\nJune,55\n';

describeBrowser('files in the chat', () => {
  let server: TestServer;
  let webDir: string | undefined;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let chatId: string;
  /** The files of the first question, by name, as the server stored them. */
  const uploaded = new Map<string, string>();

  const input = () => page.getByRole('textbox', { name: 'Message' });
  const chips = () => page.getByRole('list', { name: 'Files to send' }).getByRole('listitem');

  /** Downloads by clicking `target`, and reads what was saved. */
  async function download(target: ReturnType<Page['getByRole']>): Promise<{ name: string; text: string }> {
    const [saved] = await Promise.all([page.waitForEvent('download'), target.click()]);
    return { name: saved.suggestedFilename(), text: await readFile(await saved.path(), 'utf8') };
  }

  beforeAll(async () => {
    // The page served must be the current source (a no-op when nothing changed).
    webDir = buildWebApp();
    server = await startApiServer({
      env: { ATELIER_WEB_DIR: webDir },
      tools: {
        fileSearch: { search: async () => [] },
        codeInterpreter: { execute: async () => ({ logs: '', imageFileIds: [], files: [] }) },
      },
    });
    // As `atelier models set atelier-tiny --vision on`: a model that takes images.
    await server.server.storage.repositories.modelRegistry.updateSettings(MODEL, {
      capabilities: { vision: true },
    });
    await server.server.reloadRegistry();
    origin = server.baseURL.replace(/\/v1$/, '');
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1200, height: 820 },
      serviceWorkers: 'block',
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    page = await context.newPage();
    await signUp(page, origin, { name: 'Ada Lovelace', email: 'ada@example.com' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });

  it('attaches files by the paperclip, by dropping them and by pasting an image', async () => {
    await page.getByTestId('composer-file-input').setInputFiles([
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(NOTES) },
      { name: 'sales.csv', mimeType: 'text/csv', buffer: Buffer.from(SALES) },
    ]);
    await expect.poll(() => chips().count()).toBe(2);

    // Dropped on the chat: it says where they go while they hover.
    const dropped = await page.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(['# Report\n\nSales rose in June.'], 'report.md', { type: 'text/markdown' }));
      return data;
    });
    await page.dispatchEvent('main.chat', 'dragover', { dataTransfer: dropped });
    await expect
      .poll(() => page.getByText('Drop files here to add them to the message').isVisible())
      .toBe(true);
    await screenshot(page, '30-drop-files');
    await page.dispatchEvent('main.chat', 'drop', { dataTransfer: dropped });
    await expect.poll(() => chips().count()).toBe(3);
    expect(await page.getByText('Drop files here to add them to the message').count()).toBe(0);

    // A pasted picture.
    await input().focus();
    await page.evaluate(
      (bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
        document
          .getElementById('composer-input')!
          .dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
          );
      },
      [...solidPng()],
    );
    await expect.poll(() => chips().count()).toBe(4);
    expect(await chips().getByRole('img', { name: 'pasted.png' }).isVisible()).toBe(true);
    // All uploaded: nothing busy, and each can be taken out again.
    await expect.poll(() => page.locator('.composer-file[aria-busy="true"]').count()).toBe(0);
    expect(
      await page
        .getByRole('button', { name: /^Remove / })
        .evaluateAll((buttons) => buttons.map((button) => button.getAttribute('aria-label'))),
    ).toEqual(['Remove notes.txt', 'Remove sales.csv', 'Remove report.md', 'Remove pasted.png']);
    await screenshot(page, '31-files-attached');
  });

  it('sends them with the question: the image inline, the files as chips, each to its tool', async () => {
    const before = await lastAnswerId(page);
    await input().fill('What do my files say?');
    await input().press('Enter');
    await answerDone(page, before);
    await expect.poll(() => page.url()).toMatch(/\/c\/chat_/);
    chatId = new URL(page.url()).pathname.split('/').at(-1)!;

    const question = page.locator('.message-user').last();
    await expect
      .poll(() =>
        question
          .getByRole('img', { name: 'pasted.png' })
          .evaluate((image) => (image as HTMLImageElement).naturalWidth),
      )
      .toBe(24);
    for (const name of ['notes.txt', 'sales.csv', 'report.md']) {
      expect(await question.getByRole('button', { name: `Download ${name}` }).isVisible()).toBe(true);
    }

    // Stored as the question's attachments, each for the tool that reads it, and the image as content.
    const chat = await (await page.request.get(`${origin}/api/chats/${chatId}`)).json();
    const [first] = chat.messages;
    for (const [fileId, file] of Object.entries(chat.files as Record<string, { filename: string }>)) {
      uploaded.set(file.filename, fileId);
    }
    expect(first.attachments).toEqual([
      { file_id: uploaded.get('notes.txt'), tools: [{ type: 'file_search' }] },
      { file_id: uploaded.get('sales.csv'), tools: [{ type: 'code_interpreter' }] },
      { file_id: uploaded.get('report.md'), tools: [{ type: 'file_search' }] },
    ]);
    expect(first.parts).toEqual([
      { type: 'text', text: { value: 'What do my files say?', annotations: [] } },
      { type: 'image_file', image_file: { file_id: uploaded.get('pasted.png') } },
    ]);
    // The thread the answer was written on has the same message.
    const stored = await server.server.storage.repositories.messages.list({
      workspaceId: (await (await page.request.get(`${origin}/api/session`)).json()).workspace_id,
      threadId: first.thread_id,
      limit: 10,
      order: 'asc',
    });
    expect(stored.data[0]?.attachments.map((attachment) => attachment.fileId)).toEqual([
      uploaded.get('notes.txt'),
      uploaded.get('sales.csv'),
      uploaded.get('report.md'),
    ]);

    // A file chip downloads the file; a reload shows it all again, from the server.
    expect(await download(question.getByRole('button', { name: 'Download notes.txt' }))).toEqual({
      name: 'notes.txt',
      text: NOTES,
    });
    await page.reload();
    await expect
      .poll(() =>
        page
          .locator('.message-user')
          .first()
          .getByRole('img', { name: 'pasted.png' })
          .evaluate((image) => (image as HTMLImageElement).naturalWidth),
      )
      .toBe(24);
    expect(await page.getByRole('button', { name: 'Download sales.csv' }).isVisible()).toBe(true);
    await screenshot(page, '32-question-with-files');
  });

  it('shows an answer’s citations as chips naming the file, and the code interpreter’s chart and file', async () => {
    // What the code interpreter would have written: a chart and a cleaned table.
    const { csrf_token: csrf } = await (await page.request.get(`${origin}/api/session`)).json();
    const upload = async (name: string, mimeType: string, buffer: Buffer) =>
      (
        await (
          await page.request.post(`${origin}/v1/files`, {
            headers: { 'x-atelier-csrf': csrf },
            multipart: { purpose: 'assistants', file: { name, mimeType, buffer } },
          })
        ).json()
      ).id as string;
    const chart = await upload(
      'chart.png',
      'image/png',
      solidPng({ width: 40, height: 30, rgb: [200, 80, 40] }),
    );
    const cleaned = await upload('clean.csv', 'text/csv', Buffer.from('month,jars\nMay,40\n'));
    const text =
      'Your notes say the queen lays 2,000 eggs a day【4:0†notes.txt】. Sales rose; here is [the cleaned data](sandbox:/mnt/data/clean.csv).';
    await page.route('**/api/chats/*/messages', (route) =>
      route.fulfill(
        fakeAnswer(route, [
          {
            type: 'text',
            text,
            annotations: [
              { type: 'file_citation', text: '【4:0†notes.txt】', fileId: uploaded.get('notes.txt')! },
              { type: 'file_path', text: 'sandbox:/mnt/data/clean.csv', fileId: cleaned },
            ],
          },
          { type: 'image_file', fileId: chart },
        ]),
      ),
    );
    const before = await lastAnswerId(page);
    await input().fill('Summarize the sales');
    await input().press('Enter');
    await answerDone(page, before);
    await page.unroute('**/api/chats/*/messages');

    const answer = lastAnswer(page);
    // The citation: a chip naming the file, in place of the mark; it downloads the file.
    const citation = answer.locator('.citation-chip');
    await expect.poll(() => citation.textContent()).toBe('notes.txt');
    expect(await answer.locator('.markdown').textContent()).not.toContain('【');
    expect(await download(answer.getByRole('button', { name: 'Download notes.txt' }))).toEqual({
      name: 'notes.txt',
      text: NOTES,
    });
    // The chart, inline.
    await expect
      .poll(() =>
        answer
          .getByRole('img', { name: 'chart.png' })
          .evaluate((image) => (image as HTMLImageElement).naturalWidth),
      )
      .toBe(40);
    // The file the code wrote: its link downloads it.
    expect(await answer.locator('.file-link').first().textContent()).toBe('the cleaned data');
    expect(await download(answer.locator('.file-link').first())).toEqual({
      name: 'clean.csv',
      text: 'month,jars\nMay,40\n',
    });
    await screenshot(page, '33-answer-files');
    // Copying the answer leaves the citation marks out.
    await answer.getByRole('button', { name: 'Copy', exact: true }).click();
    await expect
      .poll(() => page.evaluate(() => navigator.clipboard.readText()))
      .toBe(text.replace('【4:0†notes.txt】', ''));
  });
});
