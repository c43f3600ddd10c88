// The code interpreter's sandbox against plain Python on this machine:
//  - cold start: a new session's first result (`1+1`: uid, tmpfs, bubblewrap, Python, kernel)
//    against `python3 -c 'import numpy'` (target: at most 2x);
//  - warm execution: `1+1` in a running kernel against `python3 -c '1+1'` in a fresh process
//    (target: at most 10 ms of overhead).
// Medians of alternating rounds. Needs root and bubblewrap, like the interpreter itself.
//
//   npm run bench:sandbox [-- --cold 15 --warm 300]
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createCodeInterpreter } from '../packages/server/src/tools/code-interpreter/code-interpreter.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    cold: { type: 'string', default: '15' },
    warm: { type: 'string', default: '300' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const coldRounds = Number(values.cold);
const warmRounds = Number(values.warm);
const python = values.python;

const runtimeDir = path.join(tmpdir(), `atelier-bench-sandbox-${process.pid}`);
const createdAt = performance.now();
const interpreter = await createCodeInterpreter({ runtimeDir, python, maxSessions: 4 });
const creationMs = performance.now() - createdAt;

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

const plainProcess = (code: string) => timed(() => run(python, ['-c', code]));

try {
  // Warm both sides up once (page cache, the first mount).
  await plainProcess('import numpy');
  await interpreter.execute({ sessionId: 'bench-warmup', code: '1+1' });
  await interpreter.reset('bench-warmup');

  const cold: number[] = [];
  const importNumpy: number[] = [];
  for (let round = 0; round < coldRounds; round += 1) {
    importNumpy.push(await plainProcess('import numpy'));
    const sessionId = `bench-cold-${round}`;
    cold.push(
      await timed(async () => {
        const result = await interpreter.execute({ sessionId, code: '1+1' });
        if (result.logs !== '2\n') throw new Error(`unexpected output ${JSON.stringify(result.logs)}`);
      }),
    );
    await interpreter.reset(sessionId);
  }

  const warm: number[] = [];
  const plain: number[] = [];
  await interpreter.execute({ sessionId: 'bench-warm', code: '1+1' });
  for (let round = 0; round < warmRounds; round += 1) {
    warm.push(await timed(() => interpreter.execute({ sessionId: 'bench-warm', code: '1+1' })));
    if (round % 10 === 0) plain.push(await plainProcess('1+1'));
  }

  const coldMs = median(cold);
  const numpyMs = median(importNumpy);
  const warmMs = median(warm);
  const plainMs = median(plain);
  console.log(
    `python ${interpreter.sandbox.python}; interpreter created (probe sandbox included) in ${ms(creationMs)}`,
  );
  console.log(
    `cold start, new session to first result: ${ms(coldMs)} (p90 ${ms(percentile(cold, 0.9))}) ` +
      `vs python3 -c 'import numpy' ${ms(numpyMs)}: ratio ${(coldMs / numpyMs).toFixed(2)} (target ≤ 2.00)`,
  );
  console.log(
    `warm execution of 1+1: ${ms(warmMs)} (p90 ${ms(percentile(warm, 0.9))}) ` +
      `vs python3 -c '1+1' ${ms(plainMs)}: ratio ${(warmMs / plainMs).toFixed(3)}; ` +
      `overhead ${ms(warmMs)} (target ≤ 10 ms)`,
  );
} finally {
  await interpreter.close();
  await rm(runtimeDir, { recursive: true, force: true });
}

function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

function percentile(samples: readonly number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}
