// A small deterministic PRNG (xoshiro128**, seeded through splitmix32) for the test model's
// weights: the same seed and stream name give the same numbers on every machine and Node version.

const TWO_POW_32 = 4_294_967_296;
// Irwin–Hall with four 16-bit uniforms: the sum has variance 4 * 65536² / 12 = 65536² / 3.
const GAUSSIAN_SCALE = Math.sqrt(3) / 65_536;
const GAUSSIAN_MEAN = 2 * 65_535;

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * `seed` is a non-negative safe integer; `stream` names an independent sequence (e.g. a tensor
   * name), so each tensor can be generated on its own, in any order, without changing the others.
   */
  constructor(seed: number, stream = '') {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be a non-negative safe integer`);
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    let state = splitmix32Step(fnv1a32(stream) ^ Math.imul(high, 0x9e37_79b1));
    state = splitmix32Step(state ^ low);
    const next = (): number => {
      state = (state + 0x9e37_79b9) | 0;
      return splitmix32Mix(state);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // xoshiro's only bad state; splitmix makes it practically impossible, but it costs nothing.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * Approximately standard normal (mean 0, variance 1, bounded by ±2√3 ≈ ±3.46). Built from
   * integer arithmetic only: Math.log/Math.cos (Box–Muller) are not guaranteed to round the same
   * everywhere, and a byte-identical model file matters more here than perfect Gaussian tails.
   */
  nextGaussian(): number {
    const x = this.nextUint32();
    const y = this.nextUint32();
    const sum = (x & 0xffff) + (x >>> 16) + (y & 0xffff) + (y >>> 16);
    return (sum - GAUSSIAN_MEAN) * GAUSSIAN_SCALE;
  }
}

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

function splitmix32Mix(value: number): number {
  let z = value;
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) | 0;
}

function splitmix32Step(value: number): number {
  return splitmix32Mix((value + 0x9e37_79b9) | 0);
}

function fnv1a32(text: string): number {
  let hash = 0x811c_9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x0100_0193);
  }
  return hash | 0;
}
