// Real documents of every type retrieval reads, built in memory for tests: a PDF (pdf-lib, with
// a text layer over several pages), a DOCX (a minimal OOXML package zipped by jszip), HTML,
// Markdown, CSV, JSON, source code and plain text.

import JSZip from 'jszip';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export async function makePdf(
  paragraphs: readonly string[],
  { linesPerPage = 40 } = {},
): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const lines = paragraphs.flatMap((paragraph) => [...wrap(paragraph, 90), '']);
  for (let start = 0; start < lines.length; start += linesPerPage) {
    const page = pdf.addPage([612, 792]);
    page.drawText(lines.slice(start, start + linesPerPage).join('\n'), {
      x: 50,
      y: 742,
      size: 10,
      font,
      lineHeight: 17,
    });
  }
  return pdf.save();
}

/** A PDF whose pages carry no text (what a scan looks like to a text extractor). */
export async function makeImageOnlyPdf(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const page = pdf.addPage([612, 792]);
  page.drawRectangle({ x: 50, y: 50, width: 200, height: 100 });
  return pdf.save();
}

export async function makeDocx(paragraphs: readonly string[]): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
      '</Types>',
  );
  zip.file(
    '_rels/.rels',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>' +
      '</Relationships>',
  );
  const body = paragraphs.map(
    (paragraph) => `<w:p><w:r><w:t xml:space="preserve">${escapeXml(paragraph)}</w:t></w:r></w:p>`,
  );
  zip.file(
    'word/document.xml',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
      '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' +
      `<w:body>${body.join('')}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: 'uint8array' });
}

export function makeHtml(title: string, paragraphs: readonly string[]): string {
  return `<!doctype html><html><head><title>${escapeXml(title)}</title><style>p{color:red}</style>
<script>var secret = "script text is not content";</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<article><h1>${escapeXml(title)}</h1>${paragraphs.map((paragraph) => `<p>${escapeXml(paragraph)}</p>`).join('\n')}</article>
<footer>Copyright</footer></body></html>`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
