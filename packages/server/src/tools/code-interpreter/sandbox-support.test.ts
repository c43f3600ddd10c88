import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSandboxSupport } from './sandbox-support.js';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'atelier-sandbox-support-'));
  await chmod(scratch, 0o755); // mkdtemp's 0700 would be the first obstacle
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('checkSandboxSupport', () => {
  it('finds everything the sandbox needs on this machine (CI installs it)', async () => {
    const support = await checkSandboxSupport();
    expect(support).toMatchObject({ ok: true });
    if (support.ok) expect(support.binaries.bwrap).toMatch(/\/bwrap$/);
  });

  it('tells a server that is not root why it cannot run sandboxes', async () => {
    const support = await checkSandboxSupport({ uid: 1000 });
    expect(support).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^it needs root to give every sandbox a uid of its own .*uid 1000/)],
    });
  });

  it('names a missing program with the package that brings it', async () => {
    const support = await checkSandboxSupport({ python: path.join(scratch, 'python3') });
    expect(support.ok).toBe(false);
    if (!support.ok)
      expect(support.problems).toEqual([
        expect.stringContaining('python3 is not installed (apt-get install python3'),
      ]);
  });

  it('accepts a runtime directory closed to others: the interpreter opens it itself', async () => {
    const runtime = path.join(scratch, 'runtime-closed');
    await mkdir(path.join(runtime, 'uids'), { recursive: true, mode: 0o700 });
    const support = await checkSandboxSupport({ runtimeDir: runtime });
    expect(support).toMatchObject({ ok: true });
  });

  it('refuses a runtime directory the sandbox uids cannot reach', async () => {
    const closed = path.join(scratch, 'closed');
    await mkdir(closed);
    await chmod(closed, 0o700);
    const support = await checkSandboxSupport({ runtimeDir: path.join(closed, 'runtime') });
    expect(support.ok).toBe(false);
    if (!support.ok)
      expect(support.problems).toEqual([
        `the sandbox's uid cannot reach ${path.join(closed, 'runtime')}: ${closed} is not searchable by others (chmod o+x, or choose another runtime directory)`,
      ]);
  });
});
