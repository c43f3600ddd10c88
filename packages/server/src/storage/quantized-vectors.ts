// One vector store's embeddings held in memory as int8 codes, for a fast first pass of vector
// search. Each unit-length vector is centred and scaled per dimension (by the mean and spread of
// the first vectors given: embeddings often share a large common direction, and some dimensions
// vary much more than others), then stored as 8-bit steps of its own largest value, with that
// value kept as the row's scale. A query is scored against every row by the WebAssembly kernel.
// Scores rank rows by their dot product with the query up to the rounding of the codes, which is
// why the index re-ranks the best few of them exactly from the stored float vectors.

import { createInt8DotKernel, type Int8DotKernel, KERNEL_WIDTH_MULTIPLE } from './int8-dot-kernel.js';

export interface QuantizedVectors {
  /** Live rows. */
  readonly size: number;
  /** Memory held, in bytes. */
  readonly byteLength: number;
  /** Adds or replaces rows (the first rows given also set each dimension's centre and spread). */
  set(entries: readonly { readonly chunkId: number; readonly embedding: Float32Array }[]): void;
  delete(chunkIds: Iterable<number>): void;
  /** The chunk ids of the `count` rows that score best against `query`, best first. */
  nearest(query: Float32Array, count: number): number[];
}

/** Null where WebAssembly SIMD is not available. */
export function createQuantizedVectors({
  dimensions,
}: {
  readonly dimensions: number;
}): QuantizedVectors | null {
  const kernel = createInt8DotKernel();
  if (!kernel) return null;
  return quantizedVectors(kernel, dimensions);
}

const PAGE_BYTES = 65_536;
const MIN_CAPACITY = 1024;
const LEVELS = 127;

