import { threadId as mainThreadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DocumentExtractionThread } from './document-extraction-thread.js';
import { ExtractionError } from './extracted-text.js';
import { makeDocx, makeHtml, makePdf } from './test-support/documents.js';

const threads: DocumentExtractionThread[] = [];
function thread(options: ConstructorParameters<typeof DocumentExtractionThread>[0] = {}) {
  const started = new DocumentExtractionThread(options);
  threads.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(threads.splice(0).map((started) => started.close()));
});

const article = (topic: string) =>
  makeHtml(`About ${topic}`, [
    `${topic} is the subject of this page, described at length in this paragraph. `.repeat(4),
    `More about ${topic} follows here, with details a reader would look for. `.repeat(4),
  ]);

describe('DocumentExtractionThread', () => {
  it('reads a PDF, a DOCX and an HTML page in a thread of its own, not the main one', async () => {
    const documents = thread();
    expect(documents.threadId).toBeUndefined();
    const pdf = await documents.extract({ kind: 'pdf', bytes: await makePdf(['A page about pelicans.']) });
    expect(pdf).toContain('A page about pelicans.');
    expect(documents.threadId).toEqual(expect.any(Number));
    expect(documents.threadId).not.toBe(mainThreadId);
    const docx = await documents.extract({
      kind: 'docx',
      bytes: await makeDocx(['Minutes of the meeting.']),
    });
    expect(docx).toContain('Minutes of the meeting.');
    const html = await documents.extract({ kind: 'html', html: article('Otters') });
    expect(html).toMatch(/^About Otters\n\nOtters is the subject/);
  });

  it('answers each of several documents read at once with its own text', async () => {
    const documents = thread();
    const topics = ['Herons', 'Badgers', 'Lynxes', 'Beavers'];
    const texts = await Promise.all([
      ...topics.map((topic) => documents.extract({ kind: 'html', html: article(topic) })),
      makePdf(['The PDF among them.']).then((bytes) => documents.extract({ kind: 'pdf', bytes })),
    ]);
    topics.forEach((topic, index) => {
      expect(texts[index]).toContain(`${topic} is the subject`);
      for (const other of topics) if (other !== topic) expect(texts[index]).not.toContain(other);
    });
    expect(texts[4]).toContain('The PDF among them.');
  });

  it('says clearly why a file cannot be read, and reads the next one', async () => {
    const documents = thread();
    const brokenPdf = documents.extract({
      kind: 'pdf',
      bytes: new TextEncoder().encode('%PDF-1.7\nthis is not really a pdf'),
    });
    await expect(brokenPdf).rejects.toBeInstanceOf(ExtractionError);
    await expect(brokenPdf).rejects.toMatchObject({
      code: 'invalid_file',
      message: expect.stringMatching(/^The PDF could not be read: /),
    });
    const brokenDocx = documents.extract({ kind: 'docx', bytes: new TextEncoder().encode('not a zip') });
    await expect(brokenDocx).rejects.toMatchObject({
      code: 'invalid_file',
      message: expect.stringMatching(/^The Word document could not be read/),
    });
    expect(await documents.extract({ kind: 'docx', bytes: await makeDocx(['Still reading.']) })).toContain(
      'Still reading.',
    );
  });

  it('stops when idle, giving its memory back, and starts again for the next document', async () => {
    const documents = thread({ idleMs: 20 });
    await documents.extract({ kind: 'html', html: article('Storks') });
    const first = documents.threadId;
    expect(first).toEqual(expect.any(Number));
    await expect.poll(() => documents.threadId).toBeUndefined();
    expect(await documents.extract({ kind: 'html', html: article('Cranes') })).toContain('Cranes');
    expect(documents.threadId).not.toBe(first);
  });

  it('fails a document too big for its memory with a clear reason, and reads the next one', async () => {
    const documents = thread({ maxHeapMb: 64 });
    const huge = `<html><body>${'<div><p>A cell of a very large page.</p></div>'.repeat(400_000)}</body></html>`;
    const attempt = documents.extract({ kind: 'html', html: huge });
    await expect(attempt).rejects.toBeInstanceOf(ExtractionError);
    await expect(attempt).rejects.toMatchObject({
      code: 'invalid_file',
      message: expect.stringMatching(/too large or too complex to read/),
    });
    expect(await documents.extract({ kind: 'html', html: article('Ibises') })).toContain('Ibises');
  });
});
