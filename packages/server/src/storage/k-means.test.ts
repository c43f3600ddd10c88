import { describe, expect, it } from 'vitest';
import { nearestCentroid, nearestCentroids, normalized, trainCentroids } from './k-means.js';

/** Points around `centres` (unit vectors), with a little noise. */
function clustered(centres: readonly number[][], perCentre: number): Float32Array[] {
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 0.1;
  };
  return centres.flatMap((centre) =>
    Array.from({ length: perCentre }, () =>
      normalized(Float32Array.from(centre.map((value) => value + noise()))),
    ),
  );
}

describe('k-means', () => {
  it('normalises to unit length and leaves a zero vector alone', () => {
    expect(Array.from(normalized(Float32Array.from([3, 4])))).toEqual([
      0.6000000238418579, 0.800000011920929,
    ]);
    expect(Array.from(normalized(new Float32Array(2)))).toEqual([0, 0]);
  });

  it('finds the clusters, and assigns each point to its own', async () => {
    const centres = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const samples = clustered(centres, 50);
    const centroids = await trainCentroids(samples, 3, { iterations: 10, sliceSize: 7 });
    const cellOf = centres.map((centre) => nearestCentroid(Float32Array.from(centre), centroids));
    expect(new Set(cellOf).size).toBe(3);
    for (const [index, sample] of samples.entries()) {
      expect(nearestCentroid(sample, centroids)).toBe(cellOf[Math.floor(index / 50)]);
    }
    expect(nearestCentroids(Float32Array.from([1, 0, 0]), centroids, 2)[0]).toBe(cellOf[0]);
    expect(nearestCentroids(Float32Array.from([1, 0, 0]), centroids, 5)).toHaveLength(3);
  });

  it('makes no more clusters than samples', async () => {
    const centroids = await trainCentroids(clustered([[1, 0]], 2), 8);
    expect(centroids.length).toBe(2 * 2);
  });
});
