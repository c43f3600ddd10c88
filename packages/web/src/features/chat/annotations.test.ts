import { describe, expect, it } from 'vitest';
import { linkAnnotations, plainText } from './annotations';
import type { Annotation, ChatNode } from './chat-api';

const citation = (text: string, whole: string, fileId: string): Annotation => ({
  type: 'file_citation',
  text,
  fileId,
  startIndex: whole.indexOf(text),
  endIndex: whole.indexOf(text) + text.length,
});

describe('annotations in an answer', () => {
  it('turns citation marks into links naming the file', () => {
    const text =
      'Holidays are 25 days【4:0†handbook.md】 and the board met Monday【4:1†minutes [draft].txt】.';
    const linked = linkAnnotations(text, [
      citation('【4:0†handbook.md】', text, 'file-a'),
      citation('【4:1†minutes [draft].txt】', text, 'file-b'),
    ]);
    expect(linked).toBe(
      'Holidays are 25 days [handbook.md](atelier:citation/file-a) and the board met Monday [minutes \\[draft\\].txt](atelier:citation/file-b).',
    );
  });

  it('points sandbox links at the file the code wrote, in a link or bare', () => {
    const text = 'Get [the CSV](sandbox:/mnt/data/out.csv) or sandbox:/mnt/data/chart.png';
    const path = (part: string, fileId: string): Annotation => ({
      type: 'file_path',
      text: part,
      fileId,
      startIndex: text.indexOf(part),
      endIndex: text.indexOf(part) + part.length,
    });
    expect(
      linkAnnotations(text, [
        path('sandbox:/mnt/data/out.csv', 'file-1'),
        path('sandbox:/mnt/data/chart.png', 'file-2'),
      ]),
    ).toBe('Get [the CSV](atelier:file/file-1) or [chart.png](atelier:file/file-2)');
  });

  it('leaves annotations past the text (still streaming) for later', () => {
    const text = 'Partial answer';
    expect(
      linkAnnotations(text, [
        { type: 'file_citation', text: '【1:0†x】', fileId: 'f', startIndex: 14, endIndex: 21 },
      ]),
    ).toBe(text);
  });

  it('copies an answer without its citation marks', () => {
    const text = 'Twenty-five days【4:0†handbook.md】.';
    const node = {
      parts: [{ type: 'text', text, annotations: [citation('【4:0†handbook.md】', text, 'file-a')] }],
    } as unknown as ChatNode;
    expect(plainText(node)).toBe('Twenty-five days.');
  });
});
