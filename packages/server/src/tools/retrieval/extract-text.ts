// Text out of an uploaded file, by its type: PDF (unpdf), DOCX (mammoth), HTML (Readability over
// jsdom, keeping block boundaries as line breaks), and anything that is text (txt, md, csv, json,
// source code…) decoded as UTF-8, UTF-16 with a BOM, or Windows-1252. A file that is not readable
// fails with an ExtractionError saying why, which ends up as the vector-store file's last_error.

import { Readability } from '@mozilla/readability';
import { JSDOM } from 'jsdom';
import mammoth from 'mammoth';
import { extractText as extractPdfText, getDocumentProxy } from 'unpdf';

export type ExtractedFormat = 'pdf' | 'docx' | 'html' | 'text';

export interface ExtractedText {
  readonly text: string;
  readonly format: ExtractedFormat;
}

export class ExtractionError extends Error {
  constructor(
    readonly code: 'unsupported_file' | 'invalid_file',
    message: string,
  ) {
    super(message);
    this.name = 'ExtractionError';
  }
}

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
  if (extension === 'pdf' || startsWith(bytes, '%PDF-')) return { text: await fromPdf(bytes), format: 'pdf' };
  if (extension === 'docx') return { text: await fromDocx(bytes), format: 'docx' };
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
    return { text: normalise(fromHtml(decoded)), format: 'html' };
  }
  return { text: normalise(decoded), format: 'text' };
}

async function fromPdf(bytes: Uint8Array): Promise<string> {
  let pages: string[];
  try {
    // pdf.js may detach the buffer it is given: hand it a copy.
    // verbosity 0: pdf.js reports errors only (its warnings about damaged files went to stdout).
    const document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    try {
      pages = (await extractPdfText(document, { mergePages: false })).text;
    } finally {
      await document.destroy();
    }
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'PasswordException') {
      throw new ExtractionError('invalid_file', 'The PDF is encrypted with a password; upload it unlocked.');
    }
    throw new ExtractionError(
      'invalid_file',
      `The PDF could not be read: ${(error as Error).message ?? error}`,
    );
  }
  const text = normalise(pages.join('\n\n'));
  if (text.trim() === '' && pages.length > 0) {
    throw new ExtractionError(
      'invalid_file',
      'The PDF has no text layer (a scanned document needs OCR, which retrieval does not do).',
    );
  }
  return text;
}

async function fromDocx(bytes: Uint8Array): Promise<string> {
  try {
    const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    return normalise(result.value);
  } catch (error) {
    throw new ExtractionError(
      'invalid_file',
      `The Word document could not be read (is it a .docx?): ${(error as Error).message ?? error}`,
    );
  }
}

const BLOCK_ELEMENTS = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'BR',
  'DD',
  'DIV',
  'DL',
  'DT',
  'FIGCAPTION',
  'FIGURE',
  'FOOTER',
  'FORM',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HEADER',
  'HR',
  'LI',
  'MAIN',
  'NAV',
  'OL',
  'P',
  'PRE',
  'SECTION',
  'TABLE',
  'TR',
  'UL',
  'TITLE',
]);
const SKIPPED_ELEMENTS = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'CANVAS', 'IFRAME']);

function fromHtml(html: string): string {
  // No scripts run and nothing is fetched: jsdom's defaults, relied on here.
  const dom = new JSDOM(html);
  try {
    const document = dom.window.document;
    const whole = textOf(document.body ?? document.documentElement);
    const article = new Readability(document.cloneNode(true) as Document).parse();
    if (article?.content) {
      const container = document.createElement('div');
      container.innerHTML = article.content;
      const main = textOf(container);
      // Readability keeps the main article of a page; when it kept little, the page was not an
      // article (a table, a list of facts): keep everything.
      if (main.trim().length >= whole.trim().length * 0.5) {
        return article.title ? `${article.title}\n\n${main}` : main;
      }
    }
    const title = document.title?.trim();
    return title && !whole.includes(title) ? `${title}\n\n${whole}` : whole;
  } finally {
    dom.window.close();
  }
}

function textOf(root: Node): string {
  const parts: string[] = [];
  const walk = (node: Node) => {
    if (node.nodeType === 3) {
      parts.push((node.nodeValue ?? '').replace(/\s+/g, ' '));
      return;
    }
    if (node.nodeType !== 1) return;
    const tag = (node as Element).tagName.toUpperCase();
    if (SKIPPED_ELEMENTS.has(tag)) return;
    const block = BLOCK_ELEMENTS.has(tag);
    if (block) parts.push('\n');
    if (tag === 'PRE') {
      parts.push(node.textContent ?? '');
    } else {
      for (const child of Array.from(node.childNodes)) walk(child);
    }
    if (tag === 'TD' || tag === 'TH') parts.push('\t');
    if (block) parts.push('\n');
  };
  walk(root);
  return parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, (run) => (run.includes('\t') ? '\t' : ' ')).trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
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

/** Unix line ends, no NUL (PostgreSQL text cannot hold it). */
function normalise(text: string): string {
  return text.replace(/\r\n?/g, '\n').replaceAll('\u0000', '');
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  for (let index = 0; index < magic.length; index++)
    if (bytes[index] !== magic.charCodeAt(index)) return false;
  return true;
}
