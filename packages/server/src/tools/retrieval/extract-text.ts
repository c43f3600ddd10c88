// Text out of an uploaded file, by its type: PDF (unpdf), DOCX (mammoth), HTML (Readability over
// jsdom, keeping block boundaries as line breaks), and anything that is text (txt, md, csv, json,
// source code…) decoded as UTF-8, UTF-16 with a BOM, or Windows-1252. A file that is not readable
// fails with an ExtractionError saying why, which ends up as the vector-store file's last_error.
// Documents are read in a worker thread (document-extraction-thread.ts), plain text right here.

import { DocumentExtractionThread } from './document-extraction-thread.js';
import { type ExtractedText, ExtractionError, normaliseText } from './extracted-text.js';

export { type ExtractedFormat, type ExtractedText, ExtractionError } from './extracted-text.js';

const HTML_EXTENSIONS = new Set(['html', 'htm', 'xhtml']);
// Formats we know to be binary and do not read: say so instead of indexing noise.
const BINARY_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'webp',
  'bmp',
  'tiff',
  'ico',
  'zip',
  'gz',
  'tgz',
  'bz2',
  'xz',
  '7z',
  'rar',
  'tar',
  'exe',
  'dll',
  'so',
  'dylib',
  'bin',
  'mp3',
  'mp4',
  'wav',
  'ogg',
  'flac',
  'mov',
  'avi',
  'mkv',
  'doc',
  'xls',
  'xlsx',
  'ppt',
  'pptx',
  'odt',
  'ods',
  'odp',
  'epub',
  'woff',
  'woff2',
  'ttf',
  'otf',
  'sqlite',
  'db',
  'parquet',
  'pkl',
  'npy',
  'gguf',
]);

export const SUPPORTED_DESCRIPTION =
  'PDF, DOCX, HTML, and text files (txt, md, csv, json, xml, yaml, source code and other plain text)';

export async function extractText({
  bytes,
  filename,
}: {
  readonly bytes: Uint8Array;
  readonly filename: string;
}): Promise<ExtractedText> {
  const extension = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
  if (extension === 'pdf' || startsWith(bytes, '%PDF-')) {
    return { text: await documents().extract({ kind: 'pdf', bytes }), format: 'pdf' };
  }
  if (extension === 'docx')
    return { text: await documents().extract({ kind: 'docx', bytes }), format: 'docx' };
  if (BINARY_EXTENSIONS.has(extension)) {
    throw new ExtractionError(
      'unsupported_file',
      `Files of type .${extension} are not supported for retrieval. Supported: ${SUPPORTED_DESCRIPTION}.`,
    );
  }
  const decoded = decodeText(bytes);
  if (decoded === null) {
    throw new ExtractionError(
      'unsupported_file',
      `${filename} does not look like text${extension ? ` (.${extension})` : ''}. Supported: ${SUPPORTED_DESCRIPTION}.`,
    );
  }
  if (
    HTML_EXTENSIONS.has(extension) ||
    (extension === '' && /^\s*<(!doctype html|html)[\s>]/i.test(decoded))
  ) {
    return { text: await documents().extract({ kind: 'html', html: decoded }), format: 'html' };
  }
  return { text: normaliseText(decoded), format: 'text' };
}

let thread: DocumentExtractionThread | undefined;

/** The process's document reader, started with the first document. */
function documents(): DocumentExtractionThread {
  thread ??= new DocumentExtractionThread();
  return thread;
}

/** UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252; null for binary data. */
function decodeText(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  // NUL bytes do not occur in text files (without a UTF-16 BOM), and are common in binary ones.
  const sample = bytes.subarray(0, 65_536);
  if (sample.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const text = new TextDecoder('windows-1252').decode(bytes);
    // Many control characters: binary after all.
    let controls = 0;
    for (let index = 0; index < Math.min(text.length, 65_536); index++) {
      const code = text.charCodeAt(index);
      if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0c && code !== 0x0d) controls++;
    }
    return controls > sample.length / 100 ? null : text;
  }
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  for (let index = 0; index < magic.length; index++)
    if (bytes[index] !== magic.charCodeAt(index)) return false;
  return true;
}
