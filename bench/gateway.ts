// What Atelier adds as a gateway, side by side in one run on loopback, against the same fast local
// upstream (a minimal node:http server in a worker thread, returning a fixed chat completion and
// a fixed SSE stream): direct to the upstream; through Atelier (and, when its native relay was
// built, a second Atelier with ATELIER_NATIVE_RELAY=off, to compare); through a bare node:http
// pass-through proxy (the floor the issue names); through a raw TCP pipe (bytes copied socket to
// socket, no HTTP at all: what any Node proxy process costs here), and the same pipe in C (one
// epoll loop, no runtime: what any proxy process costs here); through the Portkey AI gateway (the
// best-known TypeScript peer).
// Prints added latency p50/p99 at concurrency 1, throughput at concurrency 16, added latency per
// streamed chunk, and idle/peak RSS, with the issue's targets:
//   added p50 ≤ 0.5 ms, throughput ≥ 3× Portkey and ≥ 50% of the bare proxy,
//   per-chunk overhead ≤ 20 µs, idle RSS < 120 MB (no local models).
//
//   npm run bench:gateway [-- --requests 2000 --seconds 5 --streams 30 --chunks 64]
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const CHUNKS_DEFAULT = 64;
const NATIVE_PIPE = 'raw TCP pipe in C';
const JS_RELAY = 'Atelier, JavaScript relay';
/** Plain requests kept in flight through Atelier while its streams are measured "busy". */
const BUSY_LOAD = 8;

// The load of that measure, in a worker thread (so the bench's own stream client is not slowed by
// it): `concurrency` requests always in flight until told to stop; answers how many completed.
const LOAD_SOURCE = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, headers, body, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let running = true;
let completed = 0;
parentPort.once('message', () => { running = false; });
const one = () => new Promise((resolve) => {
  const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
    response.resume();
    response.on('end', resolve);
  });
  request.on('error', resolve);
  request.end(body);
});
Promise.all(Array.from({ length: concurrency }, async () => {
  while (running) { await one(); completed++; }
})).then(() => parentPort.postMessage(completed));
`;

// ---------------------------------------------------------------------------------------------
// The upstream, in a worker thread: its own event loop (so the load generator does not slow it),
// and a shared buffer where it notes when it wrote each chunk of the stream in flight. Plain
// JavaScript run with `eval`: a worker does not get tsx's loader on Node 20.
// ---------------------------------------------------------------------------------------------

const UPSTREAM_SOURCE = String.raw`
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { sent, chunks } = workerData;
const sentAt = new Float64Array(sent);
const now = () => Number(process.hrtime.bigint()) / 1000;
const completion = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench0123456789', object: 'chat.completion', created: 1730000000, model: 'bench-model',
  system_fingerprint: 'fp_bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' },
    logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 },
}));
const events = Array.from({ length: chunks }, (_, index) => Buffer.from('data: ' + JSON.stringify({
  id: 'chatcmpl-bench0123456789', object: 'chat.completion.chunk', created: 1730000000, model: 'bench-model',
  system_fingerprint: 'fp_bench',
  choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content: '' } : { content: ' token' + index },
    logprobs: null, finish_reason: index === chunks - 1 ? 'stop' : null }],
}) + '\n\n'));
const done = Buffer.from('data: [DONE]\n\n');
const models = Buffer.from(JSON.stringify({ object: 'list',
  data: [{ id: 'bench-model', object: 'model', created: 1, owned_by: 'bench' }] }));
