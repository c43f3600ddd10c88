// The document-extraction worker thread's entry (started by document-extraction-thread.ts): reads
// each document it is sent and answers with its text, or with why it could not.

import { parentPort } from 'node:worker_threads';
import { type DocumentJob, extractDocument } from './extract-document.js';
import { ExtractionError } from './extracted-text.js';

/** A job as it travels to the worker. */
export interface DocumentJobMessage {
  readonly id: number;
  readonly job: DocumentJob;
}

/** The worker's answer to one job. */
export type DocumentJobAnswer =
  | { readonly id: number; readonly text: string }
  | {
      readonly id: number;
      readonly error: {
        readonly message: string;
        /** Set for an ExtractionError: the file is not readable (else: something went wrong). */
        readonly code?: ExtractionError['code'];
      };
    };

const port = parentPort;
if (!port) throw new Error('extract-document-worker.ts runs as a worker thread');

port.on('message', ({ id, job }: DocumentJobMessage) => {
  extractDocument(job).then(
    (text) => port.postMessage({ id, text } satisfies DocumentJobAnswer),
    (error: unknown) => {
      const message = (error as Error)?.message ?? String(error);
      port.postMessage({
        id,
        error: error instanceof ExtractionError ? { message, code: error.code } : { message },
      } satisfies DocumentJobAnswer);
    },
  );
});
