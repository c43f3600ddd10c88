// The web app's two budgets, measured in Debian's Chromium against `npm start`'s server on the
// test model:
//   1. initial JS + CSS a first visit downloads (sign-in page, then the chat after signing up),
//      gzip sizes (target ≤ 250 KB), with what Chromium actually received (brotli) beside them;
//   2. time to first token shown in the page after Enter, against the same request made with the
//      official SDK from Node: a run on a new thread, as a web chat's first answer is
//      (target: page overhead ≤ 50 ms at the median). Rounds alternate. A plain chat
//      completion is measured beside them, to show what runs add.
//
//   npm run bench:web [-- --rounds 20]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import type { Page, Response } from 'playwright-core';
import { launchChromium } from '../test/web/browser.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
const repoRoot = path.resolve(import.meta.dirname, '..');
const dist = path.join(repoRoot, 'packages/web/dist');
const apiKey = 'sk-atelier-bench-0123456789abcdefghijklmn';
const MODEL = 'atelier-tiny';
const PROMPT = 'Explain how tides work, briefly.';
const BUDGET_BYTES = 250 * 1024;
const BUDGET_MS = 50;

const dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-bench-web-'));
const server = spawn(process.execPath, [path.join(repoRoot, 'packages/server/bin/atelier.js'), 'serve'], {
  env: {
    ...process.env,
    ATELIER_DATA_DIR: dataDir,
    ATELIER_PORT: '0',
    ATELIER_BOOTSTRAP_API_KEY: apiKey,
    ATELIER_LOG_LEVEL: 'info',
    ATELIER_THREADS: '1',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const browser = await launchChromium();

try {
  const origin = await listeningUrl(server);
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'block',
  });
  const page = await context.newPage();

  // 1. What the first visit downloads.
  const loaded: Response[] = [];
  page.on('response', (response) => loaded.push(response));
  await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
  await page.getByLabel('Name').fill('Bench');
  await page.getByLabel('Email address').fill('bench@example.com');
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
  await page.waitForLoadState('networkidle');
  const assets = loaded.filter((response) => /\.(js|css)$/.test(new URL(response.url()).pathname));
  let wire = 0;
  let gzip = 0;
  let raw = 0;
  const rows: string[] = [];
  for (const response of assets) {
    const pathname = new URL(response.url()).pathname;
    const file = path.join(dist, pathname);
    const sizes = {
      wire: Number((await response.allHeaders())['content-length'] ?? (await response.body()).length),
      gzip: (await stat(`${file}.gz`).catch(() => stat(file))).size,
      raw: (await stat(file)).size,
    };
    wire += sizes.wire;
    gzip += sizes.gzip;
    raw += sizes.raw;
    rows.push(
      `  ${pathname.padEnd(44)} ${kb(sizes.gzip).padStart(9)} gzip ${kb(sizes.wire).padStart(9)} sent ${kb(sizes.raw).padStart(9)} raw`,
    );
  }
  console.log(`initial load: ${assets.length} JS/CSS files`);
  console.log(rows.join('\n'));
  console.log(
    `  total: ${kb(gzip)} gzip (${((gzip / BUDGET_BYTES) * 100).toFixed(0)}% of the 250 KB budget), ${kb(wire)} as Chromium received it, ${kb(raw)} uncompressed`,
  );

  // 2. Time to first token: the page (Enter → first words painted) against the SDK (request →
  // first content delta). Each page round is a new chat, so both send the same one message.
  const client = new OpenAI({ baseURL: `${origin}/v1`, apiKey, maxRetries: 0 });
  // The same run as the page's: the built-in tools a web chat gets here (code_interpreter when
  // the server has it and the model calls tools; file_search only once a chat has files).
  const session = (await (await page.request.get(`${origin}/api/session`)).json()) as {
    capabilities?: { code_interpreter?: boolean };
  };
  const served = (await client.models.retrieve(MODEL)) as {
    atelier?: { capabilities?: { tools?: boolean } };
  };
  const tools: OpenAI.Beta.AssistantTool[] =
    session.capabilities?.code_interpreter && served.atelier?.capabilities?.tools !== false
      ? [{ type: 'code_interpreter' }]
      : [];
  const assistant = await client.beta.assistants.create({ model: MODEL, name: 'bench', tools });
  console.log(`  runs' tools: ${tools.map((tool) => tool.type).join(', ') || 'none'}`);
  const completionTimes: number[] = [];
  const sdkTimes: number[] = [];
  const pageTimes: number[] = [];
  const stages: PageStages[] = [];
  const pageRound = async () => {
    const measured = await pageFirstToken(page);
    pageTimes.push(measured.shown);
    stages.push(measured);
  };
  await sdkFirstToken(client, assistant.id); // warm-up: the model's first request pays for loading
  await pageFirstToken(page);
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      sdkTimes.push(await sdkFirstToken(client, assistant.id));
      await pageRound();
    } else {
      await pageRound();
      sdkTimes.push(await sdkFirstToken(client, assistant.id));
    }
    completionTimes.push(await completionFirstToken(client));
  }
  const pageMedian = median(pageTimes);
  const sdkMedian = median(sdkTimes);
  console.log(`time to first token over ${rounds} rounds (median / p90):`);
  console.log(`  page (Enter → first words painted): ${ms(pageMedian)} / ${ms(percentile(pageTimes, 0.9))}`);
  console.log(
    `  SDK  (run on a new thread → first delta): ${ms(sdkMedian)} / ${ms(percentile(sdkTimes, 0.9))}`,
  );
  console.log(
    `  SDK  (chat completion → first delta, for reference): ${ms(median(completionTimes))} / ${ms(percentile(completionTimes, 0.9))}`,
  );
  const stage = (name: keyof PageStages) => ms(median(stages.map((entry) => entry[name])));
  console.log(
    `  page stages after Enter (medians): request sent ${stage('requestSent')}, response headers on the network ${stage('headers')}, in the page's script ${stage('response')}, first event read ${stage('firstEvent')}, first words in the DOM ${stage('inDom')}, painted ${stage('shown')}`,
  );
  console.log(
    `  page overhead: ${ms(pageMedian - sdkMedian)} (${(((pageMedian - sdkMedian) / BUDGET_MS) * 100).toFixed(0)}% of the 50 ms budget); ratio page/SDK ${(pageMedian / sdkMedian).toFixed(2)}`,
  );
  await context.close();
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}

