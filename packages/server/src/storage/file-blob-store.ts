// Blobs as files under `<root>/sha256/ab/<hash>`, written to `<root>/tmp/` first while hashing,
// then renamed into place: a reader never sees a partial blob, and identical uploads share one copy.
//
// Committing a blob and releasing the same blob are serialised per hash in this process, so a
// release that finds no record cannot delete a copy that an upload is about to rely on: the
// upload inserts its record before committing, and the commit recreates the blob if a release
// removed it meanwhile. (Several processes on one shared directory would need a lock file here.)

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { BlobStore, BlobWriteOptions, PendingBlob } from './blob-store.js';

const SHA256 = /^[0-9a-f]{64}$/;

export function createFileBlobStore({ root }: { root: string }): BlobStore {
  const tmpDir = path.join(root, 'tmp');
  const blobsDir = path.join(root, 'sha256');
  const locks = new Map<string, Promise<unknown>>();

  function blobPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new NotFoundError('No such blob.');
    return path.join(blobsDir, sha256.slice(0, 2), sha256);
  }

  /** Runs `work` after every earlier task on the same hash has settled. */
  function withLock<Result>(sha256: string, work: () => Promise<Result>): Promise<Result> {
    const previous = locks.get(sha256) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    locks.set(sha256, settled);
    void settled.then(() => {
      if (locks.get(sha256) === settled) locks.delete(sha256);
    });
    return run;
  }

  return {
    async write(source, { maxBytes, tooLargeMessage }: BlobWriteOptions): Promise<PendingBlob> {
      // Nothing may be awaited before the pipeline takes the source: an upload stream that fails
      // meanwhile (a cut-off request) would then never settle it.
      mkdirSync(tmpDir, { recursive: true });
      const temp = path.join(tmpDir, randomUUID());
      const hash = createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            callback(
              new PayloadTooLargeError(tooLargeMessage ?? `The file is larger than ${maxBytes} bytes.`),
            );
            return;
          }
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      try {
        await pipeline(source, meter, createWriteStream(temp, { flags: 'wx' }));
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      const sha256 = hash.digest('hex');
      let done = false;
      return {
        sha256,
        bytes,
        commit: () =>
          withLock(sha256, async () => {
            if (done) return;
            done = true;
            const target = blobPath(sha256);
            const now = new Date();
            try {
              // Already there: keep that copy, and mark it fresh so a sweep leaves it alone.
              await utimes(target, now, now);
              await rm(temp, { force: true });
            } catch {
              await mkdir(path.dirname(target), { recursive: true });
              await rename(temp, target);
            }
          }),
        discard: async () => {
          if (done) return;
          done = true;
          await rm(temp, { force: true });
        },
      };
    },

    async open(sha256) {
      const file = blobPath(sha256);
      let bytes: number;
      try {
        bytes = (await stat(file)).size;
      } catch {
        throw new NotFoundError('The content of this file is missing from the blob store.');
      }
      return { stream: createReadStream(file), bytes };
    },

    async read(sha256) {
      try {
        return await readFile(blobPath(sha256));
      } catch {
        throw new NotFoundError('The content of this file is missing from the blob store.');
      }
    },

    async exists(sha256) {
      try {
        await stat(blobPath(sha256));
        return true;
      } catch {
        return false;
      }
    },

    release: (sha256, isReferenced) =>
      withLock(sha256, async () => {
        if (await isReferenced()) return false;
        try {
          await unlink(blobPath(sha256));
          return true;
        } catch {
          return false;
        }
      }),

    async sweep({ referenced, graceSeconds = 3600 }) {
      const cutoff = Date.now() - graceSeconds * 1000;
      let removed = 0;
      for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
        const file = path.join(tmpDir, name);
        const info = await stat(file).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) {
          await rm(file, { force: true });
          removed++;
        }
      }
      for (const shard of await readdir(blobsDir).catch(() => [] as string[])) {
        const names = (await readdir(path.join(blobsDir, shard)).catch(() => [] as string[])).filter((name) =>
          SHA256.test(name),
        );
        if (names.length === 0) continue;
        const live = await referenced(names);
        for (const name of names) {
          if (live.has(name)) continue;
          const gone = await withLock(name, async () => {
            const info = await stat(blobPath(name)).catch(() => undefined);
            if (!info || info.mtimeMs >= cutoff) return false;
            // Asked again under the lock: an upload may have recorded it since.
            if ((await referenced([name])).has(name)) return false;
            await rm(blobPath(name), { force: true });
            return true;
          });
          if (gone) removed++;
        }
      }
      return { removed };
    },
  };
}
