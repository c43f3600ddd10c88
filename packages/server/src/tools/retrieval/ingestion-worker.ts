// Background ingestion of vector-store files: claim a waiting file, extract its text (once per
// file), chunk it, embed the chunks when an embedding model is configured, and write chunks,
// vectors and the `completed` status in one transaction. The queue is the database itself, so
// files waiting or half-done when the process stopped are picked up by the next one.
//
// Failures: a file that cannot be read fails at once with `unsupported_file`/`invalid_file`
// and a message saying why; anything else (a database or model hiccup) is retried with backoff,
// then fails with `server_error`. A worker that loses its claim (the file was removed or the
// batch cancelled) drops its work; nothing it wrote survives, since the write is conditional.

import type { Kysely } from 'kysely';
import type { EmbeddingModel } from '../../inference/spec.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { inTransaction } from '../../storage/in-transaction.js';
import type { IngestionClaim } from '../../storage/repositories/vector-store-files-repository.js';
import { createRepositories, type Repositories } from '../../storage/repositories.js';
import type { DatabaseSchema } from '../../storage/schema.js';
import type { SearchIndex } from '../../storage/search-index.js';
import { chunkText, TooManyTokensError } from './chunk-text.js';
import { embedTexts } from './embed-texts.js';
import { ExtractionError, extractText } from './extract-text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface IngestionWorkerOptions {
  readonly db: Kysely<DatabaseSchema>;
  readonly repositories: Repositories;
  readonly blobStore: BlobStore;
  readonly searchIndex: SearchIndex;
  /** Null: chunks are indexed for keyword search only. */
  readonly embeddingModel: EmbeddingModel | null;
  readonly log?: (level: LogLevel, message: string) => void;
  /** Files ingested at once. */
  readonly concurrency?: number;
  readonly leaseSeconds?: number;
  /** Tries before a file fails with server_error. */
  readonly maxAttempts?: number;
  /** How often to look for work when nobody said there is some (other processes may add it). */
  readonly pollIntervalMs?: number;
  /** A file with more tokens of text fails (OpenAI's file_search limit is 5M). */
  readonly maxFileTokens?: number;
}

export interface IngestionWorker {
  start(): void;
  /** There is new work: look now instead of at the next poll. */
  wake(): void;
  /** Stops claiming, and waits for the files in hand (their claims lapse if they are cut short). */
  stop(): Promise<void>;
  /** Resolves when no file is waiting or in hand (tests, benchmarks). */
  idle(): Promise<void>;
}

class LostClaim extends Error {}

