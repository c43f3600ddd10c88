// Images of a thread's messages (`image_file` content: an uploaded file) as a vision model takes
// them: the file's bytes from the blob store as a `data:` URL, which every OpenAI-compatible
// upstream accepts in an `image_url` part. Loaded only for the messages a turn actually sends,
// and only up to OpenAI's own limits (20 MB an image, 50 MB a prompt): past them the model gets
// a line saying the image was left out, and why.

import type { BlobStore } from '../storage/blob-store.js';
import type { FilesRepository } from '../storage/repositories/files-repository.js';

/** The most bytes one image may have to be sent (OpenAI's limit for image inputs). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** The most bytes of images one prompt may carry (OpenAI's limit per request). */
export const MAX_PROMPT_IMAGE_BYTES = 50 * 1024 * 1024;

export type LoadedImage =
  | { readonly type: 'image'; readonly url: string; readonly bytes: number }
  /** Not sent: `reason` completes "the image was not sent: …". */
  | { readonly type: 'unavailable'; readonly reason: string };

/** Loads one image file of a workspace, unless it has more than `maxBytes`. */
export type ImageLoader = (params: { fileId: string; maxBytes: number }) => Promise<LoadedImage>;

export interface ImageInputs {
  /** The loader for one workspace's files (a run's). */
  forWorkspace(workspaceId: string): ImageLoader;
}

/** The media types a vision model takes, by their first bytes (a file's name can lie). */
const SIGNATURES: readonly { readonly type: string; readonly matches: (head: Buffer) => boolean }[] = [
  {
    type: 'image/png',
    matches: (head) => head.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')),
  },
  { type: 'image/jpeg', matches: (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff },
  { type: 'image/gif', matches: (head) => /^GIF8[79]a/.test(head.subarray(0, 6).toString('latin1')) },
  {
    type: 'image/webp',
    matches: (head) =>
      head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];

export function imageMediaType(head: Buffer): string | null {
  return SIGNATURES.find((signature) => signature.matches(head))?.type ?? null;
}

export function createImageInputs({
  files,
  blobs,
}: {
  files: Pick<FilesRepository, 'find'>;
  blobs: Pick<BlobStore, 'read'>;
}): ImageInputs {
  return {
    forWorkspace:
      (workspaceId) =>
      async ({ fileId, maxBytes }) => {
        const file = await files.find(workspaceId, fileId);
        if (!file) return { type: 'unavailable', reason: 'the file no longer exists' };
        const limit = Math.min(maxBytes, MAX_IMAGE_BYTES);
        if (file.bytes > limit) {
          return {
            type: 'unavailable',
            reason:
              limit < MAX_IMAGE_BYTES
                ? `the images of this prompt would exceed ${megabytes(MAX_PROMPT_IMAGE_BYTES)}`
                : `it has ${megabytes(file.bytes)}, more than the ${megabytes(MAX_IMAGE_BYTES)} an image may have`,
          };
        }
        let bytes: Buffer;
        try {
          bytes = await blobs.read(file.sha256);
        } catch {
          return { type: 'unavailable', reason: 'its bytes could not be read' };
        }
        const mediaType = imageMediaType(bytes);
        if (!mediaType) return { type: 'unavailable', reason: 'it is not a PNG, JPEG, GIF or WebP image' };
        return {
          type: 'image',
          url: `data:${mediaType};base64,${bytes.toString('base64')}`,
          bytes: bytes.length,
        };
      },
  };
}

function megabytes(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} MB`;
}
