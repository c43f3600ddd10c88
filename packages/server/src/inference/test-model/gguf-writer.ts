// Writes GGUF v3, llama.cpp's model format: typed metadata, tensor infos and aligned F32/F16 data,
// produced chunk by chunk so a multi-gigabyte benchmark model never sits in memory whole.
import { createHash, randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { AtelierError } from '../../errors.js';

export type GgufNumberType =
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'float32'
  | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';
export type GgufScalarType = GgufNumberType | GgufBigIntType | 'bool' | 'string';

export type GgufScalarValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint | number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string };

/** Arrays of arrays are legal GGUF, but nothing llama.cpp reads uses them, so they are left out. */
export type GgufArrayValue =
  | { readonly type: 'array'; readonly itemType: GgufNumberType; readonly values: readonly number[] }
  | {
      readonly type: 'array';
      readonly itemType: GgufBigIntType;
      readonly values: readonly (bigint | number)[];
    }
  | { readonly type: 'array'; readonly itemType: 'bool'; readonly values: readonly boolean[] }
  | { readonly type: 'array'; readonly itemType: 'string'; readonly values: readonly string[] };

export type GgufValue = GgufScalarValue | GgufArrayValue;

/** Keys in insertion order, which is the order they are written in. */
export type GgufMetadata = Readonly<Record<string, GgufValue>>;

export type GgufTensorType = 'f32' | 'f16';

export interface GgufTensor {
  /** At most 63 bytes (llama.cpp's GGML_MAX_NAME counts the terminating NUL). */
  readonly name: string;
  /** ggml order: `shape[0]` is the contiguous dimension (a weight's input size), 1 to 4 entries. */
  readonly shape: readonly number[];
  readonly type: GgufTensorType;
  /**
   * The values in storage order, in chunks of any size; called once, when the tensor's turn comes,
   * so generators can produce large tensors lazily.
   */
  readonly data: () => Iterable<Float32Array>;
}

export interface EncodeGgufOptions {
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensor[];
  /** Padding of the data section and of each tensor; also written as `general.alignment`. */
  readonly alignment?: number;
  /** Size of the chunks handed out for tensor data. */
  readonly chunkBytes?: number;
}

export interface WrittenGguf {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

const GGUF_MAGIC = 0x4655_4747; // "GGUF" read as a little-endian uint32
const GGUF_VERSION = 3;
const GGML_MAX_NAME = 64;
const GGML_MAX_DIMS = 4;

const VALUE_TYPE_IDS: Readonly<Record<GgufScalarType | 'array', number>> = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
};

const TENSOR_TYPES: Readonly<Record<GgufTensorType, { readonly id: number; readonly bytes: number }>> = {
  f32: { id: 0, bytes: 4 },
  f16: { id: 1, bytes: 2 },
};

const INTEGER_RANGES: Readonly<
  Record<Exclude<GgufNumberType, 'float32' | 'float64'>, readonly [number, number]>
> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffff_ffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
};