export function createIngestionWorker({
  db,
  repositories,
  blobStore,
  searchIndex,
  embeddingModel,
  log = () => {},
  concurrency = 2,
  leaseSeconds = 60,
  maxAttempts = 3,
  pollIntervalMs = 2_000,
  maxFileTokens = 5_000_000,
}: IngestionWorkerOptions): IngestionWorker {
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const active = new Set<Promise<void>>();
  const abort = new AbortController();
  const idleWaiters: (() => void)[] = [];
  // The vector index wants upkeep (training as stores grow) once ingestion goes quiet; also at
  // start, to finish what a previous run left half-done.
  let indexDirty = true;
  let maintaining = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });

  async function notifyIdle() {
    if (idleWaiters.length === 0 || active.size > 0 || indexDirty || maintaining) return;
    if (await repositories.vectorStoreFiles.hasPending().catch(() => true)) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  async function run() {
    await backfillVectors();
    while (running) {
      let claimed = 0;
      try {
        const free = concurrency - active.size;
        if (free > 0) {
          const claims = await repositories.vectorStoreFiles.claim({ limit: free, leaseSeconds });
          claimed = claims.length;
          for (const claim of claims) {
            const task = ingest(claim).finally(() => {
              active.delete(task);
              wakeUp?.();
              void notifyIdle();
            });
            active.add(task);
          }
        }
      } catch (error) {
        log('error', `ingestion: could not claim files: ${(error as Error).message}`);
      }
      if (!running) break;
      if (claimed === 0 && active.size === 0 && indexDirty) {
        await maintainIndex();
        continue;
      }
      if (claimed === 0) {
        void notifyIdle();
        await sleep(pollIntervalMs);
      } else if (active.size >= concurrency) {
        await Promise.race([...active, sleep(pollIntervalMs)]);
      }
    }
  }

  async function maintainIndex() {
    indexDirty = false;
    maintaining = true;
    try {
      await searchIndex.maintain();
    } catch (error) {
      log('error', `ingestion: vector index upkeep failed: ${describe(error)}`);
    } finally {
      maintaining = false;
    }
  }

  async function ingest(claim: IngestionClaim): Promise<void> {
    const label = `${claim.fileId} in ${claim.vectorStoreId}`;
    // Keep the claim alive while working; a lost claim stops the work at the next step.
    let lost = false;
    const renewal = setInterval(
      () => {
        repositories.vectorStoreFiles
          .renew(claim, leaseSeconds)
          .then((held) => {
            if (!held) lost = true;
          })
          .catch(() => {});
      },
      Math.max(1_000, (leaseSeconds * 1000) / 3),
    );
    renewal.unref();
    const check = () => {
      if (lost || abort.signal.aborted) throw new LostClaim();
    };
    try {
      let text = await repositories.fileTexts.find(claim.fileId);
      if (!text) {
        const bytes = await blobStore.read(claim.sha256).catch(() => {
          throw new ExtractionError('invalid_file', 'The content of this file is missing from storage.');
        });
        check();
        text = await extractText({ bytes, filename: claim.filename });
        await repositories.fileTexts.save(claim.fileId, text);
      }
      check();
      const { chunks } = await chunkText(text.text, claim.chunking, { maxTotalTokens: maxFileTokens });
      check();
      const embeddings =
        embeddingModel && searchIndex.space && chunks.length > 0
          ? await embedTexts(
              embeddingModel,
              chunks.map((chunk) => chunk.text),
              { signal: abort.signal },
            )
          : null;
      check();
      const usageBytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.text), 0);
      await inTransaction(db, async (trx) => {
        const scoped = createRepositories(trx);
        if (!(await scoped.vectorStoreFiles.complete(claim, usageBytes))) throw new LostClaim();
        const ids = await scoped.chunks.replace(claim.vectorStoreId, claim.fileId, chunks);
        if (embeddings) {
          await searchIndex.writeVectors(
            trx,
            ids.map((chunkId, index) => ({
              chunkId,
              vectorStoreId: claim.vectorStoreId,
              embedding: embeddings[index]!,
            })),
          );
        }
      });
      if (embeddings) indexDirty = true;
      log('debug', `ingestion: ${label}: ${chunks.length} chunks`);
    } catch (error) {
      // Stopping: the claim lapses (or is released at the next start) and the file is taken up again.
      if (error instanceof LostClaim || abort.signal.aborted) {
        log('debug', `ingestion: ${label}: dropped (removed, cancelled or taken over)`);
        return;
      }
      await settleFailure(claim, label, error);
    } finally {
      clearInterval(renewal);
    }
  }

  async function settleFailure(claim: IngestionClaim, label: string, error: unknown) {
    try {
      if (error instanceof ExtractionError) {
        await repositories.vectorStoreFiles.fail(claim, { code: error.code, message: error.message });
        log('info', `ingestion: ${label}: ${error.message}`);
      } else if (error instanceof TooManyTokensError) {
        await repositories.vectorStoreFiles.fail(claim, { code: 'invalid_file', message: error.message });
        log('info', `ingestion: ${label}: ${error.message}`);
      } else if (claim.attempt < maxAttempts) {
        const delay = 5 * 2 ** (claim.attempt - 1);
        await repositories.vectorStoreFiles.retryLater(claim, Math.floor(Date.now() / 1000) + delay);
        log(
          'warn',
          `ingestion: ${label}: attempt ${claim.attempt} failed, retrying in ${delay}s: ${describe(error)}`,
        );
      } else {
        await repositories.vectorStoreFiles.fail(claim, {
          code: 'server_error',
          message: `The file could not be processed: ${describe(error)}`,
        });
        log('error', `ingestion: ${label}: failed after ${claim.attempt} attempts: ${describe(error)}`);
      }
    } catch (settleError) {
      // The lease will lapse and another attempt will be made.
      log('error', `ingestion: ${label}: could not record the failure: ${describe(settleError)}`);
    }
  }

  /** Chunks without a vector in the current space (the model was configured or changed): embed them. */
  async function backfillVectors() {
    if (!embeddingModel || !searchIndex.space) return;
    let afterId = 0;
    let filled = 0;
    try {
      while (running) {
        const batch = await searchIndex.chunksWithoutVectors({ afterId, limit: 64 });
        if (batch.length === 0) break;
        const embeddings = await embedTexts(
          embeddingModel,
          batch.map((chunk) => chunk.text),
          { signal: abort.signal },
        );
        await searchIndex.writeVectors(
          db,
          batch.map((chunk, index) => ({
            chunkId: chunk.id,
            vectorStoreId: chunk.vectorStoreId,
            embedding: embeddings[index]!,
          })),
        );
        filled += batch.length;
        afterId = batch.at(-1)!.id;
      }
      if (filled > 0)
        log('info', `ingestion: embedded ${filled} chunks indexed before ${embeddingModel.info.id}`);
    } catch (error) {
      log('error', `ingestion: embedding existing chunks stopped: ${describe(error)}`);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake() {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async stop() {
      running = false;
      wakeUp?.();
      abort.abort();
      await loop;
      await Promise.allSettled([...active]);
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        void notifyIdle();
      });
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
