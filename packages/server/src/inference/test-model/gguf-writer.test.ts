// Checks the GGUF writer against an independent reader (node-llama-cpp's GGUF parser) and against
// the byte layout the spec prescribes: typed metadata, tensor offsets, alignment, F16 rounding.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtelierError } from '../../errors.js';
import { encodeGguf, float32ToFloat16Bits, type GgufTensor, gguf, writeGguf } from './gguf-writer.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'atelier-gguf-writer-'));
});

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

const manyStrings = Array.from({ length: 20_000 }, (_, index) => `token-${index}-é`);

const tensors: GgufTensor[] = [
  { name: 'a.weight', shape: [3], type: 'f32', data: () => [Float32Array.of(1.5, -2, 0.25)] },
  {
    name: 'b.weight',
    shape: [4, 2],
    type: 'f16',
    // Chunks need not line up with rows.
    data: () => [Float32Array.of(1, 2, 3), Float32Array.of(-1, 0.5, 65_504, 1e-8, 0.1)],
  },
];

describe('writeGguf', () => {
  it('writes metadata of every type, tensor infos and aligned data that a GGUF reader understands', async () => {
    const path = join(directory, 'all-types.gguf');
    const written = await writeGguf({
      path,
      metadata: {
        'general.architecture': gguf.string('llama'),
        'test.u8': gguf.uint8(255),
        'test.i8': gguf.int8(-128),
        'test.u16': gguf.uint16(65_535),
        'test.i16': gguf.int16(-32_768),
        'test.u32': gguf.uint32(4_000_000_000),
        'test.i32': gguf.int32(-2_000_000_000),
        'test.u64': gguf.uint64(2n ** 40n),
        'test.i64': gguf.int64(-5),
        'test.f32': gguf.float32(0.5),
        'test.f64': gguf.float64(Math.PI),
        'test.bool': gguf.bool(true),
        'test.text': gguf.string('héllo 世界'),
        'test.strings': gguf.strings(manyStrings),
        'test.ints': gguf.int32s([1, -2, 3]),
        'test.floats': gguf.float32s([0.25, -1.5]),
        'test.bools': gguf.bools([true, false]),
        'test.u64s': gguf.bigints('uint64', [1n, 2]),
      },
      tensors,
    });

    const file = await readFile(path);
    expect(written.bytes).toBe(file.length);
    expect(written.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    expect(file.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(file.readUInt32LE(4)).toBe(3);
    expect(await readdir(directory)).toEqual(['all-types.gguf']);

    const info = await readGgufFileInfo(path, { logWarnings: false });
    const test = (info.metadata as unknown as { test: Record<string, unknown> }).test;
    expect(test).toMatchObject({
      u8: 255,
      i8: -128,
      u16: 65_535,
      i16: -32_768,
      u32: 4_000_000_000,
      i32: -2_000_000_000,
      f32: 0.5,
      f64: Math.PI,
      bool: true,
      text: 'héllo 世界',
      ints: [1, -2, 3],
      floats: [0.25, -1.5],
      bools: [true, false],
    });
    expect(Number(test['u64'])).toBe(2 ** 40);
    expect(Number(test['i64'])).toBe(-5);
    expect((test['u64s'] as unknown[]).map(Number)).toEqual([1, 2]);
    expect(test['strings']).toEqual(manyStrings);
    expect(info.metadata.general.alignment).toBe(32);

    const [a, b] = info.fullTensorInfo ?? [];
    expect(a).toMatchObject({ name: 'a.weight', dimensions: [3], ggmlType: 0, offset: 0 });
    // 12 bytes of F32 data padded to 32.
    expect(b).toMatchObject({ name: 'b.weight', dimensions: [4, 2], ggmlType: 1, offset: 32 });
    const dataStart = Number(a!.fileOffset);
    expect(dataStart % 32).toBe(0);
    expect([0, 4, 8].map((offset) => file.readFloatLE(dataStart + offset))).toEqual([1.5, -2, 0.25]);
    const halves = Array.from({ length: 8 }, (_, index) =>
      file.readUInt16LE(Number(b!.fileOffset) + 2 * index),
    );
    expect(halves).toEqual([0x3c00, 0x4000, 0x4200, 0xbc00, 0x3800, 0x7bff, 0x0000, 0x2e66]);
    expect(file.length).toBe(Number(b!.fileOffset) + 32);
  });

  it('produces identical bytes for identical input', () => {
    const encode = () =>
      Buffer.concat([...encodeGguf({ metadata: { 'x.y': gguf.uint32(1) }, tensors, chunkBytes: 64 })]);
    expect(encode().equals(encode())).toBe(true);
  });

  it('refuses tensors whose data does not match their shape, and leaves no file behind', async () => {
    const path = join(directory, 'broken.gguf');
    const short: GgufTensor = { name: 'short', shape: [4], type: 'f32', data: () => [new Float32Array(3)] };
    const long: GgufTensor = { name: 'long', shape: [2], type: 'f16', data: () => [new Float32Array(3)] };
    await expect(writeGguf({ path, metadata: {}, tensors: [short] })).rejects.toThrow(
      /yielded 3 values, expected 4/,
    );
    await expect(writeGguf({ path, metadata: {}, tensors: [long] })).rejects.toThrow(
      /more than its 2 values/,
    );
    expect(await readdir(directory)).not.toContain('broken.gguf');
    expect((await readdir(directory)).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('refuses invalid metadata and tensor infos', () => {
    const encode = (options: Parameters<typeof encodeGguf>[0]) => () => [...encodeGguf(options)];
    expect(encode({ metadata: { 'x.y': gguf.uint8(256) }, tensors: [] })).toThrow(AtelierError);
    expect(encode({ metadata: { 'x.y': gguf.int32s([1.5]) }, tensors: [] })).toThrow(/not a int32/);
    expect(encode({ metadata: { 'x.y': gguf.uint64(-1n) }, tensors: [] })).toThrow(/out of uint64 range/);
    expect(encode({ metadata: { 'general.alignment': gguf.uint32(64) }, tensors: [] })).toThrow(/alignment/);
    expect(encode({ metadata: {}, tensors: [], alignment: 48 })).toThrow(/power of two/);
    expect(encode({ metadata: {}, tensors: [tensors[0]!, tensors[0]!] })).toThrow(/duplicate tensor name/);
    expect(encode({ metadata: {}, tensors: [{ ...tensors[0]!, name: 'x'.repeat(64) }] })).toThrow(
      /1-63 bytes/,
    );
    expect(encode({ metadata: {}, tensors: [{ ...tensors[0]!, shape: [1, 1, 1, 1, 3] }] })).toThrow(
      /dimensions/,
    );
  });
});

describe('float32ToFloat16Bits', () => {
  it('rounds to the nearest binary16 value, ties to even, with subnormals, infinities and NaN', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65_504, 0x7bff],
      [65_520, 0x7c00], // rounds up past the largest finite half
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway to zero: ties to even
      [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 subnormal steps: ties to even
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // halfway: ties to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // halfway: ties to even (up)
      [0.1, 0x2e66],
    ];
    for (const [value, bits] of cases) expect([value, float32ToFloat16Bits(value)]).toEqual([value, bits]);
    expect(float32ToFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(float32ToFloat16Bits(Number.NaN) & 0x03ff).not.toBe(0);
  });
});