/** Constructors for metadata values, so call sites read like the GGUF spec. */
export const gguf = {
  uint8: (value: number): GgufValue => ({ type: 'uint8', value }),
  int8: (value: number): GgufValue => ({ type: 'int8', value }),
  uint16: (value: number): GgufValue => ({ type: 'uint16', value }),
  int16: (value: number): GgufValue => ({ type: 'int16', value }),
  uint32: (value: number): GgufValue => ({ type: 'uint32', value }),
  int32: (value: number): GgufValue => ({ type: 'int32', value }),
  uint64: (value: bigint | number): GgufValue => ({ type: 'uint64', value }),
  int64: (value: bigint | number): GgufValue => ({ type: 'int64', value }),
  float32: (value: number): GgufValue => ({ type: 'float32', value }),
  float64: (value: number): GgufValue => ({ type: 'float64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  string: (value: string): GgufValue => ({ type: 'string', value }),
  strings: (values: readonly string[]): GgufValue => ({ type: 'array', itemType: 'string', values }),
  int32s: (values: readonly number[]): GgufValue => ({ type: 'array', itemType: 'int32', values }),
  float32s: (values: readonly number[]): GgufValue => ({ type: 'array', itemType: 'float32', values }),
  numbers: (itemType: GgufNumberType, values: readonly number[]): GgufValue => ({
    type: 'array',
    itemType,
    values,
  }),
  bigints: (itemType: GgufBigIntType, values: readonly (bigint | number)[]): GgufValue => ({
    type: 'array',
    itemType,
    values,
  }),
  bools: (values: readonly boolean[]): GgufValue => ({ type: 'array', itemType: 'bool', values }),
} as const;

/** Bytes of a tensor's data, without the padding that follows it. */
export function ggufTensorDataBytes({ shape, type }: Pick<GgufTensor, 'shape' | 'type'>): number {
  return elementCount(shape) * TENSOR_TYPES[type].bytes;
}

/**
 * The whole file as a sequence of chunks: the header (metadata and tensor infos) first, then each
 * tensor's data, padded to `alignment`. Each chunk is a fresh buffer the consumer may keep.
 */
export function* encodeGguf({
  metadata,
  tensors,
  alignment = 32,
  chunkBytes = 1 << 20,
}: EncodeGgufOptions): Generator<Uint8Array> {
  // llama.cpp asserts a power of two; 8 is the least that keeps every F32/F16 value aligned.
  if (
    !Number.isInteger(alignment) ||
    alignment < 8 ||
    alignment > 1 << 16 ||
    (alignment & (alignment - 1)) !== 0
  ) {
    throw ggufError(`alignment must be a power of two from 8 to 65536, got ${alignment}`);
  }
  if (!Number.isInteger(chunkBytes) || chunkBytes < 64)
    throw ggufError('chunkBytes must be an integer >= 64');

  const entries = Object.entries(metadata);
  const declaredAlignment = metadata['general.alignment'];
  if (declaredAlignment !== undefined) {
    if (declaredAlignment.type !== 'uint32' || declaredAlignment.value !== alignment) {
      throw ggufError(
        `metadata general.alignment must be uint32 ${alignment}, the alignment the data is written with`,
      );
    }
  } else {
    entries.push(['general.alignment', gguf.uint32(alignment)]);
  }

  const names = new Set<string>();
  let dataOffset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    validateTensor(tensor, names);
    offsets.push(dataOffset);
    dataOffset += padded(ggufTensorDataBytes(tensor), alignment);
  }

  const header = new ByteBuilder();
  header.uint32(GGUF_MAGIC);
  header.uint32(GGUF_VERSION);
  header.uint64(BigInt(tensors.length));
  header.uint64(BigInt(entries.length));
  for (const [key, value] of entries) {
    if (key.length === 0) throw ggufError('metadata keys must not be empty');
    header.string(key);
    writeValue(header, key, value);
  }
  tensors.forEach((tensor, index) => {
    header.string(tensor.name);
    header.uint32(tensor.shape.length);
    for (const size of tensor.shape) header.uint64(BigInt(size));
    header.uint32(TENSOR_TYPES[tensor.type].id);
    header.uint64(BigInt(offsets[index] ?? 0));
  });
  header.zeros(padded(header.length, alignment) - header.length);
  yield header.toBytes();

  const sink = new ChunkSink(chunkBytes);
  for (const tensor of tensors) {
    const expected = elementCount(tensor.shape);
    let written = 0;
    for (const values of tensor.data()) {
      written += values.length;
      if (written > expected)
        throw ggufError(`tensor ${tensor.name} yielded more than its ${expected} values`);
      yield* tensor.type === 'f32' ? sink.float32(values) : sink.float16(values);
    }
    if (written !== expected)
      throw ggufError(`tensor ${tensor.name} yielded ${written} values, expected ${expected}`);
    const size = ggufTensorDataBytes(tensor);
    yield* sink.zeros(padded(size, alignment) - size);
  }
  yield* sink.flush();
}

/**
 * Streams the file to `path` through a temporary name and renames it at the end, so a reader
 * never sees half a model, and two writers of the same file do not corrupt each other.
 */
export async function writeGguf({
  path,
  ...options
}: EncodeGgufOptions & { readonly path: string }): Promise<WrittenGguf> {
  const temporaryPath = `${path}.${randomUUID().slice(0, 8)}.partial`;
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(temporaryPath, 'w');
  try {
    for (const chunk of encodeGguf(options)) {
      hash.update(chunk);
      let done = 0;
      while (done < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done);
        done += bytesWritten;
      }
      bytes += chunk.byteLength;
    }
    await handle.close();
    await rename(temporaryPath, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporaryPath, { force: true });
    throw error;
  }
  return { path, bytes, sha256: hash.digest('hex') };
}

