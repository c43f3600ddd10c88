// Image files as a vision model gets them: the bytes as a data URL with the type they really
// have, and a reason instead when the file is gone, too big, or not an image.
import { describe, expect, it } from 'vitest';
import type { StoredFile } from '../storage/repositories/files-repository.js';
import { createImageInputs, MAX_IMAGE_BYTES } from './image-inputs.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);

function inputs(blobs: Record<string, { bytes: Buffer; size?: number; filename?: string }>) {
  const reads: string[] = [];
  const files = {
    find: async (workspaceId: string, id: string): Promise<StoredFile | null> => {
      const blob = blobs[id];
      if (!blob || workspaceId !== 'ws_1') return null;
      return {
        id,
        workspaceId,
        filename: blob.filename ?? 'photo.png',
        purpose: 'vision',
        bytes: blob.size ?? blob.bytes.length,
        sha256: id,
        contentType: null,
        createdAt: 0,
        expiresAt: null,
      };
    },
  };
  const store = {
    read: async (sha256: string) => {
      reads.push(sha256);
      return blobs[sha256]!.bytes;
    },
  };
  return { load: createImageInputs({ files, blobs: store }).forWorkspace('ws_1'), reads };
}

describe('image inputs', () => {
  it('loads an image file as a data URL of the type its bytes say', async () => {
    const { load } = inputs({ 'file-a': { bytes: PNG }, 'file-b': { bytes: JPEG, filename: 'looks.png' } });
    expect(await load({ fileId: 'file-a', maxBytes: MAX_IMAGE_BYTES })).toEqual({
      type: 'image',
      url: `data:image/png;base64,${PNG.toString('base64')}`,
      bytes: PNG.length,
    });
    expect(await load({ fileId: 'file-b', maxBytes: MAX_IMAGE_BYTES })).toMatchObject({
      url: expect.stringMatching(/^data:image\/jpeg;base64,/),
    });
  });

  it('reads nothing past the limits, and says why', async () => {
    const { load, reads } = inputs({ 'file-big': { bytes: PNG, size: MAX_IMAGE_BYTES + 1 } });
    expect(await load({ fileId: 'file-big', maxBytes: 50 * 1024 * 1024 })).toEqual({
      type: 'unavailable',
      reason: 'it has 20 MB, more than the 20 MB an image may have',
    });
    expect(await load({ fileId: 'file-big', maxBytes: 1000 })).toEqual({
      type: 'unavailable',
      reason: 'the images of this prompt would exceed 50 MB',
    });
    expect(reads).toEqual([]);
  });

  it('refuses what is not an image, and what is not in the workspace', async () => {
    const { load } = inputs({ 'file-text': { bytes: Buffer.from('just text'), filename: 'fake.png' } });
    expect(await load({ fileId: 'file-text', maxBytes: MAX_IMAGE_BYTES })).toEqual({
      type: 'unavailable',
      reason: 'it is not a PNG, JPEG, GIF or WebP image',
    });
    expect(await load({ fileId: 'file-other', maxBytes: MAX_IMAGE_BYTES })).toEqual({
      type: 'unavailable',
      reason: 'the file no longer exists',
    });
  });
});
