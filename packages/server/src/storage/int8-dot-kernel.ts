// The inner loop of the SQLite vector index: dot products of one query (int16 weights) with every
// row of a matrix of int8 codes, each times its row's scale, in WebAssembly SIMD. sqlite-vec's
// prebuilt scan is scalar C over float32 (about 25 ms for 100k × 384 on one core); this reads a
// quarter of the bytes, eight lanes at a time, in about 2 ms. The module is a few dozen
// instructions, assembled here from bytes so that nothing needs a compiler; in the WebAssembly
// text format it is:
//
//   (func (export "score") (param $codes i32) (param $scales i32) (param $query i32)
//                          (param $out i32) (param $rows i32) (param $width i32)
//     (local $end i32) (local $j i32) (local $acc v128)
//     (local.set $end (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
//     (block (br_if 0 (i32.ge_u (local.get $out) (local.get $end)))
//       (loop $row
//         (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $j (i32.const 0))
//         (loop $column                       ;; 16 codes per turn ($width is a multiple of 16)
//           (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s
//             (v128.load8x8_s (i32.add (local.get $codes) (local.get $j)))
//             (v128.load (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1)))))))
//           (local.set $acc (i32x4.add (local.get $acc) (i32x4.dot_i16x8_s
//             (v128.load8x8_s offset=8 (i32.add (local.get $codes) (local.get $j)))
//             (v128.load offset=16 (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1)))))))
//           (br_if $column (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $width))))
//         (f32.store (local.get $out) (f32.mul
//           (f32.convert_i32_s (i32x4.extract_lane 0 (local.get $acc)) + … lanes 1, 2, 3)
//           (f32.load (local.get $scales))))
//         (local.set $codes (i32.add (local.get $codes) (local.get $width)))
//         (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
//         (br_if $row (i32.lt_u (local.tee $out (i32.add (local.get $out) (i32.const 4))) (local.get $end))))))
//
// with its memory exported as "memory". Each index gets its own instance, hence its own memory.

export interface Int8DotKernel {
  readonly memory: WebAssembly.Memory;
  /**
   * Writes, for each of `rows` rows of `width` int8 codes at `codes`, the dot product with the
   * `width` int16 weights at `query` times the row's float32 at `scales`, as a float32 at `out`
   * (byte offsets into `memory`; `width` a multiple of 16; the weights 16-byte aligned). The
   * products are summed in int32: |weight| × 128 × width must stay below 2^31.
   */
  score(codes: number, scales: number, query: number, out: number, rows: number, width: number): void;
}

/** Codes per row are padded to a multiple of this (with zeros, which weigh nothing). */
export const KERNEL_WIDTH_MULTIPLE = 16;

let compiled: WebAssembly.Module | null | undefined;

/** A fresh instance with its own memory, or null where WebAssembly SIMD is not available. */
export function createInt8DotKernel(): Int8DotKernel | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const instance = new WebAssembly.Instance(compiled, {});
  const exports = instance.exports as unknown as Int8DotKernel;
  return { memory: exports.memory, score: exports.score };
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const [CODES, SCALES, QUERY, OUT, ROWS, WIDTH, END, J, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8] as const;
  const I32 = 0x7f;
  const V128 = 0x7b;
  const get = (local: number) => [0x20, local];
  const set = (local: number) => [0x21, local];
  const tee = (local: number) => [0x22, local];
  const i32Const = (value: number) => [0x41, ...signedLeb128(value)];
  const [i32Add, i32Shl, i32GeU, i32LtU, brIf, end] = [0x6a, 0x74, 0x4f, 0x49, 0x0d, 0x0b] as const;
  const block = [0x02, 0x40];
  const loop = [0x03, 0x40];
  const simd = (opcode: number, ...immediates: number[]) => [0xfd, ...leb128(opcode), ...immediates];
  // memarg: log2 of the alignment, then the offset.
  const v128Load = (offset: number) => simd(0x00, 4, ...leb128(offset));
  const v128Load8x8S = (offset: number) => simd(0x01, 3, ...leb128(offset));
  const i32x4Add = simd(0xae);
  const i32x4DotI16x8S = simd(0xba);
  const i32x4ExtractLane = (lane: number) => simd(0x1b, lane);
  const halfStep = (offset: number) => [
    ...get(CODES),
    ...get(J),
    i32Add,
    ...v128Load8x8S(offset),
    ...get(QUERY),
    ...get(J),
    ...i32Const(1),
    i32Shl,
    i32Add,
    ...v128Load(offset * 2),
    ...i32x4DotI16x8S,
    ...i32x4Add,
  ];
  const body = [
    ...get(OUT),
    ...get(ROWS),
    ...i32Const(2),
    i32Shl,
    i32Add,
    ...set(END),
    ...block,
    ...get(OUT),
    ...get(END),
    i32GeU,
    brIf,
    0,
    ...loop,
    ...simd(0x0c, ...new Array<number>(16).fill(0)),
    ...set(ACC),
    ...i32Const(0),
    ...set(J),
    ...loop,
    ...get(ACC),
    ...halfStep(0),
    ...halfStep(8),
    ...set(ACC),
    ...get(J),
    ...i32Const(16),
    i32Add,
    ...tee(J),
    ...get(WIDTH),
    i32LtU,
    brIf,
    0,
    end,
    ...get(OUT),
    ...get(ACC),
    ...i32x4ExtractLane(0),
    ...get(ACC),
    ...i32x4ExtractLane(1),
    i32Add,
    ...get(ACC),
    ...i32x4ExtractLane(2),
    i32Add,
    ...get(ACC),
    ...i32x4ExtractLane(3),
    i32Add,
    0xb2, // f32.convert_i32_s
    ...get(SCALES),
    0x2a, // f32.load
    2,
    0,
    0x94, // f32.mul
    0x38, // f32.store
    2,
    0,
    ...get(CODES),
    ...get(WIDTH),
    i32Add,
    ...set(CODES),
    ...get(SCALES),
    ...i32Const(4),
    i32Add,
    ...set(SCALES),
    ...get(OUT),
    ...i32Const(4),
    i32Add,
    ...tee(OUT),
    ...get(END),
    i32LtU,
    brIf,
    0,
    end,
    end,
    end,
  ];
  const locals = [2, 2, I32, 1, V128];
  const code = [...locals, ...body];
  const name = (text: string) => [...leb128(text.length), ...Buffer.from(text, 'ascii')];
  const section = (id: number, content: readonly number[]) => [id, ...leb128(content.length), ...content];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // One type: (i32 × 6) → ().
    ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
    ...section(3, [1, 0]),
    // One memory of one page to start with, grown by the caller.
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name('score'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...leb128(code.length), ...code]),
  ]);
}

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function signedLeb128(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
