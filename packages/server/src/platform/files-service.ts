// Files as the product handles them: uploads streamed into the blob store under a size limit,
// the rules of each purpose, downloads, deletion (the record, its chunks in every vector store,
// and the bytes once nothing else points at them), and the expiry of files that asked for one.

import type { Readable } from 'node:stream';
import { InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { StoredFile } from '../storage/repositories/files-repository.js';
import type { Repositories } from '../storage/repositories.js';

export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;
// OpenAI's Batch API takes input files of up to 200 MB.
const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024;
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp']);
const MAX_FILENAME_LENGTH = 255;

export interface UploadParams {
  readonly workspaceId: string;
  readonly filename: string;
  readonly purpose: string;
  readonly contentType?: string | null;
  readonly expiresAfterSeconds?: number | null;
}

/** An upload whose bytes are stored but not yet recorded: `finish` once the other fields are known. */
export interface ReceivedUpload {
  readonly bytes: number;
  readonly sha256: string;
  readonly filename: string;
  finish(params: Omit<UploadParams, 'filename'>): Promise<StoredFile>;
  discard(): Promise<void>;
}

export interface FilesService {
  readonly maxFileBytes: number;
  /**
   * Streams the bytes into the blob store while hashing them (never holding the whole file),
   * failing with 413 past the limit. Multipart fields may come before or after the file, so the
   * purpose is checked in `finish`.
   */
  receive(params: {
    readonly filename: string;
    readonly source: AsyncIterable<Uint8Array>;
  }): Promise<ReceivedUpload>;
  find(workspaceId: string, id: string): Promise<StoredFile>;
  content(workspaceId: string, id: string): Promise<{ readonly file: StoredFile; readonly stream: Readable }>;
  delete(workspaceId: string, id: string): Promise<StoredFile>;
  /** Deletes files whose expiry passed; returns how many. */
  deleteExpired(): Promise<number>;
  /** Removes blobs no file points at and leftovers of interrupted uploads. */
  sweepBlobs(): Promise<number>;
}

export function createFilesService({
  repositories,
  blobStore,
  maxFileBytes = DEFAULT_MAX_FILE_BYTES,
}: {
  repositories: Repositories;
  blobStore: BlobStore;
  maxFileBytes?: number;
}): FilesService {
  async function release(file: StoredFile) {
    await blobStore.release(file.sha256, () => repositories.files.isBlobReferenced(file.sha256));
  }

  return {
    maxFileBytes,

    async receive({ filename, source }) {
      const name = cleanFilename(filename);
      const pending = await blobStore.write(source, {
        maxBytes: maxFileBytes,
        tooLargeMessage: `File is too large: the limit is ${formatBytes(maxFileBytes)} per file.`,
      });
      return {
        bytes: pending.bytes,
        sha256: pending.sha256,
        filename: name,
        async finish({ workspaceId, purpose, contentType = null, expiresAfterSeconds = null }) {
          try {
            checkPurposeRules({ purpose, filename: name, bytes: pending.bytes });
            // The record first, then the blob: a concurrent delete of the same content then
            // either sees this record or runs before the commit, which puts the bytes back.
            const file = await repositories.files.create({
              workspaceId,
              filename: name,
              purpose,
              bytes: pending.bytes,
              sha256: pending.sha256,
              contentType,
              expiresAfterSeconds,
            });
            try {
              await pending.commit();
            } catch (error) {
              await repositories.files.delete(workspaceId, file.id).catch(() => undefined);
              throw error;
            }
            return file;
          } finally {
            await pending.discard();
          }
        },
        discard: () => pending.discard(),
      };
    },

    async find(workspaceId, id) {
      const file = await repositories.files.find(workspaceId, id);
      if (!file) throw fileNotFound(id);
      return file;
    },

    async content(workspaceId, id) {
      const file = await repositories.files.find(workspaceId, id);
      if (!file) throw fileNotFound(id);
      const { stream } = await blobStore.open(file.sha256);
      return { file, stream };
    },

    async delete(workspaceId, id) {
      const file = await repositories.files.delete(workspaceId, id);
      if (!file) throw fileNotFound(id);
      await release(file);
      return file;
    },

    async deleteExpired() {
      let deleted = 0;
      for (;;) {
        const expired = await repositories.files.listExpired(100);
        if (expired.length === 0) return deleted;
        for (const file of expired) {
          if (await repositories.files.delete(file.workspaceId, file.id)) {
            await release(file);
            deleted++;
          }
        }
      }
    },

    async sweepBlobs() {
      const { removed } = await blobStore.sweep({
        referenced: (sha256s) => repositories.files.referencedBlobs(sha256s),
      });
      return removed;
    },
  };
}

function checkPurposeRules({
  purpose,
  filename,
  bytes,
}: {
  purpose: string;
  filename: string;
  bytes: number;
}) {
  const extension = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
  if ((purpose === 'fine-tune' || purpose === 'batch') && extension !== 'jsonl') {
    throw new InvalidRequestError(
      `Invalid file format for purpose '${purpose}': the file must be JSON Lines (.jsonl), not '${filename}'.`,
      { param: 'file', code: 'invalid_file_format' },
    );
  }
  if (purpose === 'batch' && bytes > MAX_BATCH_FILE_BYTES) {
    throw new PayloadTooLargeError(`File is too large for purpose 'batch': the limit is 200 MB.`);
  }
  if (purpose === 'vision' && !IMAGE_EXTENSIONS.has(extension)) {
    throw new InvalidRequestError(
      `Invalid file format for purpose 'vision': expected an image (png, jpeg, gif or webp), not '${filename}'.`,
      { param: 'file', code: 'invalid_file_format' },
    );
  }
  if (bytes === 0) {
    throw new InvalidRequestError('The file is empty.', { param: 'file', code: 'empty_file' });
  }
}

/** The last path segment, without control characters, at most 255 characters. */
export function cleanFilename(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .filter((character) => character.charCodeAt(0) >= 0x20 && character.charCodeAt(0) !== 0x7f)
    .join('')
    .trim();
  if (clean === '' || clean === '.' || clean === '..') return 'upload';
  if (clean.length <= MAX_FILENAME_LENGTH) return clean;
  const extension = /\.[A-Za-z0-9]{1,10}$/.exec(clean)?.[0] ?? '';
  return clean.slice(0, MAX_FILENAME_LENGTH - extension.length) + extension;
}

function fileNotFound(id: string): NotFoundError {
  return new NotFoundError(`No such File object: ${id}`, { param: 'file_id' });
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
