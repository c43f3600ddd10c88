// Debian's Chromium driven by playwright-core, for the web app's browser tests and bench/web.ts.
// Flags: headless, as root without the sandbox, and without the background traffic Chromium
// starts on its own (this machine's network is closed; those connections only fail slowly).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '../..');
const BUILD_LOCK = path.join(tmpdir(), 'atelier-web-build.lock');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 10 * 60 * 1000;

/**
 * Builds the web app (a no-op when nothing changed) and returns a copy of the build for one test
 * file's server to serve (`ATELIER_WEB_DIR`). Builds run one at a time, and each file serves its
 * own copy: Vite empties packages/web/dist before writing it, so a build made for another file
 * (the sources changed meanwhile) would otherwise take the scripts from under a page in the
 * middle of a test. Remove the copy with `rm(dir, { recursive: true })` when done.
 */
export function buildWebApp(): string {
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(BUILD_LOCK).mtimeMs > STALE_LOCK_MS) {
          rmSync(BUILD_LOCK, { recursive: true, force: true });
        }
      } catch {
        // released meanwhile
      }
      // Another test file is building: wait for it (its build makes ours a no-op).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    execFileSync(process.execPath, ['--import', 'tsx', 'packages/web/scripts/build-web.ts'], {
      cwd: REPOSITORY_ROOT,
      stdio: 'pipe',
    });
    const copy = mkdtempSync(path.join(tmpdir(), 'atelier-web-'));
    cpSync(path.join(REPOSITORY_ROOT, 'packages/web/dist'), copy, { recursive: true });
    return copy;
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}
