// The blob store spec: content-addressed file bytes (by SHA-256), written as a stream and never
// held whole in memory. One implementation today (a directory on disk, file-blob-store.ts); an
// S3-compatible one would implement the same interface.

import type { Readable } from 'node:stream';

export interface BlobWriteOptions {
  /** Largest blob accepted; past it the write fails with a PayloadTooLargeError. */
  readonly maxBytes: number;
  /** The message of that error (it names the limit the caller enforces). */
  readonly tooLargeMessage?: string;
}

/**
 * Bytes that were received and hashed but are not yet in the store: the caller records them
 * (a database row) and then commits, or discards them when recording failed.
 */
export interface PendingBlob {
  readonly sha256: string;
  readonly bytes: number;
  /** Moves the bytes to their address (keeping the copy already there, if any). */
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export interface BlobStore {
  write(source: AsyncIterable<Uint8Array>, options: BlobWriteOptions): Promise<PendingBlob>;
  /** A stream of the blob; throws NotFoundError when it is missing. */
  open(sha256: string): Promise<{ readonly stream: Readable; readonly bytes: number }>;
  /** The whole blob (extraction needs it whole: PDF and DOCX are random-access formats). */
  read(sha256: string): Promise<Buffer>;
  exists(sha256: string): Promise<boolean>;
  /**
   * Deletes the blob unless `isReferenced` (asked while no commit of the same blob can run)
   * says some record still needs it.
   */
  release(sha256: string, isReferenced: () => Promise<boolean>): Promise<boolean>;
  /**
   * Removes leftovers: temporary files of interrupted uploads, and blobs no record references
   * (`referenced` answers for a batch of addresses) that are older than `graceSeconds`.
   */
  sweep(options: {
    readonly referenced: (sha256s: readonly string[]) => Promise<ReadonlySet<string>>;
    readonly graceSeconds?: number;
  }): Promise<{ readonly removed: number }>;
}
