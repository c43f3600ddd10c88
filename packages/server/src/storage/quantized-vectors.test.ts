import { describe, expect, it } from 'vitest';
import { createInt8DotKernel } from './int8-dot-kernel.js';
import { createQuantizedVectors, type QuantizedVectors } from './quantized-vectors.js';

/** Deterministic numbers in [-0.5, 0.5). */
function randomSource(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
}

function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum / Math.sqrt(dot1(left) * dot1(right));
}

function dot1(vector: Float32Array): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return sum;
}

/** The `count` ids of the vectors most similar (cosine) to `query`, by brute force. */
function bruteForce(vectors: ReadonlyMap<number, Float32Array>, query: Float32Array, count: number) {
  return [...vectors.entries()]
    .map(([id, vector]) => ({ id, score: dot(query, vector) }))
    .sort((left, right) => right.score - left.score)
    .slice(0, count)
    .map((entry) => entry.id);
}

describe('int8 dot-product kernel', () => {
  it('computes each row’s dot product with the weights, times the row’s scale', () => {
    const kernel = createInt8DotKernel();
    expect(kernel).not.toBeNull();
    const { memory, score } = kernel!;
    const width = 48;
    const rows = 7;
    memory.grow(1);
    const weights = new Int16Array(memory.buffer, 0, width);
    const codes = new Int8Array(memory.buffer, 128, rows * width);
    const scales = new Float32Array(memory.buffer, 128 + rows * width, rows);
    const out = new Float32Array(memory.buffer, 128 + rows * width + rows * 4, rows);
    const random = randomSource(5);
    for (let index = 0; index < width; index++) weights[index] = Math.round(random() * 65_000);
    for (let index = 0; index < codes.length; index++) codes[index] = Math.round(random() * 254);
    for (let row = 0; row < rows; row++) scales[row] = row === 3 ? 0 : 0.25 + row;
    // The extremes too: they must not overflow.
    codes.fill(-128, 0, width);
    weights.fill(-32_768, 0, 8);
    score(128, 128 + rows * width, 0, 128 + rows * width + rows * 4, rows, width);
    for (let row = 0; row < rows; row++) {
      let expected = 0;
      for (let index = 0; index < width; index++) expected += weights[index]! * codes[row * width + index]!;
      expect(out[row]).toBe(Math.fround(Math.fround(expected) * scales[row]!));
    }
  });
});

describe('quantized vectors', () => {
  const dimensions = 40;
  const random = randomSource(11);
  // A large shared component and a little of a few directions: little structure, like many
  // embedding models' output.
  const common = Float32Array.from({ length: dimensions }, () => 1 + random());
  const directions = Array.from({ length: 6 }, () => Float32Array.from({ length: dimensions }, random));
  const make = (index: number) =>
    Float32Array.from(
      common,
      (value, dimension) => value + 0.3 * directions[index % 6]![dimension]! + 0.2 * random(),
    );
  const stored = new Map<number, Float32Array>();
  for (let index = 0; index < 3000; index++) stored.set(index + 1, make(index));

  function filled(): QuantizedVectors {
    const vectors = createQuantizedVectors({ dimensions })!;
    const all = [...stored.entries()].map(([chunkId, embedding]) => ({ chunkId, embedding }));
    for (let start = 0; start < all.length; start += 500) vectors.set(all.slice(start, start + 500));
    return vectors;
  }

  it('ranks nearly all true nearest neighbours among its first twice as many', () => {
    const vectors = filled();
    expect(vectors.size).toBe(3000);
    let recall = 0;
    for (let round = 0; round < 30; round++) {
      const query = make(round * 7 + 1);
      const truth = new Set(bruteForce(stored, query, 10));
      const found = vectors.nearest(query, 20);
      expect(found).toHaveLength(20);
      recall += found.filter((id) => truth.has(id)).length / 10;
    }
    expect(recall / 30).toBeGreaterThanOrEqual(0.97);
  });

  it('replaces a row given again, forgets deleted rows, and keeps the rest after compacting', () => {
    const vectors = filled();
    const target = make(5);
    vectors.set([{ chunkId: 2, embedding: target }]);
    expect(vectors.size).toBe(3000);
    expect(vectors.nearest(target, 1)).toEqual([2]);

    // Enough deletions to compact the rows.
    const deleted = [...stored.keys()].filter((id) => id % 3 === 0);
    vectors.delete([...deleted, 123_456]);
    expect(vectors.size).toBe(3000 - deleted.length);
    const left = new Map([...stored].filter(([id]) => id % 3 !== 0));
    left.set(2, target);
    const found = vectors.nearest(make(9), 3000);
    expect(found).toHaveLength(left.size);
    expect(new Set(found)).toEqual(new Set(left.keys()));
    for (const [id, vector] of [...left].slice(0, 50)) {
      expect(vectors.nearest(vector, 3)).toContain(id);
    }
  });

  it('answers an empty or zero query without error', () => {
    const vectors = createQuantizedVectors({ dimensions })!;
    expect(vectors.nearest(make(1), 5)).toEqual([]);
    vectors.set([{ chunkId: 1, embedding: make(1) }]);
    expect(vectors.nearest(new Float32Array(dimensions), 5)).toEqual([1]);
    expect(vectors.nearest(make(1), 0)).toEqual([]);
  });
});
