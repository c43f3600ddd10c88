// Text out of a document that needs a parser: PDF (unpdf), DOCX (mammoth), HTML (Readability over
// jsdom, keeping block boundaries as line breaks). Runs in the document-extraction worker thread
// (extract-document-worker.ts): these libraries are large and a big document keeps them busy, so
// neither their memory nor their time is the server's main thread's. Each library is loaded the
// first time a document of its kind comes.

import { ExtractionError, normaliseText } from './extracted-text.js';

/** One document to read: the bytes of a PDF or DOCX, or the decoded text of an HTML page. */
export type DocumentJob =
  | { readonly kind: 'pdf' | 'docx'; readonly bytes: Uint8Array }
  | { readonly kind: 'html'; readonly html: string };

export async function extractDocument(job: DocumentJob): Promise<string> {
  switch (job.kind) {
    case 'pdf':
      return fromPdf(job.bytes);
    case 'docx':
      return fromDocx(job.bytes);
    case 'html':
      return normaliseText(await fromHtml(job.html));
  }
}

async function fromPdf(bytes: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pages: string[];
  try {
    // pdf.js may detach the buffer it is given: hand it a copy.
    // verbosity 0: pdf.js reports errors only (its warnings about damaged files went to stdout).
    const document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    try {
      pages = (await extractText(document, { mergePages: false })).text;
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
  const text = normaliseText(pages.join('\n\n'));
  if (text.trim() === '' && pages.length > 0) {
    throw new ExtractionError(
      'invalid_file',
      'The PDF has no text layer (a scanned document needs OCR, which retrieval does not do).',
    );
  }
  return text;
}

async function fromDocx(bytes: Uint8Array): Promise<string> {
  const { default: mammoth } = await import('mammoth');
  try {
    const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    return normaliseText(result.value);
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

async function fromHtml(html: string): Promise<string> {
  const [{ JSDOM }, { Readability }] = await Promise.all([import('jsdom'), import('@mozilla/readability')]);
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
