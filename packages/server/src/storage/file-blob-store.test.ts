import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { createFileBlobStore } from './file-blob-store.js';

let root: string;
let store: BlobStore;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'atelier-blobs-'));
  store = createFileBlobStore({ root });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const source = (...parts: string[]) => Readable.from(parts.map((part) => Buffer.from(part)));
const tmp = () => readdir(path.join(root, 'tmp'));

describe('file blob store', () => {
  it('hashes while streaming, commits to the content address, and reads back', async () => {
    const pending = await store.write(source('hello ', 'world'), { maxBytes: 100 });
    expect(pending).toMatchObject({ sha256: sha('hello world'), bytes: 11 });
    expect(await store.exists(pending.sha256)).toBe(false);
    await pending.commit();
    expect(await store.exists(pending.sha256)).toBe(true);
    expect((await store.read(pending.sha256)).toString()).toBe('hello world');
    const { stream, bytes } = await store.open(pending.sha256);
    expect(bytes).toBe(11);
    expect(Buffer.concat(await stream.toArray()).toString()).toBe('hello world');
    expect(await tmp()).toEqual([]);
  });

  it('keeps one copy of identical content', async () => {
    for (let index = 0; index < 3; index++)
      await (await store.write(source('same'), { maxBytes: 10 })).commit();
    const shard = path.join(root, 'sha256', sha('same').slice(0, 2));
    expect(await readdir(shard)).toEqual([sha('same')]);
    expect(await tmp()).toEqual([]);
  });

  it('fails past the limit with 413 and leaves nothing behind', async () => {
    const attempt = store.write(source('12345', '67890', 'x'), { maxBytes: 10, tooLargeMessage: 'Too big.' });
    await expect(attempt).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(attempt).rejects.toThrow('Too big.');
    expect(await tmp()).toEqual([]);
  });

  it('discards an upload that was not recorded', async () => {
    const pending = await store.write(source('unwanted'), { maxBytes: 100 });
    await pending.discard();
    expect(await tmp()).toEqual([]);
    expect(await store.exists(pending.sha256)).toBe(false);
  });

  it('releases a blob only when nothing references it, and a later commit brings it back', async () => {
    const first = await store.write(source('shared'), { maxBytes: 100 });
    await first.commit();
    expect(await store.release(first.sha256, async () => true)).toBe(false);
    expect(await store.exists(first.sha256)).toBe(true);
    // An upload of the same bytes recorded before the release ran: its commit restores the blob.
    const second = await store.write(source('shared'), { maxBytes: 100 });
    expect(await store.release(first.sha256, async () => false)).toBe(true);
    await second.commit();
    expect((await store.read(first.sha256)).toString()).toBe('shared');
  });

  it('says a missing blob is missing', async () => {
    await expect(store.read(sha('nothing'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.open('not-a-hash')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('sweeps old unreferenced blobs and stale temporary files, keeping the rest', async () => {
    const kept = await store.write(source('kept'), { maxBytes: 100 });
    await kept.commit();
    const orphan = await store.write(source('orphan'), { maxBytes: 100 });
    await orphan.commit();
    const young = await store.write(source('young'), { maxBytes: 100 });
    await young.commit();
    const stale = await store.write(source('stale upload'), { maxBytes: 100 });
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    for (const blob of [kept, orphan]) {
      await utimes(path.join(root, 'sha256', blob.sha256.slice(0, 2), blob.sha256), old, old);
    }
    const [tempName] = await tmp();
    await utimes(path.join(root, 'tmp', tempName!), old, old);

    const { removed } = await store.sweep({
      referenced: async (hashes) => new Set(hashes.filter((hash) => hash === kept.sha256)),
      graceSeconds: 3600,
    });
    expect(removed).toBe(2);
    expect(await store.exists(kept.sha256)).toBe(true);
    expect(await store.exists(orphan.sha256)).toBe(false);
    expect(await store.exists(young.sha256)).toBe(true);
    expect(await tmp()).toEqual([]);
    await stale.discard();
  });
});
