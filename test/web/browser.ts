// Debian's Chromium driven by playwright-core, for the web app's browser tests and bench/web.ts.
// Flags: headless, as root without the sandbox, and without the background traffic Chromium
// starts on its own (this machine's network is closed; those connections only fail slowly).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env['ATELIER_CHROMIUM'] ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set ATELIER_CHROMIUM.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/web');

/** Saves a full-page screenshot under test-results/web/ (a CI artifact; gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  // Animations jump to their end: a sliding sidebar is shot where it stops.
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}
