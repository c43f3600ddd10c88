// The code interpreter running real Python in real sandboxes: what the runs engine will see.
// No skipping: on a machine without the sandbox these tests fail, naming what is missing.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../errors.js';
import { type CodeInterpreter, createCodeInterpreter, PYTHON_PACKAGES } from './code-interpreter.js';
import { SandboxUnavailableError } from './sandbox-errors.js';
import { decodePng } from './test-support/png.js';
import { removeRuntimeDir, sandboxTestOptions } from './test-support/sandbox-test-options.js';
import { processesRunningAs } from './uid-pool.js';

const options = sandboxTestOptions();
let interpreter: CodeInterpreter;

beforeAll(async () => {
  interpreter = await createCodeInterpreter(options);
});

afterAll(async () => {
  await interpreter?.close();
  await removeRuntimeDir(options.runtimeDir);
});

describe('the code interpreter', () => {
  it("reports Debian's Python and the data-analysis packages", () => {
    expect(interpreter.sandbox.python).toMatch(/^3\.\d+\.\d+$/);
    for (const name of PYTHON_PACKAGES) expect(interpreter.sandbox.packages[name], name).toMatch(/^\d+\./);
  });

  it('keeps variables, functions and imports between calls of a session, like a notebook', async () => {
    const first = await interpreter.execute({
      sessionId: 'state',
      code: 'import math\nx = 41\ndef double(n):\n    return n * 2',
    });
    expect(first).toMatchObject({ logs: '', images: [], outputFiles: [], restarted: false });
    expect(first.error).toBeUndefined();
    const second = await interpreter.execute({
      sessionId: 'state',
      code: 'print(math.pi > 3)\ndouble(x + 1)',
    });
    expect(second.logs).toBe('True\n84\n');
    expect(second.restarted).toBe(false);
    // Another session has a namespace of its own.
    const other = await interpreter.execute({ sessionId: 'state-other', code: 'x' });
    expect(other.error?.name).toBe('NameError');
  });

  it('interleaves stdout and stderr in the logs', async () => {
    const result = await interpreter.execute({
      sessionId: 'logs',
      code: 'import sys, subprocess\nprint("one")\nprint("two", file=sys.stderr)\nsubprocess.run(["echo", "three"])\nprint("four")',
    });
    expect(result.logs).toBe('one\ntwo\nthree\nfour\n');
  });

  it('returns an exception as the error with its traceback, and the kernel carries on', async () => {
    await interpreter.execute({ sessionId: 'errors', code: 'kept = "yes"' });
    const failed = await interpreter.execute({
      sessionId: 'errors',
      code: 'def ratio(a, b):\n    return a / b\nratio(1, 0)',
    });
    expect(failed.error).toMatchObject({ name: 'ZeroDivisionError', value: 'division by zero' });
    expect(failed.error?.traceback).toContain('line 2, in ratio');
    expect(failed.error?.traceback).not.toContain('kernel.py');
    expect(failed.logs).toContain('ZeroDivisionError: division by zero');
    const syntax = await interpreter.execute({ sessionId: 'errors', code: 'if True print(1)' });
    expect(syntax.error?.name).toBe('SyntaxError');
    const after = await interpreter.execute({ sessionId: 'errors', code: 'kept' });
    expect(after.logs).toBe("'yes'\n");
    expect(after.restarted).toBe(false);
  });

  it('returns matplotlib figures as PNG images that decode', async () => {
    const result = await interpreter.execute({
      sessionId: 'charts',
      code: [
        'import matplotlib.pyplot as plt',
        'fig, ax = plt.subplots(figsize=(4, 3), dpi=50)',
        "ax.bar(['north', 'south'], [17, 5])",
        "ax.set_title('Sales by region')",
        'plt.show()',
        'plt.figure(figsize=(2, 2), dpi=50)',
        'plt.plot([1, 3, 2])',
        'print("drawn")',
      ].join('\n'),
    });
    expect(result.error).toBeUndefined();
    expect(result.logs).toBe('drawn\n');
    expect(result.images.map((image) => image.name)).toEqual(['image-1.png', 'image-2.png']);
    const [bars, line] = result.images.map((image) => decodePng(image.bytes));
    // 4 x 3 inches at 50 dpi, trimmed to what is drawn (as in Jupyter).
    expect(bars!.width).toBeGreaterThan(120);
    expect(bars!.width).toBeLessThanOrEqual(240);
    expect(bars!.height).toBeGreaterThan(90);
    expect(bars!.height).toBeLessThanOrEqual(180);
    expect(line!.width).toBeLessThanOrEqual(120);
    // Figures are closed once shown: the next execution returns none.
    const next = await interpreter.execute({ sessionId: 'charts', code: 'len(plt.get_fignums())' });
    expect(next.images).toEqual([]);
    expect(next.logs).toBe('0\n');
  });

  it('reads a CSV the user gave with pandas and returns the file it writes', async () => {
    const sales = 'region,amount\nnorth,10\nsouth,5\nnorth,7\n';
    const result = await interpreter.execute({
      sessionId: 'csv',
      code: [
        'import pandas as pd',
        "df = pd.read_csv('/mnt/data/sales.csv')",
        "summary = df.groupby('region', as_index=False)['amount'].sum()",
        "summary.to_csv('/mnt/data/summary.csv', index=False)",
        "summary.to_excel('summary.xlsx', index=False)",
        'print(summary.to_string(index=False))',
      ].join('\n'),
      files: [{ name: 'sales.csv', bytes: Buffer.from(sales) }],
    });
    expect(result.error).toBeUndefined();
    expect(result.logs).toMatch(/north\s+17\n\s*south\s+5/);
    expect(result.outputFiles.map((file) => file.name)).toEqual(['summary.csv', 'summary.xlsx']);
    const csv = result.outputFiles[0]!;
    expect(csv.path).toBe('/mnt/data/summary.csv');
    expect(csv.bytes.toString()).toBe('region,amount\nnorth,17\nsouth,5\n');
    expect(result.outputFiles[1]!.bytes.subarray(0, 2).toString()).toBe('PK'); // an .xlsx is a zip
  });

  it('places files from host paths, again only when they changed or were deleted', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'atelier-ci-input-'));
    try {
      const source = path.join(directory, 'notes.txt');
      await writeFile(source, 'first');
      const files = [{ name: 'notes.txt', path: source }];
      const read = "open('notes.txt').read()";
      expect((await interpreter.execute({ sessionId: 'inputs', code: read, files })).logs).toBe("'first'\n");
      // The code's own change to an input survives the next call with the same input…
      await interpreter.execute({
        sessionId: 'inputs',
        code: "open('notes.txt', 'w').write('edited')",
        files,
      });
      expect((await interpreter.execute({ sessionId: 'inputs', code: read, files })).logs).toBe("'edited'\n");
      // …but a new version of the input replaces it, and so does a deleted one.
      await writeFile(source, 'second version');
      expect((await interpreter.execute({ sessionId: 'inputs', code: read, files })).logs).toBe(
        "'second version'\n",
      );
      await interpreter.execute({ sessionId: 'inputs', code: "import os; os.remove('notes.txt')", files });
      expect((await interpreter.execute({ sessionId: 'inputs', code: read, files })).logs).toBe(
        "'second version'\n",
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses file names that are not plain names', async () => {
    for (const name of ['../escape.txt', 'a/b.csv', '', '..', '.atelier-upload-x']) {
      await expect(
        interpreter.execute({ sessionId: 'names', code: '1', files: [{ name, bytes: Buffer.from('x') }] }),
      ).rejects.toBeInstanceOf(InvalidRequestError);
    }
  });

  it('restarts a kernel that died, says so, and keeps the files', async () => {
    await interpreter.execute({
      sessionId: 'crash',
      code: "lost = 1\nopen('kept.txt', 'w').write('still here')",
    });
    const died = await interpreter.execute({ sessionId: 'crash', code: 'import os\nos._exit(3)' });
    expect(died.error?.name).toBe('KernelDied');
    expect(died.error?.value).toContain('exited with status 3');
    const next = await interpreter.execute({
      sessionId: 'crash',
      code: "print(open('kept.txt').read())\nprint('lost' in globals())",
    });
    expect(next.restarted).toBe(true);
    expect(next.logs).toMatch(/^\[sandbox\] The Python kernel was restarted \(it exited with status 3\)/);
    expect(next.logs).toContain('still here\nFalse\n');
    const after = await interpreter.execute({ sessionId: 'crash', code: '1' });
    expect(after.restarted).toBe(false);
  });

  it('runs the calls of one session one at a time, in order', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3].map((index) =>
        interpreter.execute({
          sessionId: 'serial',
          code: `import time\nseen = globals().get('seen', []) + [${index}]\ntime.sleep(0.05)\nseen`,
        }),
      ),
    );
    expect(results.map((result) => result.logs)).toEqual([
      '[0]\n',
      '[0, 1]\n',
      '[0, 1, 2]\n',
      '[0, 1, 2, 3]\n',
    ]);
  });

  it('stops an execution whose signal aborts, and the session goes on', async () => {
    await interpreter.execute({ sessionId: 'abort', code: 'before = 1' });
    const controller = new AbortController();
    const running = interpreter.execute({
      sessionId: 'abort',
      code: 'import time\ntime.sleep(30)',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('run cancelled')), 200);
    await expect(running).rejects.toThrow('run cancelled');
    const after = await interpreter.execute({ sessionId: 'abort', code: 'before' });
    expect(after.logs).toBe('1\n');
    expect(after.restarted).toBe(false);
  });

  it('reset ends a session: the next call starts afresh without its files', async () => {
    await interpreter.execute({ sessionId: 'reset', code: "y = 2\nopen('a.txt', 'w').write('a')" });
    await interpreter.reset('reset');
    const after = await interpreter.execute({
      sessionId: 'reset',
      code: "import os\nprint('y' in globals(), os.path.exists('a.txt'))",
    });
    expect(after.logs).toBe('False False\n');
    expect(after.restarted).toBe(false);
  });
});

