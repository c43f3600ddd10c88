// Checks the test model's PRNG: reproducible per (seed, stream), independent across streams, and
// close enough to a standard normal for weight initialisation.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random.js';

const take = (random: SeededRandom, count: number) =>
  Array.from({ length: count }, () => random.nextUint32());

describe('SeededRandom', () => {
  it('repeats for the same seed and stream and differs otherwise', () => {
    expect(take(new SeededRandom(42, 'a'), 8)).toEqual(take(new SeededRandom(42, 'a'), 8));
    expect(take(new SeededRandom(42, 'a'), 8)).not.toEqual(take(new SeededRandom(43, 'a'), 8));
    expect(take(new SeededRandom(42, 'a'), 8)).not.toEqual(take(new SeededRandom(42, 'b'), 8));
    expect(take(new SeededRandom(2 ** 40, ''), 8)).not.toEqual(take(new SeededRandom(0, ''), 8));
  });

  it('pins its output, since model files must stay byte-identical across versions', () => {
    expect(take(new SeededRandom(0, 'token_embd.weight'), 3)).toEqual([
      737_443_199, 4_218_898_085, 3_879_852_101,
    ]);
  });

  it('draws approximately standard normal values and uniform floats', () => {
    const random = new SeededRandom(1, 'stats');
    const values = Array.from({ length: 100_000 }, () => random.nextGaussian());
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(2 * Math.sqrt(3));
    const floats = Array.from({ length: 10_000 }, () => random.nextFloat());
    expect(floats.every((value) => value >= 0 && value < 1)).toBe(true);
  });

  it('rejects seeds that are not non-negative safe integers', () => {
    expect(() => new SeededRandom(-1)).toThrow(RangeError);
    expect(() => new SeededRandom(1.5)).toThrow(RangeError);
  });
});
