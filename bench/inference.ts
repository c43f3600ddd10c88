// Tokens/s through Atelier's HTTP+SSE against node-llama-cpp called directly on the same model
// and threads, single stream and 4 concurrent streams, run side by side (alternating rounds) on
// this machine. Prints the ratio (target: HTTP costs at most 3%) and the server's peak RSS.
//
//   npm run bench:inference [-- --dim 512 --layers 8 --tokens 256 --rounds 5]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { makeTestModel } from '../packages/server/src/inference/test-model/make-test-model.js';

const { values } = parseArgs({
  options: {
    dim: { type: 'string', default: '512' },
    layers: { type: 'string', default: '8' },
    tokens: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
  },
});
const maxTokens = Number(values.tokens);
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const contextSize = 1024;
const repoRoot = path.resolve(import.meta.dirname, '..');
const apiKey = 'sk-atelier-bench-0123456789abcdefghijklmn';

const dataDir = await mkdtemp(path.join(tmpdir(), 'atelier-bench-'));
const modelPath = path.join(dataDir, 'models', 'bench.gguf');
const made = await makeTestModel({
  path: modelPath,
  name: 'bench',
  dim: Number(values.dim),
  layers: Number(values.layers),
  heads: 8,
  context: contextSize,
  seed: 1,
  // Fixed-length streams: the model never ends a reply on its own.
  meanReplyTokens: Number.POSITIVE_INFINITY,
});
console.log(
  `model: dim ${made.dim}, ${made.layers} layers, ${(made.parameterCount / 1e6).toFixed(1)}M parameters, ${threads} threads, ${maxTokens} tokens per stream, ${rounds} rounds`,
);

const server = spawn(process.execPath, [path.join(repoRoot, 'packages/server/bin/atelier.js'), 'serve'], {
  env: {
    ...process.env,
    ATELIER_DATA_DIR: dataDir,
    ATELIER_PORT: '0',
    ATELIER_BOOTSTRAP_API_KEY: apiKey,
    ATELIER_LOG_LEVEL: 'info',
    ATELIER_THREADS: String(threads),
    ATELIER_CONTEXT_SIZE: String(contextSize),
    ATELIER_PARALLEL_SEQUENCES: '4',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const baseUrl = await listeningUrl(server);

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

async function eosTokenIds(): Promise<number[]> {
  // The server's tokenizer tells the ids of the end-of-turn tokens, banned so every stream is full length.
  const response = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', prompt: 'x', max_tokens: 1, logprobs: 5 }),
  });
  if (!response.ok) throw new Error(`warm-up failed: ${response.status} ${await response.text()}`);
  return [made.specialTokens.imEnd, made.specialTokens.endOfText];
}

async function httpStream(seed: number, banned: number[]): Promise<number> {
  const response = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench',
      prompt: 'The quick brown fox jumps over the lazy dog. Once upon a time',
      max_tokens: maxTokens,
      temperature: 1,
      // No seed: seeded requests decode alone (reproducibility), unseeded ones batch together.
      user: `bench-${seed}`,
      stream: true,
      stream_options: { include_usage: true },
      logit_bias: Object.fromEntries(banned.map((id) => [String(id), -100])),
    }),
  });
  const text = await response.text();
  const usage = /"completion_tokens":(\d+)/.exec(text);
  if (!usage?.[1]) throw new Error(`no usage in stream: ${text.slice(0, 300)}`);
  return Number(usage[1]);
}

async function httpRound(streams: number, round: number, banned: number[]) {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: streams }, (_, index) => httpStream(1000 + round * 10 + index, banned)),
  );
  return {
    tokens: counts.reduce((sum, count) => sum + count, 0),
    seconds: (performance.now() - started) / 1000,
  };
}

async function directRound(streams: number): Promise<{ tokens: number; seconds: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'inference-direct.ts'),
      modelPath,
      String(streams),
      String(maxTokens),
      '2',
      String(threads),
      String(contextSize),
    ],
    { cwd: repoRoot },
  );
  // The first round warms the process up; the second is the measurement.
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!) as { tokens: number; seconds: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

try {
  const banned = await eosTokenIds();
  await httpRound(1, -1, banned); // warm-up
  for (const streams of [1, 4]) {
    const http: number[] = [];
    const direct: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const d = await directRound(streams);
      direct.push(d.tokens / d.seconds);
      const h = await httpRound(streams, round, banned);
      http.push(h.tokens / h.seconds);
    }
    const ratio = median(http) / median(direct);
    console.log(
      `${streams} stream${streams > 1 ? 's' : ' '}: direct ${median(direct).toFixed(1)} tok/s, HTTP+SSE ${median(http).toFixed(1)} tok/s, ratio ${ratio.toFixed(3)} (${((1 - ratio) * 100).toFixed(1)}% cost)`,
    );
  }
  const status = await readFile(`/proc/${server.pid}/status`, 'utf8').catch(() => '');
  const peak = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  console.log(`server peak RSS: ${peak ? `${(Number(peak) / 1024).toFixed(0)} MiB` : 'unknown (no /proc)'}`);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}
