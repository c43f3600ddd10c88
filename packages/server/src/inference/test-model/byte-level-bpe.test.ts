// Checks the BPE trainer behind the test model's vocabulary: GPT-2's byte alphabet, merges learned
// by frequency within pre-tokenized words, and a result that depends on nothing but the text.
import { describe, expect, it } from 'vitest';
import { bytesToUnicode, PRE_TOKENIZER_PATTERN, toByteSymbols, trainByteLevelBpe } from './byte-level-bpe.js';
import { TRAINING_TEXT } from './training-text.js';

describe('bytesToUnicode', () => {
  it('maps the 256 bytes to distinct printable symbols, keeping printable ASCII as is', () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table.every((symbol) => /^\S$/u.test(symbol))).toBe(true);
    expect(table[0x41]).toBe('A');
    expect(table[0x20]).toBe('Ġ');
    expect(table[0x0a]).toBe('Ċ');
    expect(toByteSymbols('é')).toEqual(['Ã', '©']);
  });
});

describe('trainByteLevelBpe', () => {
  it('merges the most frequent pair first and never across pre-tokenizer pieces', () => {
    const { merges, tokens, tokenCounts } = trainByteLevelBpe({
      text: 'low low low lower lowest',
      maxMerges: 10,
    });
    expect(merges[0]).toBe('l o');
    expect(merges.some((merge) => merge.startsWith('Ġ') && merge.includes('w Ġ'))).toBe(false);
    expect(tokens).toEqual(expect.arrayContaining(['Ġlow', 'Ġlowe']));
    // Only pairs seen at least twice are merged: "lower" and "lowest" share "Ġlowe" and no more.
    expect(tokens).not.toContain('Ġlower');
    expect(tokenCounts[tokens.indexOf('Ġlow')]).toBe(2);
    expect(tokenCounts[tokens.indexOf('Ġlowe')]).toBe(2);
    expect(tokenCounts[tokens.indexOf('low')]).toBe(1);
  });

  it('learns a few hundred merges from the training text, deterministically, without duplicate tokens', () => {
    const first = trainByteLevelBpe({ text: TRAINING_TEXT, maxMerges: 1000 });
    const second = trainByteLevelBpe({ text: TRAINING_TEXT, maxMerges: 1000 });
    expect(second).toEqual(first);
    expect(first.merges.length).toBeGreaterThan(200);
    expect(new Set(first.tokens).size).toBe(first.tokens.length);
    expect(first.tokens).toEqual(expect.arrayContaining(['Ġthe', 'Ġand', 'Ġassistant']));
    expect(trainByteLevelBpe({ text: TRAINING_TEXT, maxMerges: 50 }).merges).toEqual(
      first.merges.slice(0, 50),
    );
  });

  it('pre-tokenizes like Qwen2: contractions, words with their leading space, single digits', () => {
    const pieces = [..."It's 2024, isn't it?\n\n  ok".matchAll(PRE_TOKENIZER_PATTERN)].map(
      ([piece]) => piece,
    );
    expect(pieces).toEqual([
      'It',
      "'s",
      ' ',
      '2',
      '0',
      '2',
      '4',
      ',',
      ' isn',
      "'t",
      ' it',
      '?\n\n',
      ' ',
      ' ok',
    ]);
  });
});
