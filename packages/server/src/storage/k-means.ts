// Spherical k-means for the inverted-file vector index: centroids of unit vectors, compared by
// dot product (cosine). Work is sliced with pauses so training never holds the event loop long.

/** A unit-length copy (a zero vector stays zero). */
export function normalized(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let index = 0; index < vector.length; index++) norm += vector[index]! * vector[index]!;
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  const scale = 1 / Math.sqrt(norm);
  for (let index = 0; index < vector.length; index++) out[index] = vector[index]! * scale;
  return out;
}

/** Dot product of `vector` with row `row` of the flat matrix `rows` (width `vector.length`). */
export function dotRow(vector: Float32Array, rows: Float32Array, row: number): number {
  const width = vector.length;
  const offset = row * width;
  let sum = 0;
  for (let index = 0; index < width; index++) sum += vector[index]! * rows[offset + index]!;
  return sum;
}

/** Index of the centroid closest to `vector` (a unit vector). */
export function nearestCentroid(vector: Float32Array, centroids: Float32Array): number {
  const count = centroids.length / vector.length;
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let row = 0; row < count; row++) {
    const score = dotRow(vector, centroids, row);
    if (score > bestScore) {
      bestScore = score;
      best = row;
    }
  }
  return best;
}

/** The `probes` centroids closest to `vector`, closest first. */
export function nearestCentroids(vector: Float32Array, centroids: Float32Array, probes: number): number[] {
  const count = centroids.length / vector.length;
  const scores = Array.from({ length: count }, (_, row) => ({ row, score: dotRow(vector, centroids, row) }));
  scores.sort((left, right) => right.score - left.score);
  return scores.slice(0, probes).map((entry) => entry.row);
}

export interface TrainOptions {
  readonly iterations?: number;
  readonly seed?: number;
  /** Pause for the event loop after this many vector-centroid assignments. */
  readonly sliceSize?: number;
}

/** `k` centroids (a flat k × width matrix) from unit-vector samples. */
export async function trainCentroids(
  samples: readonly Float32Array[],
  k: number,
  { iterations = 8, seed = 1, sliceSize = 500 }: TrainOptions = {},
): Promise<Float32Array> {
  const width = samples[0]?.length ?? 0;
  const clusters = Math.min(k, samples.length);
  const centroids = new Float32Array(clusters * width);
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
  // Distinct random samples as the starting centroids.
  const order = samples.map((_, index) => index);
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other]!, order[index]!];
  }
  for (let row = 0; row < clusters; row++) centroids.set(samples[order[row]!]!, row * width);

  const assignment = new Int32Array(samples.length);
  for (let iteration = 0; iteration < iterations; iteration++) {
    for (let index = 0; index < samples.length; index++) {
      assignment[index] = nearestCentroid(samples[index]!, centroids);
      if (index % sliceSize === sliceSize - 1) await pause();
    }
    const sums = new Float64Array(clusters * width);
    const sizes = new Int32Array(clusters);
    for (let index = 0; index < samples.length; index++) {
      const row = assignment[index]!;
      sizes[row]!++;
      const sample = samples[index]!;
      for (let dimension = 0; dimension < width; dimension++)
        sums[row * width + dimension]! += sample[dimension]!;
    }
    for (let row = 0; row < clusters; row++) {
      // An empty cluster restarts from a random sample.
      const mean =
        sizes[row] === 0
          ? samples[Math.floor(random() * samples.length)]!
          : Float32Array.from(sums.subarray(row * width, (row + 1) * width));
      centroids.set(normalized(mean), row * width);
    }
  }
  return centroids;
}

function pause(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