async function sdkFirstToken(client: OpenAI, assistantId: string): Promise<number> {
  const started = performance.now();
  const stream = await client.beta.threads.createAndRun({
    assistant_id: assistantId,
    thread: { messages: [{ role: 'user', content: PROMPT }] },
    stream: true,
  });
  let first = Number.NaN;
  for await (const event of stream) {
    if (Number.isNaN(first) && event.event === 'thread.message.delta') first = performance.now() - started;
  }
  return first;
}

async function completionFirstToken(client: OpenAI): Promise<number> {
  const started = performance.now();
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: PROMPT }],
    stream: true,
  });
  let first = Number.NaN;
  for await (const chunk of stream) {
    if (Number.isNaN(first) && chunk.choices[0]?.delta?.content) first = performance.now() - started;
  }
  return first;
}

/** Milliseconds after Enter, in the page's clock. */
interface PageStages {
  readonly requestSent: number;
  readonly headers: number;
  readonly response: number;
  readonly firstEvent: number;
  readonly inDom: number;
  readonly shown: number;
}

async function pageFirstToken(page: Page): Promise<PageStages> {
  await page.keyboard.press('Control+Shift+O');
  await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(PROMPT);
  await page.evaluate(() => {
    performance.clearMarks();
    performance.clearResourceTimings();
    const timing = { enter: 0, inDom: 0, shown: 0 };
    (window as unknown as { timing: typeof timing }).timing = timing;
    document.addEventListener(
      'keydown',
      (event) => {
        if (event.key === 'Enter') timing.enter = performance.now();
      },
      { capture: true, once: true },
    );
    const observer = new MutationObserver(() => {
      const text = document.querySelector('.message-assistant .markdown')?.textContent ?? '';
      if (text.length === 0) return;
      observer.disconnect();
      timing.inDom = performance.now();
      // The frame that paints the first words.
      requestAnimationFrame(() => {
        timing.shown = performance.now();
      });
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await input.press('Enter');
  await page.waitForFunction(() => (window as unknown as { timing: { shown: number } }).timing.shown > 0);
  await page.waitForFunction(() => !document.querySelector('.message-assistant[aria-busy="true"]'));
  return page.evaluate(() => {
    const { timing } = window as unknown as { timing: { enter: number; inDom: number; shown: number } };
    const request = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((entry) =>
      entry.name.endsWith('/api/chats'),
    );
    // No helper functions in here: tsx would wrap them in a __name() call the page lacks.
    const [response, firstEvent] = ['atelier:response', 'atelier:first-event'].map(
      (name) => performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN,
    );
    return {
      requestSent: (request?.requestStart ?? Number.NaN) - timing.enter,
      headers: (request?.responseStart ?? Number.NaN) - timing.enter,
      response: (response ?? Number.NaN) - timing.enter,
      firstEvent: (firstEvent ?? Number.NaN) - timing.enter,
      inDom: timing.inDom - timing.enter,
      shown: timing.shown - timing.enter,
    };
  });
}

async function listeningUrl(child: ChildProcess): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