/** IEEE 754 binary16 bits of `value`, rounded to nearest even like numpy's float16 cast. */
export function float32ToFloat16Bits(value: number): number {
  FLOAT_VIEW[0] = value;
  const bits = UINT_VIEW[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7f_ffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const shift = 14 - halfExponent;
    const full = mantissa | 0x80_0000;
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (rest > halfway || (rest === halfway && (half & 1) === 1) ? half + 1 : half);
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half);
}

const FLOAT_VIEW = new Float32Array(1);
const UINT_VIEW = new Uint32Array(FLOAT_VIEW.buffer);

function writeValue(builder: ByteBuilder, key: string, value: GgufValue): void {
  builder.uint32(VALUE_TYPE_IDS[value.type]);
  if (value.type === 'array') {
    builder.uint32(VALUE_TYPE_IDS[value.itemType]);
    builder.uint64(BigInt(value.values.length));
    for (const item of value.values) writeScalar(builder, key, value.itemType, item);
  } else {
    writeScalar(builder, key, value.type, value.value);
  }
}

function writeScalar(builder: ByteBuilder, key: string, type: GgufScalarType, value: unknown): void {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw ggufError(`${key}: expected a string`);
      builder.string(value);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw ggufError(`${key}: expected a boolean`);
      builder.uint8(value ? 1 : 0);
      return;
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw ggufError(`${key}: expected a number`);
      if (type === 'float32') builder.float32(value);
      else builder.float64(value);
      return;
    case 'uint64':
    case 'int64': {
      if (typeof value !== 'bigint' && !Number.isSafeInteger(value))
        throw ggufError(`${key}: expected an integer`);
      const big = BigInt(value as bigint | number);
      const [min, max] = type === 'uint64' ? [0n, (1n << 64n) - 1n] : [-(1n << 63n), (1n << 63n) - 1n];
      if (big < min || big > max) throw ggufError(`${key}: ${big} is out of ${type} range`);
      builder.uint64(BigInt.asUintN(64, big));
      return;
    }
    default: {
      const [min, max] = INTEGER_RANGES[type];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw ggufError(`${key}: ${String(value)} is not a ${type}`);
      }
      builder.integer(type, value);
    }
  }
}

