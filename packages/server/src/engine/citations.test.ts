import { describe, expect, it } from 'vitest';
import { annotate } from './citations.js';

const searches = [
  {
    turn: 0,
    results: [
      { fileId: 'file-a', fileName: 'a.md', score: 0.5, text: 'Alpha passage.' },
      { fileId: 'file-b', fileName: 'b.md', score: 0.9, text: 'Beta passage.' },
      { fileId: 'file-a', fileName: 'a.md', score: 0.7, text: 'Another alpha passage.' },
    ],
  },
];

describe('annotate', () => {
  it('turns the marks the model wrote into file citations at their exact place', () => {
    const text = 'See 【0:1†b.md】 and 【0:9†nowhere】.';
    const { suffix, annotations } = annotate({ text, searches, files: [] });
    expect(suffix).toBe('');
    expect(annotations).toEqual([
      {
        type: 'file_citation',
        text: '【0:1†b.md】',
        fileId: 'file-b',
        quote: 'Beta passage.',
        startIndex: 4,
        endIndex: 14,
      },
    ]);
    expect(text.slice(4, 14)).toBe('【0:1†b.md】');
  });

  it('cites the best passage of each file when the model cited nothing, best file first', () => {
    const { suffix, annotations } = annotate({ text: 'An answer.', searches, files: [] });
    expect(suffix).toBe(' 【0:1†b.md】【0:2†a.md】');
    const full = `An answer.${suffix}`;
    expect(
      annotations.map((annotation) => [
        annotation.fileId,
        full.slice(annotation.startIndex, annotation.endIndex),
      ]),
    ).toEqual([
      ['file-b', '【0:1†b.md】'],
      ['file-a', '【0:2†a.md】'],
    ]);
  });

  it('links sandbox paths to the files the code interpreter wrote', () => {
    const text = 'Download [it](sandbox:/mnt/data/out.csv).';
    const { annotations } = annotate({
      text,
      searches: [],
      files: [{ fileId: 'file-out', path: '/mnt/data/out.csv' }],
    });
    expect(annotations).toEqual([
      {
        type: 'file_path',
        text: 'sandbox:/mnt/data/out.csv',
        fileId: 'file-out',
        startIndex: 14,
        endIndex: 39,
      },
    ]);
  });
});
