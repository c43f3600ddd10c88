import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { chunkText, DEFAULT_CHUNKING, TooManyTokensError } from './chunk-text.js';

const words = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, index) => `word${index + offset}`).join(' ');

describe('chunkText', () => {
  it('cuts 800-token windows overlapping by 400 by default, each the exact text at its offsets', async () => {
    const text = words(3000);
    const { chunks, totalTokens } = await chunkText(text, DEFAULT_CHUNKING);
    expect(totalTokens).toBe(encode(text).length);
    expect(chunks.length).toBeGreaterThan(3);
    for (const [index, chunk] of chunks.entries()) {
      expect(chunk.index).toBe(index);
      expect(chunk.text).toBe(text.slice(chunk.startOffset, chunk.endOffset));
      expect(chunk.tokenCount).toBeLessThanOrEqual(800);
      expect(encode(chunk.text).length).toBeLessThanOrEqual(800);
    }
    // Neighbours share about 400 tokens, and the chunks cover the whole text.
    for (let index = 1; index < chunks.length; index++) {
      const shared = chunks[index - 1]!.endOffset - chunks[index]!.startOffset;
      expect(
        encode(text.slice(chunks[index]!.startOffset, chunks[index - 1]!.endOffset)).length,
      ).toBeGreaterThan(380);
      expect(shared).toBeGreaterThan(0);
    }
    expect(chunks[0]!.startOffset).toBe(0);
    expect(chunks.at(-1)!.endOffset).toBe(text.length);
    expect(chunks.slice(0, -1).every((chunk) => chunk.tokenCount > 780)).toBe(true);
  });

  it('honours a static strategy, and without overlap the chunks tile the text', async () => {
    const text = words(1000);
    const { chunks } = await chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 });
    expect(chunks.every((chunk) => chunk.tokenCount <= 100)).toBe(true);
    for (let index = 1; index < chunks.length; index++) {
      expect(chunks[index]!.startOffset).toBeGreaterThanOrEqual(chunks[index - 1]!.endOffset);
    }
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(text);
  });

  it('returns one chunk for a short text, none for blank text', async () => {
    expect((await chunkText('  Just a line.\n', DEFAULT_CHUNKING)).chunks).toEqual([
      { index: 0, startOffset: 2, endOffset: 14, tokenCount: expect.any(Number), text: 'Just a line.' },
    ]);
    expect((await chunkText(' \n\n ', DEFAULT_CHUNKING)).chunks).toEqual([]);
  });

  it('splits a run without breaks longer than a chunk, and keeps offsets right around emoji and accents', async () => {
    const run = 'x'.repeat(20_000);
    const text = `Café 😀 ${run} fin`;
    const { chunks } = await chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.text).toBe(text.slice(chunk.startOffset, chunk.endOffset));
      expect(chunk.tokenCount).toBeLessThanOrEqual(100);
    }
    expect(chunks[0]!.text.startsWith('Café 😀')).toBe(true);
    expect(chunks.at(-1)!.text.endsWith('fin')).toBe(true);
  });

  it('treats special-token text as text, and lone surrogates as U+FFFD', async () => {
    const { chunks } = await chunkText('a <|endoftext|> b \ud800 c', DEFAULT_CHUNKING);
    expect(chunks[0]!.text).toBe('a <|endoftext|> b \ufffd c');
  });

  it('refuses text beyond the token limit', async () => {
    await expect(chunkText(words(2000), DEFAULT_CHUNKING, { maxTotalTokens: 1000 })).rejects.toBeInstanceOf(
      TooManyTokensError,
    );
  });
});