function validateTensor(tensor: GgufTensor, names: Set<string>): void {
  const nameBytes = Buffer.byteLength(tensor.name, 'utf8');
  if (nameBytes === 0 || nameBytes >= GGML_MAX_NAME)
    throw ggufError(`tensor name "${tensor.name}" must be 1-63 bytes`);
  if (names.has(tensor.name)) throw ggufError(`duplicate tensor name ${tensor.name}`);
  names.add(tensor.name);
  if (tensor.shape.length < 1 || tensor.shape.length > GGML_MAX_DIMS) {
    throw ggufError(`tensor ${tensor.name} must have 1 to ${GGML_MAX_DIMS} dimensions`);
  }
  for (const size of tensor.shape) {
    if (!Number.isSafeInteger(size) || size < 1)
      throw ggufError(`tensor ${tensor.name} has an invalid dimension ${size}`);
  }
  if (!(tensor.type in TENSOR_TYPES))
    throw ggufError(`tensor ${tensor.name} has an unsupported type ${tensor.type}`);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function padded(size: number, alignment: number): number {
  return Math.ceil(size / alignment) * alignment;
}

function ggufError(message: string): AtelierError {
  return new AtelierError(`GGUF: ${message}`, { code: 'gguf_write_failed' });
}

/** A growable little-endian buffer for the header, whose size is not known up front. */
class ByteBuilder {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  /** Call before touching `this.buffer`: it may replace the buffer. */
  private reserve(bytes: number): number {
    const start = this.length;
    if (start + bytes > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, start + bytes));
      this.buffer.copy(grown, 0, 0, start);
      this.buffer = grown;
    }
    this.length += bytes;
    return start;
  }

  uint8(value: number): void {
    const offset = this.reserve(1);
    this.buffer.writeUInt8(value, offset);
  }

  uint32(value: number): void {
    const offset = this.reserve(4);
    this.buffer.writeUInt32LE(value, offset);
  }

  uint64(value: bigint): void {
    const offset = this.reserve(8);
    this.buffer.writeBigUInt64LE(value, offset);
  }

  float32(value: number): void {
    const offset = this.reserve(4);
    this.buffer.writeFloatLE(value, offset);
  }

  float64(value: number): void {
    const offset = this.reserve(8);
    this.buffer.writeDoubleLE(value, offset);
  }

  integer(type: keyof typeof INTEGER_RANGES, value: number): void {
    const size = type.endsWith('8') ? 1 : type.endsWith('16') ? 2 : 4;
    const offset = this.reserve(size);
    if (type.startsWith('u')) this.buffer.writeUIntLE(value, offset, size);
    else this.buffer.writeIntLE(value, offset, size);
  }

  /** GGUF strings: uint64 byte length, then UTF-8 without a terminator. */
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.uint64(BigInt(bytes.length));
    const offset = this.reserve(bytes.length);
    bytes.copy(this.buffer, offset);
  }

  zeros(count: number): void {
    const offset = this.reserve(count);
    this.buffer.fill(0, offset, this.length);
  }

  toBytes(): Uint8Array {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

/** Packs tensor values into fixed-size chunks; each full chunk is handed out and replaced. */
class ChunkSink {
  private buffer: Buffer;
  private view: DataView;
  private position = 0;

  constructor(private readonly chunkBytes: number) {
    this.buffer = Buffer.alloc(chunkBytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  *float32(values: Float32Array): Generator<Uint8Array> {
    for (let index = 0; index < values.length; index++) {
      if (this.position + 4 > this.chunkBytes) yield* this.flush();
      this.view.setFloat32(this.position, values[index]!, true);
      this.position += 4;
    }
  }

  *float16(values: Float32Array): Generator<Uint8Array> {
    for (let index = 0; index < values.length; index++) {
      if (this.position + 2 > this.chunkBytes) yield* this.flush();
      this.view.setUint16(this.position, float32ToFloat16Bits(values[index]!), true);
      this.position += 2;
    }
  }

  *zeros(count: number): Generator<Uint8Array> {
    let left = count;
    while (left > 0) {
      if (this.position === this.chunkBytes) yield* this.flush();
      const step = Math.min(left, this.chunkBytes - this.position);
      this.buffer.fill(0, this.position, this.position + step);
      this.position += step;
      left -= step;
    }
  }

  *flush(): Generator<Uint8Array> {
    if (this.position === 0) return;
    const full = this.buffer.subarray(0, this.position);
    this.buffer = Buffer.alloc(this.chunkBytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    this.position = 0;
    yield full;
  }
}
