import { describe, expect, it } from 'vitest';
import { ExtractionError, extractText } from './extract-text.js';
import { makeDocx, makeHtml, makeImageOnlyPdf, makePdf } from './test-support/documents.js';

const text = (value: string) => new TextEncoder().encode(value);

describe('extractText', () => {
  it('reads every page of a PDF, in order', async () => {
    const paragraphs = Array.from(
      { length: 30 },
      (_, index) => `Paragraph ${index} tells about topic number ${index}.`,
    );
    const bytes = await makePdf(paragraphs, { linesPerPage: 20 });
    const extracted = await extractText({ bytes, filename: 'report.pdf' });
    expect(extracted.format).toBe('pdf');
    expect(extracted.text).toContain('Paragraph 0 tells about topic number 0.');
    expect(extracted.text).toContain('Paragraph 29 tells about topic number 29.');
    expect(extracted.text.indexOf('Paragraph 29')).toBeGreaterThan(extracted.text.indexOf('Paragraph 28'));
  });

  it('recognises a PDF by its signature whatever its name', async () => {
    const bytes = await makePdf(['Signed, sealed, delivered.']);
    expect((await extractText({ bytes, filename: 'download' })).format).toBe('pdf');
  });

  it('reads the paragraphs of a DOCX', async () => {
    const bytes = await makeDocx(['First paragraph & more.', 'Second <paragraph>.']);
    const extracted = await extractText({ bytes, filename: 'memo.docx' });
    expect(extracted).toEqual({ format: 'docx', text: expect.stringContaining('First paragraph & more.') });
    expect(extracted.text).toMatch(/First paragraph & more\.\s+Second <paragraph>\./);
  });

  it('keeps the article of an HTML page, as lines, without scripts, styles or navigation', async () => {
    const html = makeHtml('The Lighthouse', [
      'The lighthouse was built in 1871 on the northern cape, and its lamp burned whale oil at first. '.repeat(
        3,
      ),
      'Keepers lived in the cottage beside it until the light was automated in 1964. '.repeat(3),
    ]);
    const extracted = await extractText({ bytes: text(html), filename: 'page.html' });
    expect(extracted.format).toBe('html');
    expect(extracted.text).toContain('The lighthouse was built in 1871');
    expect(extracted.text).toContain('automated in 1964');
    expect(extracted.text).not.toContain('script text');
    expect(extracted.text).not.toContain('color:red');
    expect(extracted.text).toMatch(/1871[^\n]*\n+Keepers/);
  });

  it('keeps the whole page when it is not an article (a table of facts)', async () => {
    const html =
      '<html><body><table><tr><th>Part</th><th>Weight</th></tr><tr><td>Gear</td><td>12 kg</td></tr></table></body></html>';
    const extracted = await extractText({ bytes: text(html), filename: 'parts.htm' });
    expect(extracted.text).toContain('Gear\t12 kg');
  });

  it.each([
    ['notes.md', '# Title\n\nSome *markdown* text.'],
    ['data.csv', 'name,age\r\nAda,36\r\n'],
    ['config.json', '{"key": "value", "list": [1, 2]}'],
    ['main.py', 'def main():\n    print("hello")\n'],
    ['App.tsx', 'export const App = () => <div>Hi</div>;\n'],
    ['README', 'No extension, still text.'],
  ])('reads %s as text (line ends made Unix)', async (filename, content) => {
    const extracted = await extractText({ bytes: text(content), filename });
    expect(extracted).toEqual({ format: 'text', text: content.replaceAll('\r\n', '\n') });
  });

  it('decodes UTF-16 with a byte-order mark, and Windows-1252 that is not UTF-8', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße aus Köln', 'utf16le')]);
    expect((await extractText({ bytes: utf16, filename: 'a.txt' })).text).toBe('Grüße aus Köln');
    const latin = Buffer.from('caf\xe9 cr\xe8me', 'latin1');
    expect((await extractText({ bytes: latin, filename: 'b.txt' })).text).toBe('café crème');
  });

  it.each([
    [
      'photo.png',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]),
      'unsupported_file',
      /\.png are not supported/,
    ],
    ['blob.dat', new Uint8Array([1, 2, 3, 0, 5, 6]), 'unsupported_file', /does not look like text/],
    ['broken.pdf', text('%PDF-1.7\nthis is not really a pdf'), 'invalid_file', /The PDF could not be read/],
    ['broken.docx', text('not a zip at all'), 'invalid_file', /Word document could not be read/],
  ])('refuses %s with a clear reason', async (filename, bytes, code, message) => {
    const attempt = extractText({ bytes, filename });
    await expect(attempt).rejects.toBeInstanceOf(ExtractionError);
    await expect(attempt).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('says a PDF without a text layer needs OCR', async () => {
    const attempt = extractText({ bytes: await makeImageOnlyPdf(), filename: 'scan.pdf' });
    await expect(attempt).rejects.toMatchObject({
      code: 'invalid_file',
      message: expect.stringMatching(/OCR/),
    });
  });
});
