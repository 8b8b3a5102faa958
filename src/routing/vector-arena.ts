import { createDotKernel, type DotKernel } from './simd-kernel.ts';

/**
 * Vectors of one index, packed `stride` floats apart (dimensions rounded up to a multiple of 8,
 * zero-padded) in one block of memory, with a scratch area for a query, a batch of ids and their
 * scores. Dot products run in WebAssembly SIMD when it is available, else in JavaScript; addresses
 * are byte offsets either way.
 */
export class VectorArena {
  readonly dimensions: number;
  /** Floats between consecutive vectors. */
  readonly stride: number;
  readonly batch: number;
  readonly queryAddress: number;
  readonly #idsAddress: number;
  readonly #outAddress: number;
  readonly #base: number;
  readonly #kernel: DotKernel | undefined;
  #buffer: ArrayBuffer;
  #capacity = 0;
  /** The whole memory as floats (re-made whenever the memory grows). */
  floats!: Float32Array;
  /** Ids to score in the next {@link dotMany}. */
  ids!: Int32Array;
  /** Scores written by the last {@link dotMany}. */
  out!: Float32Array;

  constructor(dimensions: number, batch: number, options: { simd?: boolean } = {}) {
    this.dimensions = dimensions;
    this.stride = Math.ceil(dimensions / 8) * 8;
    this.batch = batch;
    this.queryAddress = 0;
    this.#idsAddress = align(this.stride * 4);
    this.#outAddress = align(this.#idsAddress + batch * 4);
    this.#base = align(this.#outAddress + batch * 4);
    this.#kernel = options.simd === false ? undefined : createDotKernel();
    this.#buffer = this.#kernel ? this.#kernel.memory.buffer : new ArrayBuffer(65536);
    this.#views();
  }

  get simd(): boolean {
    return this.#kernel !== undefined;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Makes room for `nodes` vectors (keeping those already written). */
  reserve(nodes: number): void {
    if (nodes <= this.#capacity) return;
    const bytes = this.#base + nodes * this.stride * 4;
    if (this.#kernel) {
      const memory = this.#kernel.memory;
      if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      this.#buffer = memory.buffer;
    } else if (bytes > this.#buffer.byteLength) {
      const grown = new ArrayBuffer(Math.max(bytes, this.#buffer.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.#buffer));
      this.#buffer = grown;
    }
    this.#capacity = nodes;
    this.#views();
  }

  #views(): void {
    this.floats = new Float32Array(this.#buffer);
    this.ids = new Int32Array(this.#buffer, this.#idsAddress, this.batch);
    this.out = new Float32Array(this.#buffer, this.#outAddress, this.batch);
  }

  address(node: number): number {
    return this.#base + node * this.stride * 4;
  }

  write(node: number, vector: Float32Array): void {
    this.floats.set(vector.subarray(0, this.dimensions), this.address(node) >> 2);
  }

  read(node: number): Float32Array {
    const start = this.address(node) >> 2;
    return this.floats.slice(start, start + this.dimensions);
  }

  writeQuery(vector: Float32Array): number {
    this.floats.set(vector.subarray(0, this.dimensions), this.queryAddress >> 2);
    return this.queryAddress;
  }

  dot(a: number, b: number): number {
    if (this.#kernel) return this.#kernel.dot(a, b, this.stride);
    const floats = this.floats;
    const i0 = a >> 2;
    const j0 = b >> 2;
    let s0 = 0;
    let s1 = 0;
    for (let i = 0; i < this.stride; i += 2) {
      s0 += floats[i0 + i]! * floats[j0 + i]!;
      s1 += floats[i0 + i + 1]! * floats[j0 + i + 1]!;
    }
    return s0 + s1;
  }

  /** Scores `ids[0 … count)` against the vector at `query`, into `out`. */
  dotMany(query: number, count: number): void {
    if (this.#kernel) {
      this.#kernel.dotMany(query, this.#idsAddress, count, this.stride * 4, this.#base, this.#outAddress, this.stride);
      return;
    }
    for (let i = 0; i < count; i++) this.out[i] = this.dot(query, this.address(this.ids[i]!));
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