describe('sessions end on their own', () => {
  it('after the idle time and at the maximum age, and the next call says so', async () => {
    const local = sandboxTestOptions({ idleMinutes: 0.01, maxSessionMinutes: 0.05 });
    const short = await createCodeInterpreter(local);
    try {
      await short.execute({ sessionId: 'idle', code: "v = 1\nopen('f.txt', 'w').write('x')" });
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const idle = await short.execute({
        sessionId: 'idle',
        code: "import os\nprint('v' in globals(), os.path.exists('f.txt'))",
      });
      expect(idle.restarted).toBe(true);
      expect(idle.logs).toBe(
        '[sandbox] This is a new Python session: the previous one ended after 0.01 minutes without use. ' +
          'Variables and files from earlier calls are gone.\nFalse False\n',
      );
      // Kept busy, it still ends at its maximum age (3 s here).
      const started = Date.now();
      let result = await short.execute({ sessionId: 'old', code: 'w = 1' });
      while (!result.restarted && Date.now() - started < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        result = await short.execute({ sessionId: 'old', code: "'w' in globals()" });
      }
      expect(result.restarted).toBe(true);
      expect(result.logs).toContain('the previous one reached 0.05 minutes, the longest a session lasts');
      expect(result.logs).toMatch(/False\n$/);
    } finally {
      await short.close();
      await removeRuntimeDir(local.runtimeDir);
    }
  });

  it('to make room when every sandbox is taken, the least recently used first', async () => {
    const local = sandboxTestOptions({ maxSessions: 2 });
    const small = await createCodeInterpreter(local);
    try {
      await small.execute({ sessionId: 'a', code: 'a = 1' });
      await small.execute({ sessionId: 'b', code: 'b = 1' });
      await small.execute({ sessionId: 'a', code: 'a' });
      await small.execute({ sessionId: 'c', code: 'c = 1' }); // ends b, the least recently used
      expect((await small.execute({ sessionId: 'a', code: 'a' })).restarted).toBe(false);
      const b = await small.execute({ sessionId: 'b', code: "'b' in globals()" });
      expect(b.restarted).toBe(true);
      expect(b.logs).toContain('the previous one was ended to make room for others (2 run at once)');
    } finally {
      await small.close();
      await removeRuntimeDir(local.runtimeDir);
    }
  });
});

