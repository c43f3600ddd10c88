// Runs extract-document.ts in a worker thread of its own: a big PDF, DOCX or HTML page never holds
// up the server's event loop, and the parsers' memory (jsdom alone is tens of MB) lives in the
// thread's heap, not the main one. The thread starts with the first document and stops after a
// while without any, giving that memory back; the next document starts a fresh one.

import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { DocumentJob } from './extract-document.js';
import type { DocumentJobAnswer, DocumentJobMessage } from './extract-document-worker.js';
import { ExtractionError } from './extracted-text.js';

export interface DocumentExtractionThreadOptions {
  /** How long the thread waits for the next document before it stops. */
  readonly idleMs?: number;
  /** Heap limit of the thread in MiB; a document that needs more fails (undefined: Node's own). */
  readonly maxHeapMb?: number | undefined;
}

interface Pending {
  readonly resolve: (text: string) => void;
  readonly reject: (error: Error) => void;
}

/** One started thread and the jobs it owes an answer. */
interface Running {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  idleTimer: NodeJS.Timeout | undefined;
}

export class DocumentExtractionThread {
  private readonly idleMs: number;
  private readonly resourceLimits: ResourceLimits | undefined;
  private running: Running | undefined;
  private nextId = 0;

  constructor({ idleMs = 30_000, maxHeapMb = undefined }: DocumentExtractionThreadOptions = {}) {
    this.idleMs = idleMs;
    this.resourceLimits = maxHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: maxHeapMb };
  }

  /** The text of `job`'s document; rejects with an ExtractionError when it is not readable. */
  extract(job: DocumentJob): Promise<string> {
    const running = this.running ?? this.start();
    clearTimeout(running.idleTimer);
    running.idleTimer = undefined;
    running.worker.ref();
    const id = ++this.nextId;
    return new Promise<string>((resolve, reject) => {
      running.pending.set(id, { resolve, reject });
      running.worker.postMessage({ id, job } satisfies DocumentJobMessage);
    });
  }

  /** The worker thread's id while one is started (undefined when idle long enough to stop). */
  get threadId(): number | undefined {
    return this.running?.worker.threadId;
  }

  /** Stops the thread now; jobs still in flight fail. */
  async close(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearTimeout(running.idleTimer);
    await running.worker.terminate();
    fail(running, new Error('The document reader was stopped.'));
  }

  private start(): Running {
    const worker = startWorker(this.resourceLimits);
    const running: Running = { worker, pending: new Map(), idleTimer: undefined };
    this.running = running;
    worker.on('message', (answer: DocumentJobAnswer) => {
      const pending = running.pending.get(answer.id);
      if (!pending) return;
      running.pending.delete(answer.id);
      if ('text' in answer) pending.resolve(answer.text);
      else if (answer.error.code)
        pending.reject(new ExtractionError(answer.error.code, answer.error.message));
      else pending.reject(new Error(answer.error.message));
      if (running.pending.size === 0 && this.running === running) this.idle(running);
    });
    // The thread died (out of memory, or a crash): what it held fails, the next job starts another.
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (exitCode) => {
      if (this.running === running) this.running = undefined;
      clearTimeout(running.idleTimer);
      if (running.pending.size === 0) return;
      const outOfMemory = (failure as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      // Alone in the thread, the document itself was too much for it; beside others, it may not be.
      fail(
        running,
        outOfMemory && running.pending.size === 1
          ? new ExtractionError(
              'invalid_file',
              'The document is too large or too complex to read: reading it ran out of memory.',
            )
          : new Error(`The document reader stopped (${failure?.message ?? `exit code ${exitCode}`}).`, {
              cause: failure,
            }),
      );
    });
    return running;
  }

  private idle(running: Running): void {
    running.worker.unref();
    running.idleTimer = setTimeout(() => {
      if (this.running !== running || running.pending.size > 0) return;
      this.running = undefined;
      void running.worker.terminate();
    }, this.idleMs);
    running.idleTimer.unref();
  }
}

function fail(running: Running, error: Error): void {
  for (const pending of running.pending.values()) pending.reject(error);
  running.pending.clear();
}

function startWorker(resourceLimits: ResourceLimits | undefined): Worker {
  // The thread inherits Node's options, except one that only applies to a main script given as
  // text (`node --input-type=module -e …`) and would stop a thread started from a file.
  const execArgv = process.execArgv.filter((option) => !option.startsWith('--input-type'));
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./extract-document-worker.js', import.meta.url), {
      execArgv,
      resourceLimits,
    });
  }
  // Run from the TypeScript sources (tests, benchmarks under tsx): the thread compiles them too,
  // with tsx's hooks registered in it before its entry is imported.
  const entry = JSON.stringify(new URL('./extract-document-worker.ts', import.meta.url).href);
  return new Worker(
    `import('node:module').then(({ register }) => { register('tsx/esm', ${entry}, { data: {} }); return import(${entry}); });`,
    { eval: true, execArgv, resourceLimits },
  );
}
