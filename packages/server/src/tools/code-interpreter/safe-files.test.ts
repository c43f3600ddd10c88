import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changedFiles, listFiles, placeFile, readFileBelow } from './safe-files.js';

const run = promisify(execFile);
let scratch: string;
let root: string;
let outside: string;

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'atelier-safe-files-'));
  root = path.join(scratch, 'root');
  outside = path.join(scratch, 'outside');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, 'top.txt'), 'top');
  await writeFile(path.join(root, 'sub', 'deep.txt'), 'deep');
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
  // What hostile code plants: links out of its directory and a FIFO.
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'file-link.txt'));
  await symlink(outside, path.join(root, 'dir-link'));
  await run('mkfifo', [path.join(root, 'pipe')]);
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('listFiles', () => {
  it('lists regular files only, and never through a link', async () => {
    const files = await listFiles(root);
    expect([...files.keys()].sort()).toEqual(['sub/deep.txt', 'top.txt']);
    expect(files.get('top.txt')?.size).toBe(3n);
  });

  it('leaves out ignored names and stops at its entry limit', async () => {
    expect([...(await listFiles(root, { ignore: (name) => name === 'sub' })).keys()]).toEqual(['top.txt']);
    expect((await listFiles(root, { maxEntries: 1 })).size).toBeLessThanOrEqual(1);
  });
});

describe('changedFiles', () => {
  it('names new files and files whose size, time or inode changed', async () => {
    const before = await listFiles(root);
    await writeFile(path.join(root, 'new.txt'), 'new');
    await writeFile(path.join(root, 'top.txt'), 'top, longer');
    expect(changedFiles(before, await listFiles(root))).toEqual(['new.txt', 'top.txt']);
  });
});

describe('readFileBelow', () => {
  const read = (relativePath: string, maxBytes = 1024) => readFileBelow({ root, relativePath, maxBytes });

  it('reads a regular file, in a subdirectory too', async () => {
    expect(await read('sub/deep.txt')).toEqual({ kind: 'file', bytes: Buffer.from('deep') });
  });

  it('refuses links, at the end of the path or on the way, and paths that climb', async () => {
    expect(await read('file-link.txt')).toEqual({ kind: 'unavailable' });
    expect(await read('dir-link/secret.txt')).toEqual({ kind: 'unavailable' });
    expect(await read('../outside/secret.txt')).toEqual({ kind: 'unavailable' });
    expect(await read('sub/../top.txt')).toEqual({ kind: 'unavailable' });
  });

  it('does not hang on a FIFO', async () => {
    expect(await read('pipe')).toEqual({ kind: 'unavailable' });
  });

  it('says a file is too large instead of reading it', async () => {
    expect(await read('sub/deep.txt', 3)).toEqual({ kind: 'too-large', size: 4 });
  });
});

describe('placeFile', () => {
  it('replaces a link planted under the name instead of writing through it', async () => {
    await placeFile({
      directory: root,
      name: 'file-link.txt',
      source: { bytes: Buffer.from('from the user') },
      uid: 4242,
      temporaryPrefix: '.upload-',
    });
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(await readFile(path.join(root, 'file-link.txt'), 'utf8')).toBe('from the user');
    const placed = await stat(path.join(root, 'file-link.txt'));
    expect(placed.isFile()).toBe(true);
    expect(placed.uid).toBe(4242);
    expect(placed.mode & 0o777).toBe(0o644);
  });

  it('copies from a host path and refuses names that are not plain', async () => {
    const source = path.join(outside, 'secret.txt');
    await chmod(source, 0o600);
    await placeFile({
      directory: root,
      name: 'copy.txt',
      source: { path: source },
      uid: 0,
      temporaryPrefix: '.u-',
    });
    expect(await readFile(path.join(root, 'copy.txt'), 'utf8')).toBe('secret');
    for (const name of ['../x', 'a/b', '..', '']) {
      await expect(
        placeFile({
          directory: root,
          name,
          source: { bytes: Buffer.from('x') },
          uid: 0,
          temporaryPrefix: '.u-',
        }),
      ).rejects.toThrow(/not a plain file name/);
    }
  });
});
