import { describe, expect, it } from 'vitest';
import { queryTerms } from './query-terms.js';

describe('queryTerms', () => {
  it('keeps content words, lower-cased, once, without punctuation or stop words', () => {
    expect(queryTerms('What is the WARRANTY period of the X-200 blender? The warranty!')).toEqual([
      'warranty',
      'period',
      'x',
      '200',
      'blender',
    ]);
  });

  it('keeps letters of any script and drops operator characters', () => {
    expect(queryTerms('Grüße "aus" Köln OR NEAR(東京) -minus *star')).toEqual([
      'grüße',
      'aus',
      'köln',
      'near',
      '東京',
      'minus',
      'star',
    ]);
  });

  it('falls back to the stop words when the query has nothing else', () => {
    expect(queryTerms('to be or not to be')).toEqual(['to', 'be', 'or', 'not']);
    expect(queryTerms('?!')).toEqual([]);
  });
});
