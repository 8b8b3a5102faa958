/**
 * Dot products in WebAssembly SIMD (f32x4, two accumulators), for the HNSW index: a search spends
 * nearly all its time in dot products, and this is several times faster than a JavaScript loop.
 * The module is assembled here from its bytes (a few hundred; no build step, no binary file).
 *
 * Layout: vectors are `stride` floats apart (dimensions rounded up to a multiple of 8, zero-padded),
 * in a WebAssembly.Memory the kernel owns; addresses are byte offsets into it.
 */
export interface DotKernel {
  readonly memory: WebAssembly.Memory;
  /** Dot product of `floats` floats at byte addresses `a` and `b` (floats a multiple of 8). */
  dot(a: number, b: number, floats: number): number;
  /**
   * For i < count: out[i] = dot(query, base + ids[i]·strideBytes), where ids is an Int32Array at
   * byte address `ids` and out a Float32Array at `out`.
   */
  dotMany(
    query: number,
    ids: number,
    count: number,
    strideBytes: number,
    base: number,
    out: number,
    floats: number,
  ): void;
  /** Dot product of `bytes` int8 values at `a` and `b` (bytes a multiple of 16), as a float. */
  dot8(a: number, b: number, bytes: number): number;
  /**
   * For i < count: out[i] = dot8(query, base + ids[i]·strideBytes) · scale(ids[i]) · queryScale, where
   * a record's scale is the float at byte address `scales + id·strideBytes`.
   */
  dotMany8(
    query: number,
    ids: number,
    count: number,
    strideBytes: number,
    base: number,
    out: number,
    bytes: number,
    scales: number,
    queryScale: number,
  ): void;
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];
}

// Opcodes.
const get = (index: number) => [0x20, index];
const set = (index: number) => [0x21, index];
const i32 = (value: number) => [0x41, ...uleb(value)]; // values below 64 only (signed LEB)
const ADD = 0x6a;
const MUL = 0x6c;
const SHL = 0x74;
const GE_U = 0x4f;
const F32_ADD = 0x92;
const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
const V128_LOAD = (offset: number) => simd(0x00, 0, ...uleb(offset));
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const LANE = (lane: number) => simd(0x1f, lane);
const V128_ZERO = simd(0x0c, ...new Array<number>(16).fill(0));

/** dot(a, b, floats) → f32. Locals: 3 end, 4 acc0, 5 acc1. */
// prettier-ignore
const dotBody = [
  ...vector([
    [1, I32],
    [2, V128],
  ]),
  ...get(0), ...get(2), ...i32(2), SHL, ADD, ...set(3),
  ...V128_ZERO, ...set(4),
  ...V128_ZERO, ...set(5),
  0x02, 0x40, // block
  0x03, 0x40, // loop
  ...get(0), ...get(3), GE_U, 0x0d, 1, // br_if 1 when a >= end
  ...get(4), ...get(0), ...V128_LOAD(0), ...get(1), ...V128_LOAD(0), ...F32X4_MUL, ...F32X4_ADD, ...set(4),
  ...get(5), ...get(0), ...V128_LOAD(16), ...get(1), ...V128_LOAD(16), ...F32X4_MUL, ...F32X4_ADD, ...set(5),
  ...get(0), ...i32(32), ADD, ...set(0),
  ...get(1), ...i32(32), ADD, ...set(1),
  0x0c, 0, // br 0
  0x0b, // end loop
  0x0b, // end block
  ...get(4), ...get(5), ...F32X4_ADD, ...set(4),
  ...get(4), ...LANE(0), ...get(4), ...LANE(1), F32_ADD, ...get(4), ...LANE(2), F32_ADD, ...get(4), ...LANE(3), F32_ADD,
  0x0b,
];

/** dotMany(query, ids, count, strideBytes, base, out, floats). Locals: 7 i. */
// prettier-ignore
const dotManyBody = [
  ...vector([[1, I32]]),
  0x02, 0x40,
  0x03, 0x40,
  ...get(7), ...get(2), GE_U, 0x0d, 1,
  ...get(5), ...get(7), ...i32(2), SHL, ADD, // &out[i]
  ...get(0), // query
  ...get(4), ...get(1), ...get(7), ...i32(2), SHL, ADD, 0x28, 2, 0, ...get(3), MUL, ADD, // base + ids[i]·stride
  ...get(6),
  0x10, 0, // call dot
  0x38, 2, 0, // f32.store
  ...get(7), ...i32(1), ADD, ...set(7),
  0x0c, 0,
  0x0b,
  0x0b,
  0x0b,
];

