// What the web app's browser tests do again and again, as a person would: sign up or in, send a
// message and wait for its answer to finish streaming, start a GPT in the builder.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export const PASSWORD = 'correct horse battery';

export async function signUp(page: Page, origin: string, { name, email }: { name: string; email: string }) {
  await page.goto(`${origin}/sign-up`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
}

export async function signIn(page: Page, origin: string, email: string) {
  await page.goto(`${origin}/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
}

export const lastAnswer = (page: Page) => page.locator('.message-assistant').last();

/** The last answer's text as shown ('' while it has none). */
export const lastAnswerText = (page: Page) =>
  page.evaluate(
    () =>
      [...document.querySelectorAll('.message-assistant')].at(-1)?.querySelector('.markdown')?.textContent ??
      '',
  );

export const lastAnswerId = (page: Page) =>
  page.evaluate(
    () =>
      [...document.querySelectorAll<HTMLElement>('.message-assistant')].at(-1)?.dataset['messageId'] ?? null,
  );

/** Waits until an answer other than `before` is the last one and has finished streaming. */
export async function answerDone(page: Page, before: string | null): Promise<void> {
  await page.waitForFunction((previous) => {
    const last = [...document.querySelectorAll<HTMLElement>('.message-assistant')].at(-1);
    return !!last && last.dataset['messageId'] !== previous && last.getAttribute('aria-busy') !== 'true';
  }, before);
}

/** Types a message, presses Enter and (by default) waits for the whole answer. */
export async function send(page: Page, text: string, { wait = true }: { wait?: boolean } = {}) {
  const before = await lastAnswerId(page);
  const input = page.getByRole('textbox', { name: /^(Message|메시지)$/ });
  await input.fill(text);
  await input.press('Enter');
  if (wait) await answerDone(page, before);
}

/** Starts a GPT in the builder's Configure tab by naming it; gives its id once it is saved. */
export async function startGpt(page: Page, origin: string, name: string): Promise<string> {
  await page.goto(`${origin}/gpts/new`);
  await page.getByRole('tab', { name: 'Configure' }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await expect.poll(() => /\/gpts\/g-\w+\/edit$/.test(page.url()), { timeout: 30_000 }).toBe(true);
  return /\/gpts\/(g-\w+)\/edit$/.exec(page.url())![1]!;
}