describe('what a session leaves behind', () => {
  it('is nothing: no process of its uid, no mount, no lease, no cgroup', async () => {
    const uidRange = { first: 1_900_100_000 + Math.floor(Math.random() * 1000) * 16, count: 16 };
    const local = sandboxTestOptions({ uidRange });
    const inRange = async () => {
      const found: number[] = [];
      for (let uid = uidRange.first; uid < uidRange.first + uidRange.count; uid += 1) {
        found.push(...(await processesRunningAs(uid)));
      }
      return found;
    };
    const mounts = async () =>
      (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .filter((line) => line.includes(local.runtimeDir));
    const leases = async () =>
      (await readdir('/run/atelier-sandbox/uids')).filter(
        (name) => Number(name) >= uidRange.first && Number(name) < uidRange.first + uidRange.count,
      );
    const own = await createCodeInterpreter(local);
    try {
      expect(await inRange()).toEqual([]); // the probe sandbox is gone
      await own.execute({
        sessionId: 'one',
        code: 'import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()',
      });
      await own.execute({ sessionId: 'two', code: "open('x', 'w').write('x')" });
      expect((await inRange()).length).toBeGreaterThan(0);
      expect(await mounts()).toHaveLength(2);
      expect(await leases()).toHaveLength(2);
      await own.reset('one');
      expect(await mounts()).toHaveLength(1);
      expect(await leases()).toHaveLength(1);
    } finally {
      await own.close();
      await removeRuntimeDir(local.runtimeDir);
    }
    expect(await inRange()).toEqual([]);
    expect(await mounts()).toEqual([]);
    expect(await leases()).toEqual([]);
  });
});

describe('a machine that cannot run the sandbox', () => {
  it('is told at creation, with what is missing', async () => {
    const local = sandboxTestOptions({ python: '/nonexistent/python3' });
    const creation = createCodeInterpreter(local);
    await expect(creation).rejects.toBeInstanceOf(SandboxUnavailableError);
    await expect(creation).rejects.toThrow(/\/nonexistent\/python3 is not installed/);
    await removeRuntimeDir(local.runtimeDir);
  });
});