const I32X4_ADD = simd(0xae);
const I32X4_DOT_I16X8 = simd(0xba);
const LOAD_8X8_S = (offset: number) => simd(0x01, 0, ...uleb(offset));
const I32_LANE = (lane: number) => simd(0x1b, lane);
const F32_MUL = 0x94;
const F32_CONVERT_I32 = 0xb2;

/** dot8(a, b, bytes) → f32: int8 values widened to int16, multiplied and summed in int32. Locals: 3 end, 4 acc0, 5 acc1. */
// prettier-ignore
const dot8Body = [
  ...vector([
    [1, I32],
    [2, V128],
  ]),
  ...get(0), ...get(2), ADD, ...set(3),
  ...V128_ZERO, ...set(4),
  ...V128_ZERO, ...set(5),
  0x02, 0x40,
  0x03, 0x40,
  ...get(0), ...get(3), GE_U, 0x0d, 1,
  ...get(4), ...get(0), ...LOAD_8X8_S(0), ...get(1), ...LOAD_8X8_S(0), ...I32X4_DOT_I16X8, ...I32X4_ADD, ...set(4),
  ...get(5), ...get(0), ...LOAD_8X8_S(8), ...get(1), ...LOAD_8X8_S(8), ...I32X4_DOT_I16X8, ...I32X4_ADD, ...set(5),
  ...get(0), ...i32(16), ADD, ...set(0),
  ...get(1), ...i32(16), ADD, ...set(1),
  0x0c, 0,
  0x0b,
  0x0b,
  ...get(4), ...get(5), ...I32X4_ADD, ...set(4),
  ...get(4), ...I32_LANE(0), ...get(4), ...I32_LANE(1), ADD, ...get(4), ...I32_LANE(2), ADD, ...get(4), ...I32_LANE(3), ADD,
  F32_CONVERT_I32,
  0x0b,
];

/** dotMany8(query, ids, count, strideBytes, base, out, bytes, scales, queryScale). Locals: 9 i, 10 id. */
// prettier-ignore
const dotMany8Body = [
  ...vector([[2, I32]]),
  0x02, 0x40,
  0x03, 0x40,
  ...get(9), ...get(2), GE_U, 0x0d, 1,
  ...get(1), ...get(9), ...i32(2), SHL, ADD, 0x28, 2, 0, ...set(10), // id = ids[i]
  ...get(5), ...get(9), ...i32(2), SHL, ADD, // &out[i]
  ...get(0),
  ...get(4), ...get(10), ...get(3), MUL, ADD,
  ...get(6),
  0x10, 2, // call dot8
  ...get(7), ...get(10), ...get(3), MUL, ADD, 0x2a, 2, 0, F32_MUL, // · the scale at scales + id·strideBytes
  ...get(8), F32_MUL, // · queryScale
  0x38, 2, 0,
  ...get(9), ...i32(1), ADD, ...set(9),
  0x0c, 0,
  0x0b,
  0x0b,
  0x0b,
];

// Made when first compiled, not at import.
// prettier-ignore
const moduleBytes = (): Uint8Array<ArrayBuffer> => new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vector([
    [0x60, ...vector([[I32], [I32], [I32]]), ...vector([[F32]])],
    [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), 0],
    [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32], [F32]]), 0],
  ])),
  ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])),
  ...section(3, vector([[0], [1], [0], [2]])),
  ...section(7, vector([
    [...name('dot'), 0x00, 0],
    [...name('dotMany'), 0x00, 1],
    [...name('dot8'), 0x00, 2],
    [...name('dotMany8'), 0x00, 3],
  ])),
  ...section(10, vector([
    [...uleb(dotBody.length), ...dotBody],
    [...uleb(dotManyBody.length), ...dotManyBody],
    [...uleb(dot8Body.length), ...dot8Body],
    [...uleb(dotMany8Body.length), ...dotMany8Body],
  ])),
]);

let compiled: WebAssembly.Module | null | undefined;

/** A kernel with its own memory, or undefined where WebAssembly SIMD is not available. */
export function createDotKernel(): DotKernel | undefined {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return undefined;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const exports = instance.exports as unknown as Omit<DotKernel, 'memory'>;
  return {
    memory,
    dot: exports.dot,
    dotMany: exports.dotMany,
    dot8: exports.dot8,
    dotMany8: exports.dotMany8,
  };
}
