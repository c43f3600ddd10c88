// File access by the (root) server inside a directory the sandboxed code controls. The code can
// plant symlinks, FIFOs and swap directories at any moment, so nothing here follows a link:
// each step opens one name with O_NOFOLLOW relative to an already opened directory (through
// /proc/self/fd, Node having no openat), and every file read back must live on the session's
// own tmpfs (st_dev), so no path can lead out to the host.
import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { type FileHandle, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** What identifies a version of a file: any change of it means the code wrote the file. */
export interface FileStamp {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
}

export interface ListFilesOptions {
  /** Stop after this many entries (the tmpfs' inode limit bounds it anyway). */
  readonly maxEntries?: number;
  readonly maxDepth?: number;
  /** Names (at any depth) left out, e.g. the server's own upload temporaries. */
  readonly ignore?: (name: string) => boolean;
}

/** Regular files under `root`, by path relative to it (with `/`), never through a symlink. */
export async function listFiles(
  root: string,
  { maxEntries = 10_000, maxDepth = 16, ignore = () => false }: ListFilesOptions = {},
): Promise<Map<string, FileStamp>> {
  const files = new Map<string, FileStamp>();
  let entries = 0;
  const rootHandle = await openDirectory(root);
  const device = (await rootHandle.stat({ bigint: true })).dev;

  async function walk(directory: FileHandle, prefix: string, depth: number): Promise<void> {
    const names = await readdir(fdPath(directory), { withFileTypes: true }).catch(() => []);
    for (const entry of names) {
      if (entries >= maxEntries || ignore(entry.name)) continue;
      entries += 1;
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isFile()) {
        const stats = await lstat(`${fdPath(directory)}/${entry.name}`, { bigint: true }).catch(
          () => undefined,
        );
        if (stats?.isFile() && stats.dev === device) {
          files.set(relative, { size: stats.size, mtimeNs: stats.mtimeNs, ino: stats.ino });
        }
      } else if (entry.isDirectory() && depth < maxDepth) {
        const child = await openDirectory(`${fdPath(directory)}/${entry.name}`).catch(() => undefined);
        if (child === undefined) continue;
        try {
          if ((await child.stat({ bigint: true })).dev === device) await walk(child, relative, depth + 1);
        } finally {
          await child.close();
        }
      }
    }
  }

  try {
    await walk(rootHandle, '', 0);
  } finally {
    await rootHandle.close();
  }
  return files;
}

export function changedFiles(
  before: ReadonlyMap<string, FileStamp>,
  after: ReadonlyMap<string, FileStamp>,
): string[] {
  return [...after]
    .filter(([name, stamp]) => {
      const previous = before.get(name);
      return (
        previous === undefined ||
        previous.size !== stamp.size ||
        previous.mtimeNs !== stamp.mtimeNs ||
        previous.ino !== stamp.ino
      );
    })
    .map(([name]) => name)
    .sort();
}

export type ReadBelowResult =
  | { readonly kind: 'file'; readonly bytes: Buffer }
  | { readonly kind: 'too-large'; readonly size: number }
  | { readonly kind: 'unavailable' };

/** Reads `relativePath` under `root` if it is a regular file on the same filesystem as `root`. */
export async function readFileBelow({
  root,
  relativePath,
  maxBytes,
}: {
  root: string;
  relativePath: string;
  maxBytes: number;
}): Promise<ReadBelowResult> {
  const parts = relativePath.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return { kind: 'unavailable' };
  const handles: FileHandle[] = [];
  try {
    const rootHandle = await openDirectory(root);
    handles.push(rootHandle);
    const device = (await rootHandle.stat({ bigint: true })).dev;
    let directory = rootHandle;
    for (const part of parts.slice(0, -1)) {
      directory = await openDirectory(`${fdPath(directory)}/${part}`);
      handles.push(directory);
      if ((await directory.stat({ bigint: true })).dev !== device) return { kind: 'unavailable' };
    }
    // O_NONBLOCK: a FIFO planted under the expected name must not hang the server.
    const file = await open(`${fdPath(directory)}/${parts.at(-1)}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    handles.push(file);
    const stats = await file.stat({ bigint: true });
    if (!stats.isFile() || stats.dev !== device) return { kind: 'unavailable' };
    if (stats.size > BigInt(maxBytes)) return { kind: 'too-large', size: Number(stats.size) };
    const bytes = await readAtMost(file, maxBytes + 1);
    // It grew past the limit while we read: same answer as if it had been that big before.
    if (bytes.length > maxBytes) return { kind: 'too-large', size: bytes.length };
    return { kind: 'file', bytes };
  } catch {
    return { kind: 'unavailable' };
  } finally {
    for (const handle of handles.reverse()) await handle.close().catch(() => undefined);
  }
}

export type FileSource = { readonly path: string } | { readonly bytes: Uint8Array };

/**
 * Puts a file named `name` into `directory` (a trusted path) for `uid`: written to a fresh
 * exclusive temporary, owned through its descriptor, then renamed over whatever has the name.
 */
export async function placeFile({
  directory,
  name,
  source,
  uid,
  temporaryPrefix,
}: {
  directory: string;
  name: string;
  source: FileSource;
  uid: number;
  temporaryPrefix: string;
}): Promise<void> {
  if (name === '' || name !== path.basename(name) || name === '.' || name === '..' || name.includes('\0')) {
    throw new Error(`not a plain file name: ${JSON.stringify(name)}`);
  }
  const temporary = path.join(directory, `${temporaryPrefix}${randomBytes(8).toString('hex')}`);
  const handle = await open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  try {
    await handle.chown(uid, uid);
    if ('bytes' in source) {
      await handle.writeFile(source.bytes);
    } else {
      for await (const chunk of createReadStream(source.path)) await handle.write(chunk as Buffer);
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path.join(directory, name));
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function fdPath(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

function openDirectory(target: string): Promise<FileHandle> {
  return open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const buffer = Buffer.alloc(Math.min(1024 * 1024, limit - total));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks);
}