function quantizedVectors(kernel: Int8DotKernel, dimensions: number): QuantizedVectors {
  const width = Math.ceil(dimensions / KERNEL_WIDTH_MULTIPLE) * KERNEL_WIDTH_MULTIPLE;
  // Memory: the query's weights (int16), the codes (capacity × width int8), the rows' scales
  // (float32), the scores (float32).
  const queryBytes = Math.ceil((width * 2) / 16) * 16;
  // |weight| × 127 × width must stay within int32, whatever the codes.
  const weightScale = Math.min(32_767, Math.floor((2 ** 31 - 1) / (LEVELS * width)));
  let capacity = 0;
  let rows = 0;
  let dead = 0;
  let chunkIds = new Float64Array(0);
  const slotOf = new Map<number, number>();
  let centre: Float64Array | null = null;
  let spread: Float64Array | null = null;

  const scalesOffset = (rowsCapacity = capacity) => queryBytes + rowsCapacity * width;
  const scoresOffset = () => scalesOffset() + capacity * 4;

  function reserve(needed: number) {
    if (needed <= capacity) return;
    const next = Math.max(MIN_CAPACITY, Math.ceil(needed * 1.5));
    const bytes = queryBytes + next * (width + 8);
    const pages = Math.ceil(bytes / PAGE_BYTES) - kernel.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > 0) kernel.memory.grow(pages);
    // The codes stay where they are; the scales move up behind the longer codes.
    new Uint8Array(kernel.memory.buffer).copyWithin(
      scalesOffset(next),
      scalesOffset(),
      scalesOffset() + rows * 4,
    );
    const ids = new Float64Array(next);
    ids.set(chunkIds.subarray(0, rows));
    chunkIds = ids;
    capacity = next;
  }

  function calibrate(sample: readonly Float32Array[]) {
    const mean = new Float64Array(dimensions);
    const deviation = new Float64Array(dimensions);
    for (const vector of sample) {
      for (let dimension = 0; dimension < dimensions; dimension++) mean[dimension]! += vector[dimension]!;
    }
    for (let dimension = 0; dimension < dimensions; dimension++) mean[dimension]! /= sample.length;
    for (const vector of sample) {
      for (let dimension = 0; dimension < dimensions; dimension++) {
        deviation[dimension]! += (vector[dimension]! - mean[dimension]!) ** 2;
      }
    }
    let average = 0;
    for (let dimension = 0; dimension < dimensions; dimension++) {
      deviation[dimension] = Math.sqrt(deviation[dimension]! / sample.length);
      average += deviation[dimension]! / dimensions;
    }
    // A dimension that did not vary in the sample must not blow up later values.
    const floor = Math.max(average * 0.05, 1e-6);
    for (let dimension = 0; dimension < dimensions; dimension++) {
      deviation[dimension] = Math.max(deviation[dimension]!, floor);
    }
    centre = mean;
    spread = deviation;
  }

  const standard = new Float64Array(dimensions);
  function encode(slot: number, unit: Float32Array) {
    let largest = 0;
    for (let dimension = 0; dimension < dimensions; dimension++) {
      standard[dimension] = (unit[dimension]! - centre![dimension]!) / spread![dimension]!;
      largest = Math.max(largest, Math.abs(standard[dimension]!));
    }
    const row = new Int8Array(kernel.memory.buffer, queryBytes + slot * width, width);
    const step = largest / LEVELS;
    for (let dimension = 0; dimension < dimensions; dimension++) {
      row[dimension] = step === 0 ? 0 : Math.round(standard[dimension]! / step);
    }
    new Float32Array(kernel.memory.buffer, scalesOffset(), capacity)[slot] = step;
  }

  /** Moves live rows down over dead ones once a quarter of the rows are dead. */
  function compact() {
    if (dead < 256 || dead * 4 < rows) return;
    const codes = new Int8Array(kernel.memory.buffer, queryBytes, capacity * width);
    const scales = new Float32Array(kernel.memory.buffer, scalesOffset(), capacity);
    let to = 0;
    for (let from = 0; from < rows; from++) {
      const chunkId = chunkIds[from]!;
      if (chunkId < 0) continue;
      if (to !== from) {
        codes.copyWithin(to * width, from * width, from * width + width);
        scales[to] = scales[from]!;
        chunkIds[to] = chunkId;
        slotOf.set(chunkId, to);
      }
      to++;
    }
    rows = to;
    dead = 0;
  }

  return {
    get size() {
      return rows - dead;
    },
    get byteLength() {
      return kernel.memory.buffer.byteLength + chunkIds.byteLength;
    },

    set(entries) {
      if (entries.length === 0) return;
      const units = entries.map((entry) => unitVector(entry.embedding, dimensions));
      if (!centre) calibrate(units);
      reserve(rows + entries.length);
      for (const [index, entry] of entries.entries()) {
        let slot = slotOf.get(entry.chunkId);
        if (slot === undefined) {
          slot = rows++;
          slotOf.set(entry.chunkId, slot);
          chunkIds[slot] = entry.chunkId;
        }
        encode(slot, units[index]!);
      }
    },

    delete(ids) {
      for (const chunkId of ids) {
        const slot = slotOf.get(chunkId);
        if (slot === undefined) continue;
        slotOf.delete(chunkId);
        chunkIds[slot] = -1;
        dead++;
      }
      compact();
    },

    nearest(query, count) {
      if (rows - dead === 0 || count <= 0 || !spread) return [];
      // q·x = q·centre + Σ q × spread × standard ≈ constant + scale × Σ (q × spread) × code: the
      // codes weighted by q × spread, times the row's scale, rank rows as q·x does.
      const unit = unitVector(query, dimensions);
      const weights = new Float64Array(dimensions);
      let largest = 0;
      for (let dimension = 0; dimension < dimensions; dimension++) {
        weights[dimension] = unit[dimension]! * spread[dimension]!;
        largest = Math.max(largest, Math.abs(weights[dimension]!));
      }
      const query16 = new Int16Array(kernel.memory.buffer, 0, width);
      query16.fill(0);
      if (largest > 0) {
        for (let dimension = 0; dimension < dimensions; dimension++) {
          query16[dimension] = Math.round((weights[dimension]! / largest) * weightScale);
        }
      }
      kernel.score(queryBytes, scalesOffset(), 0, scoresOffset(), rows, width);
      const scores = new Float32Array(kernel.memory.buffer, scoresOffset(), rows);
      return best(scores, chunkIds, Math.min(count, rows - dead));
    },
  };
}

/** The chunk ids of the `count` highest scores among live rows (chunk id ≥ 0), best first. */
function best(scores: Float32Array, chunkIds: Float64Array, count: number): number[] {
  // A buffer of candidates at or above a threshold, cut back to the best `count` when it fills:
  // one pass, and a sort of a few hundred numbers now and then.
  let kept: number[] = [];
  let threshold = Number.NEGATIVE_INFINITY;
  const byScore = (left: number, right: number) => scores[right]! - scores[left]!;
  for (let slot = 0; slot < scores.length; slot++) {
    if (scores[slot]! < threshold || chunkIds[slot]! < 0) continue;
    kept.push(slot);
    if (kept.length >= count * 4 + 64) {
      kept.sort(byScore);
      kept = kept.slice(0, count);
      threshold = scores[kept[count - 1]!]!;
    }
  }
  kept.sort(byScore);
  return kept.slice(0, count).map((slot) => chunkIds[slot]!);
}

function unitVector(vector: Float32Array, dimensions: number): Float32Array {
  let norm = 0;
  for (let dimension = 0; dimension < dimensions; dimension++) norm += vector[dimension]! ** 2;
  const out = new Float32Array(dimensions);
  if (norm === 0) return out;
  const scale = 1 / Math.sqrt(norm);
  for (let dimension = 0; dimension < dimensions; dimension++) out[dimension] = vector[dimension]! * scale;
  return out;
}
