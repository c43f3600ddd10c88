import { describe, expect, it } from 'vitest';
import { fuseRankings, maxFusedScore, RRF_K } from './reciprocal-rank-fusion.js';

describe('fuseRankings', () => {
  it('sums 1/(k + rank) over the lists, best first', () => {
    const fused = fuseRankings([
      ['a', 'b', 'c'],
      ['c', 'a'],
    ]);
    expect(fused.map((item) => item.key)).toEqual(['a', 'c', 'b']);
    expect(fused[0]).toEqual({ key: 'a', score: 1 / (RRF_K + 1) + 1 / (RRF_K + 2), ranks: [1, 2] });
    expect(fused[2]).toEqual({ key: 'b', score: 1 / (RRF_K + 2), ranks: [2, null] });
  });

  it('prefers an item found by both searches to one ranked high by one only', () => {
    const fused = fuseRankings([
      ['keyword-only', 'both'],
      ['vector-only', 'both'],
    ]);
    expect(fused[0]!.key).toBe('both');
  });

  it('counts a repeated key once per list, and its best score is 1 after dividing by the maximum', () => {
    const fused = fuseRankings([['a', 'a'], ['a']]);
    expect(fused).toHaveLength(1);
    expect(fused[0]!.score / maxFusedScore(2)).toBeCloseTo(1, 10);
  });
});