const server = http.createServer((request, response) => {
  const body = [];
  request.on('data', (chunk) => body.push(chunk));
  request.on('end', () => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': models.length });
      return response.end(models);
    }
    const asked = JSON.parse(Buffer.concat(body).toString('utf8'));
    if (asked.stream !== true) {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length });
      return response.end(completion);
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // One event per millisecond, each its own write, as a fast model streams tokens; the time of
    // each write goes to the shared buffer (one stream at a time is measured).
    // As many events as max_tokens asks (at most the configured number).
    const count = Math.min(chunks, asked.max_tokens ?? chunks);
    let index = 0;
    const next = () => {
      if (index === count) return response.end(done);
      sentAt[index] = now();
      response.write(events[index]);
      index++;
      setTimeout(next, 1);
    };
    next();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

/** Microseconds on the monotonic clock, the same in every thread and process of the machine. */
function now(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

// ---------------------------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------------------------

interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly model: string;
  readonly process?: ChildProcess;
  readonly idleRssMiB?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      seconds: { type: 'string', default: '5' },
      streams: { type: 'string', default: '30' },
      chunks: { type: 'string', default: String(CHUNKS_DEFAULT) },
      rounds: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  const requests = Number(values.requests);
  const seconds = Number(values.seconds);
  const streams = Number(values.streams);
  const chunks = Number(values.chunks);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const repoRoot = path.resolve(import.meta.dirname, '..');

  const sent = new SharedArrayBuffer(8 * chunks);
  const worker = new Worker(UPSTREAM_SOURCE, { eval: true, workerData: { sent, chunks } });
  const upstreamPort = await new Promise<number>((resolve) => worker.once('message', resolve));
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const sentAt = new Float64Array(sent);

  const children: ChildProcess[] = [];
  const dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-bench-gateway-'));
  try {
    const apiKey = 'sk-atelier-bench-0123456789abcdefghijklmn';
    // Which relay Atelier's streams take: the native one unless turned off or not built. With it,
    // a second Atelier with the JavaScript relay runs beside it, for the comparison.
    const nativeRelay =
      !/^(off|false|0|no)$/i.test(process.env.ATELIER_NATIVE_RELAY ?? '') &&
      existsSync(path.join(repoRoot, 'packages/server/native/build/relay.node'));
    const startAtelier = async (name: string, relay: string | undefined) => {
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [path.join(repoRoot, 'packages/server/bin/atelier.js'), 'serve'],
        {
          env: {
            ...process.env,
            ATELIER_DATA_DIR: path.join(dataDir, `atelier-${port}`),
            ATELIER_PORT: String(port),
            ATELIER_BOOTSTRAP_API_KEY: apiKey,
            ATELIER_LOG_LEVEL: 'warn',
            ATELIER_UPSTREAMS: JSON.stringify([
              { name: 'bench', base_url: `${upstream}/v1`, api_key: 'sk-upstream', prefix: 'bench/' },
            ]),
            ...(relay ? { ATELIER_NATIVE_RELAY: relay } : {}),
          },
          // Its start-up banner is not the bench's output; kept to explain a failed start.
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let output = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        output += String(chunk);
      });
      children.push(child);
      const ready = waitForHttp(`http://127.0.0.1:${port}/healthz`).catch((error: Error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      const target: Target = {
        name,
        url: `http://127.0.0.1:${port}`,
        headers: { authorization: `Bearer ${apiKey}` },
        model: 'bench/bench-model',
        process: child,
      };
      return { target, ready };
    };
    const atelier = await startAtelier('Atelier', undefined);
    const atelierJs = nativeRelay ? await startAtelier(JS_RELAY, 'off') : undefined;

    const barePort = await freePort();
    const bare = spawn(
      process.execPath,
      ['--input-type=module', '-e', bareProxySource(barePort, upstreamPort)],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(bare);

    const pipePort = await freePort();
    const pipe = spawn(
      process.execPath,
      ['--input-type=module', '-e', rawPipeSource(pipePort, upstreamPort)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(pipe);

    // The same pipe without a runtime: C, one epoll loop (when a C compiler is at hand).
    const native = await startNativePipe(path.join(repoRoot, 'bench/native-pipe.c'), dataDir, upstreamPort);
    if (native) children.push(native.process);

    const portkeyPort = await freePort();
    const portkey = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/@portkey-ai/gateway/build/start-server.js'),
        `--port=${portkeyPort}`,
        '--headless',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    children.push(portkey);

    await Promise.all([
      atelier.ready,
      atelierJs?.ready,
      waitForHttp(`http://127.0.0.1:${barePort}/v1/models`),
      waitForHttp(`http://127.0.0.1:${pipePort}/v1/models`),
      waitForHttp(`http://127.0.0.1:${portkeyPort}/`),
    ]);
    await sleep(500);
    const targets: Target[] = [
      { name: 'direct', url: upstream, headers: {}, model: 'bench-model' },
      {
        name: 'bare node:http proxy',
        url: `http://127.0.0.1:${barePort}`,
        headers: {},
        model: 'bench-model',
        process: bare,
      },
      {
        name: 'raw TCP pipe',
        url: `http://127.0.0.1:${pipePort}`,
        headers: {},
        model: 'bench-model',
        process: pipe,
      },
      ...(native
        ? [
            {
              name: NATIVE_PIPE,
              url: `http://127.0.0.1:${native.port}`,
              headers: {},
              model: 'bench-model',
              process: native.process,
            },
          ]
        : []),
      atelier.target,
      ...(atelierJs ? [atelierJs.target] : []),
      {
        name: 'Portkey gateway',
        url: `http://127.0.0.1:${portkeyPort}`,
        headers: {
          authorization: 'Bearer sk-upstream',
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${upstream}/v1`,
        },
        model: 'bench-model',
        process: portkey,
      },
    ];
    const measured = await Promise.all(
      targets.map(async (target) => ({
        ...target,
        idleRssMiB: target.process ? await rssMiB(target.process, 'VmRSS') : undefined,
      })),
    );

    // Every target answers what the upstream says (Portkey re-encodes: compared as JSON).
    for (const target of measured) {
      const answer = await call(target, false);
      if (answer.status !== 200)
        throw new Error(`${target.name}: HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      if (
        JSON.parse(answer.body).choices?.[0]?.message?.content !==
        'The quick brown fox jumps over the lazy dog.'
      ) {
        throw new Error(`${target.name} answered something else: ${answer.body.slice(0, 200)}`);
      }
    }

    console.log(
      `gateway bench: ${requests} sequential requests per target in ${rounds} interleaved rounds, ${seconds} s at concurrency ${concurrency}, ${streams} streams of ${chunks} chunks (1 per ms); node ${process.version}, ${(await import('node:os')).cpus().length} CPUs; Atelier relays streams with ${nativeRelay ? `the native relay ('${JS_RELAY}': the same with ATELIER_NATIVE_RELAY=off)` : 'the JavaScript relay'}`,
    );

    // Warm-up: JIT, connection pools.
    for (const target of measured) for (let index = 0; index < 300; index++) await call(target, false);

    // Latency at concurrency 1, interleaved so drift hits every target alike.
    const latency = new Map<string, number[]>(measured.map((target) => [target.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const target of measured) {
        const samples = latency.get(target.name)!;
        for (let index = 0; index < requests / rounds; index++) {
          const started = now();
          await call(target, false);
          samples.push(now() - started);
        }
      }
    }

    // Per streamed chunk: when the client got each chunk, minus when the upstream wrote it. A
    // target that cannot stream is reported as such, not left out silently.
    const perChunk = new Map<string, number[]>(measured.map((target) => [target.name, []]));
    const streamFailures = new Map<string, string>();
    for (let round = 0; round < streams; round++) {
      for (const target of measured) {
        if (streamFailures.has(target.name)) continue;
        const received = await stream(target, chunks);
        if (typeof received === 'string') {
          streamFailures.set(target.name, received);
          continue;
        }
        if (received.length !== chunks) {
          throw new Error(`${target.name}: ${received.length} of ${chunks} chunks`);
        }
        perChunk.get(target.name)!.push(...received.map((at, index) => at - sentAt[index]!));
      }
    }

    // Per chunk while Atelier is busy: the same streams while a worker thread keeps `BUSY_LOAD`
    // plain requests in flight through the same Atelier (the relay competes with its own server).
    const busyPerChunk = new Map<string, number[]>();
    for (const target of measured.filter((each) => each.name.startsWith('Atelier'))) {
      if (streamFailures.has(target.name)) continue;
      const load = new Worker(LOAD_SOURCE, {
        eval: true,
        workerData: {
          url: `${target.url}/v1/chat/completions`,
          headers: { 'content-type': 'application/json', ...target.headers },
          body: requestBody(target.model, false).toString(),
          concurrency: BUSY_LOAD,
        },
      });
      await sleep(300);
      const samples: number[] = [];
      for (let round = 0; round < Math.ceil(streams / 3); round++) {
        const received = await stream(target, chunks);
        if (typeof received === 'string' || received.length !== chunks) continue;
        samples.push(...received.map((at, index) => at - sentAt[index]!));
      }
      const answered = new Promise((resolve) => load.once('message', resolve));
      load.postMessage('stop');
      await answered;
      await load.terminate();
      busyPerChunk.set(target.name, samples);
    }

    // CPU per chunk, the part of the overhead that is the proxy's own work (the rest of the added
    // latency is the kernel waking a sleeping process, which a raw pipe pays too): each proxy's
    // CPU time over streams of one event and of all of them, the difference per extra event.
    // Its CPU while idle for as long (timers) is taken off.
    const cpuPerChunk = new Map<string, number>();
    for (const target of measured) {
      if (!target.process || streamFailures.has(target.name)) continue;
      const pid = target.process.pid!;
      const idleFrom = await cpuMicros(pid);
      const idleStart = now();
      await sleep(1000);
      const idleRate = ((await cpuMicros(pid)) - idleFrom) / (now() - idleStart);
      let short = 0;
      let long = 0;
      let longWall = 0;
      for (let round = 0; round < streams; round++) {
        const before = await cpuMicros(pid);
        await stream(target, 1);
        const between = await cpuMicros(pid);
        const started = now();
        await stream(target, chunks);
        longWall += now() - started;
        const after = await cpuMicros(pid);
        short += between - before;
        long += after - between;
      }
      cpuPerChunk.set(target.name, (long - idleRate * longWall - short) / (streams * (chunks - 1)));
    }

    // Throughput at concurrency 16.
    const throughput = new Map<string, number>();
    for (const target of measured) throughput.set(target.name, await load(target, concurrency, seconds));

    const direct = latency.get('direct')!;
    const directChunk = percentile(perChunk.get('direct')!, 50);
    const rows = [
      [
        'target',
        'p50 ms',
        'p99 ms',
        '+p50 ms',
        '+p99 ms',
        `req/s @${concurrency}`,
        '+µs/chunk',
        'CPU µs/chunk',
        'idle RSS',
        'peak RSS',
      ],
    ];
    const results = new Map<
      string,
      { addedP50: number; addedChunk: number; throughput: number; idle?: number }
    >();
    for (const target of measured) {
      const samples = latency.get(target.name)!;
      const addedP50 = (percentile(samples, 50) - percentile(direct, 50)) / 1000;
      const addedP99 = (percentile(samples, 99) - percentile(direct, 99)) / 1000;
      const failure = streamFailures.get(target.name);
      const addedChunk = failure ? Number.NaN : percentile(perChunk.get(target.name)!, 50) - directChunk;
      const peak = target.process ? await rssMiB(target.process, 'VmHWM') : undefined;
      results.set(target.name, {
        addedP50,
        addedChunk,
        throughput: throughput.get(target.name)!,
        idle: target.idleRssMiB,
      });
      rows.push([
        target.name,
        (percentile(samples, 50) / 1000).toFixed(3),
        (percentile(samples, 99) / 1000).toFixed(3),
        target.name === 'direct' ? '-' : addedP50.toFixed(3),
        target.name === 'direct' ? '-' : addedP99.toFixed(3),
        throughput.get(target.name)!.toFixed(0),
        target.name === 'direct' ? '-' : failure ? 'stream failed*' : addedChunk.toFixed(1),
        cpuPerChunk.get(target.name)?.toFixed(1) ?? '-',
        target.idleRssMiB === undefined ? '-' : `${target.idleRssMiB.toFixed(0)} MiB`,
        peak === undefined ? '-' : `${peak.toFixed(0)} MiB`,
      ]);
    }
    console.log(`\n${table(rows)}`);
    for (const [name, failure] of streamFailures) console.log(`* ${name}: ${failure}`);

    const ours = results.get('Atelier')!;
    const bareResult = results.get('bare node:http proxy')!;
    const pipeResult = results.get('raw TCP pipe')!;
    const nativeResult = results.get(NATIVE_PIPE);
    const portkeyResult = results.get('Portkey gateway')!;
    const check = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    console.log(
      [
        `Atelier added p50 ${ours.addedP50.toFixed(3)} ms (target ≤ 0.5): ${check(ours.addedP50 <= 0.5)}`,
        `throughput ${(ours.throughput / portkeyResult.throughput).toFixed(2)}× Portkey (target ≥ 3): ${check(ours.throughput >= 3 * portkeyResult.throughput)}`,
        `throughput ${((100 * ours.throughput) / bareResult.throughput).toFixed(0)}% of the bare proxy (target ≥ 50%): ${check(ours.throughput >= 0.5 * bareResult.throughput)}`,
        `added per chunk ${ours.addedChunk.toFixed(1)} µs (target ≤ 20): ${check(ours.addedChunk <= 20)}; here ${nativeResult ? `the C pipe (the floor of any proxy process: a wake-up, a read, a write) adds ${nativeResult.addedChunk.toFixed(1)} µs, Atelier ${signed(ours.addedChunk - nativeResult.addedChunk)} µs from it; ` : ''}the raw TCP pipe in Node.js adds ${pipeResult.addedChunk.toFixed(1)} µs, the bare node:http proxy ${bareResult.addedChunk.toFixed(1)} µs; a chunk's one hop without a proxy (the upstream's write to the client's read) takes ${directChunk.toFixed(1)} µs`,
        ...(results.has(JS_RELAY)
          ? [
              `with the JavaScript relay Atelier adds ${results.get(JS_RELAY)!.addedChunk.toFixed(1)} µs per chunk (CPU ${cpuPerChunk.get(JS_RELAY)?.toFixed(1)} µs)`,
            ]
          : []),
        `Atelier's own CPU per chunk ${cpuPerChunk.get('Atelier')!.toFixed(1)} µs (raw TCP pipe ${cpuPerChunk.get('raw TCP pipe')!.toFixed(1)}, bare node:http proxy ${cpuPerChunk.get('bare node:http proxy')!.toFixed(1)}${nativeResult ? `, C pipe ${cpuPerChunk.get(NATIVE_PIPE)!.toFixed(1)}` : ''})`,
        ...[...busyPerChunk].map(
          ([name, samples]) =>
            `${name} per chunk while answering ${BUSY_LOAD} other requests at once: +${(percentile(samples, 50) - directChunk).toFixed(1)} µs p50, +${(percentile(samples, 99) - directChunk).toFixed(1)} µs p99`,
        ),
        `idle RSS ${ours.idle?.toFixed(0)} MiB (target < 120): ${check((ours.idle ?? Number.POSITIVE_INFINITY) < 120)}`,
      ].join('\n'),
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
      ),
    );
    await worker.terminate();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const agents = new Map<string, http.Agent>();

function agentFor(target: Target): http.Agent {
  let agent = agents.get(target.name);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    agents.set(target.name, agent);
  }
  return agent;
}

function requestBody(model: string, streaming: boolean, events = 64): Buffer {
  return Buffer.from(
    JSON.stringify({
      model,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Write one sentence about a fox.' },
      ],
      max_tokens: events,
      temperature: 0.7,
      ...(streaming ? { stream: true } : {}),
    }),
  );
}

/** One request, the whole answer read. */
function call(target: Target, streaming: boolean): Promise<{ status: number; body: string }> {
  const body = requestBody(target.model, streaming);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${target.url}/v1/chat/completions`,
      {
        method: 'POST',
        agent: agentFor(target),
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...target.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A streamed request: when each chunk (up to `[DONE]`, excluded) arrived, in µs; or why it failed. */
function stream(target: Target, events?: number): Promise<number[] | string> {
  const body = requestBody(target.model, true, events);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${target.url}/v1/chat/completions`,
      {
        method: 'POST',
        agent: agentFor(target),
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...target.headers },
      },
      (response) => {
        const arrivals: number[] = [];
        let pending = '';
        response.setEncoding('utf8');
        response.on('data', (text: string) => {
          const at = now();
          pending += text;
          let end = pending.indexOf('\n\n');
          while (end >= 0) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            if (event.startsWith('data:') && !event.includes('[DONE]')) arrivals.push(at);
            end = pending.indexOf('\n\n');
          }
        });
        response.on('end', () =>
          resolve(
            response.statusCode === 200 ? arrivals : `HTTP ${response.statusCode}: ${pending.slice(0, 200)}`,
          ),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Requests per second with `concurrency` requests always in flight, for `seconds`. */
async function load(target: Target, concurrency: number, seconds: number): Promise<number> {
  const until = now() + seconds * 1e6;
  let completed = 0;
  const loop = async () => {
    while (now() < until) {
      const answer = await call(target, false);
      if (answer.status !== 200) throw new Error(`${target.name}: HTTP ${answer.status} under load`);
      completed++;
    }
  };
  const started = now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return completed / ((now() - started) / 1e6);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU time of all of a process's threads so far, in µs (the scheduler's count, in ns). */
async function cpuMicros(pid: number): Promise<number> {
  let total = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${task}/schedstat`, 'utf8').catch(() => '0');
    total += Number(stat.split(' ')[0]) / 1000;
  }
  return total;
}

async function rssMiB(child: ChildProcess, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  return kb ? Number(kb) / 1024 : undefined;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer: ${(error as Error).message}`);
      await sleep(100);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).join('\n');
}

/** The floor: a bare node:http proxy with a keep-alive pool, piping bytes both ways, nothing else. */
function bareProxySource(port: number, upstreamPort: number): string {
  return `
import http from 'node:http';
const agent = new http.Agent({ keepAlive: true });
http.createServer((request, response) => {
  const forwarded = http.request({ host: '127.0.0.1', port: ${upstreamPort}, method: request.method, path: request.url,
    headers: request.headers, agent }, (answer) => {
    response.writeHead(answer.statusCode, answer.headers);
    answer.pipe(response);
  });
  forwarded.on('error', () => response.destroy());
  request.pipe(forwarded);
}).listen(${port}, '127.0.0.1');
`;
}

/**
 * bench/native-pipe.c, compiled into `dir` and started: its port and process; undefined (said so)
 * when there is no C compiler.
 */
async function startNativePipe(
  source: string,
  dir: string,
  upstreamPort: number,
): Promise<{ port: number; process: ChildProcess } | undefined> {
  const binary = path.join(dir, 'native-pipe');
  const compiled = await new Promise<boolean>((resolve) => {
    const compiler = spawn('cc', ['-O2', '-o', binary, source], { stdio: ['ignore', 'ignore', 'inherit'] });
    compiler.once('error', () => resolve(false));
    compiler.once('exit', (code) => resolve(code === 0));
  });
  if (!compiled) {
    console.log(`(no C compiler: the bench runs without the ${NATIVE_PIPE})`);
    return undefined;
  }
  const child = spawn(binary, [String(upstreamPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (line: Buffer) => resolve(Number(String(line).trim())));
    child.once('error', reject);
  });
  return { port, process: child };
}

/**
 * The floor of a Node.js proxy process: each client connection gets its own upstream connection, and
 * bytes are piped between the two sockets as they come, with no HTTP at all.
 */
function rawPipeSource(port: number, upstreamPort: number): string {
  return `
import net from 'node:net';
net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: ${upstreamPort}, noDelay: true });
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}).listen(${port}, '127.0.0.1');
`;
}

await main();
