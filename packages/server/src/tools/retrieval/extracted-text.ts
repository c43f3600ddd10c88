// What text extraction yields and how it fails, shared by the main thread (extract-text.ts) and
// the document-extraction worker thread (extract-document.ts).

export type ExtractedFormat = 'pdf' | 'docx' | 'html' | 'text';

export interface ExtractedText {
  readonly text: string;
  readonly format: ExtractedFormat;
}

/** A file that cannot be read; its message ends up as the vector-store file's last_error. */
export class ExtractionError extends Error {
  constructor(
    readonly code: 'unsupported_file' | 'invalid_file',
    message: string,
  ) {
    super(message);
    this.name = 'ExtractionError';
  }
}

/** Unix line ends, no NUL (PostgreSQL text cannot hold it). */
export function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replaceAll('\u0000', '');
}
