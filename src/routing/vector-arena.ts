import { createDotKernel, type DotKernel } from './simd-kernel.ts';

/**
 * The vectors of one HNSW index. Each vector is kept twice: exactly (float32, for results and
 * serialisation) and quantised to int8 with a per-vector scale (for walking the graph, where a
 * quarter of the memory traffic matters more than the last digit; final results are re-scored
 * exactly). Quantised records sit `recordBytes` apart in one block of memory — the int8 values
 * (dimensions rounded up to 16, zero-padded), then the float32 scale — with a scratch area for a
 * query, a batch of ids and their scores. Dot products run in WebAssembly SIMD when available, else
 * in JavaScript; addresses are byte offsets either way.
 */
export class VectorArena {
  readonly dimensions: number;
  /** Bytes of int8 values per record. */
  readonly #bytes: number;
  readonly recordBytes: number;
  readonly batch: number;
  readonly queryAddress = 0;
  readonly #idsAddress: number;
  readonly #outAddress: number;
  readonly #base: number;
  readonly #kernel: DotKernel | undefined;
  #buffer: ArrayBuffer;
  #capacity = 0;
  #exact = new Float32Array(0);
  #int8!: Int8Array;
  #floats!: Float32Array;
  /** Ids to score in the next {@link dotMany}. */
  ids!: Int32Array;
  /** Scores written by the last {@link dotMany}. */
  out!: Float32Array;

  constructor(dimensions: number, batch: number, options: { simd?: boolean } = {}) {
    this.dimensions = dimensions;
    this.#bytes = Math.ceil(dimensions / 16) * 16;
    this.recordBytes = this.#bytes + 16;
    this.batch = batch;
    this.#idsAddress = this.recordBytes;
    this.#outAddress = align(this.#idsAddress + batch * 4);
    this.#base = align(this.#outAddress + batch * 4);
    this.#kernel = options.simd === false ? undefined : createDotKernel();
    this.#buffer = this.#kernel ? this.#kernel.memory.buffer : new ArrayBuffer(this.#base);
    this.#views();
  }

  get simd(): boolean {
    return this.#kernel !== undefined;
  }

  /** Makes room for `nodes` vectors (keeping those already written). */
  reserve(nodes: number): void {
    if (nodes <= this.#capacity) return;
    const bytes = this.#base + nodes * this.recordBytes;
    if (this.#kernel) {
      const memory = this.#kernel.memory;
      if (bytes > memory.buffer.byteLength)
        memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      this.#buffer = memory.buffer;
    } else if (bytes > this.#buffer.byteLength) {
      const grown = new ArrayBuffer(Math.max(bytes, this.#buffer.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.#buffer));
      this.#buffer = grown;
    }
    const exact = new Float32Array(nodes * this.dimensions);
    exact.set(this.#exact);
    this.#exact = exact;
    this.#capacity = nodes;
    this.#views();
  }

  #views(): void {
    this.#int8 = new Int8Array(this.#buffer);
    this.#floats = new Float32Array(this.#buffer);
    this.ids = new Int32Array(this.#buffer, this.#idsAddress, this.batch);
    this.out = new Float32Array(this.#buffer, this.#outAddress, this.batch);
  }

  address(node: number): number {
    return this.#base + node * this.recordBytes;
  }

  write(node: number, vector: Float32Array): void {
    this.#exact.set(vector.subarray(0, this.dimensions), node * this.dimensions);
    this.#quantise(this.address(node), vector);
  }

  read(node: number): Float32Array {
    return this.#exact.slice(node * this.dimensions, (node + 1) * this.dimensions);
  }

  /** Writes the query into the scratch record; returns its address. */
  writeQuery(vector: Float32Array): number {
    this.#quantise(this.queryAddress, vector);
    return this.queryAddress;
  }

  #quantise(address: number, vector: Float32Array): void {
    let max = 0;
    for (let i = 0; i < this.dimensions; i++) max = Math.max(max, Math.abs(vector[i]!));
    const scale = max === 0 ? 0 : max / 127;
    const int8 = this.#int8;
    for (let i = 0; i < this.#bytes; i++)
      int8[address + i] = i < this.dimensions && scale > 0 ? Math.round(vector[i]! / scale) : 0;
    this.#floats[(address + this.#bytes) >> 2] = scale;
  }

  #scale(address: number): number {
    return this.#floats[(address + this.#bytes) >> 2]!;
  }

  /** Approximate (int8) dot product of the records at addresses `a` and `b`. */
  dot(a: number, b: number): number {
    const sum = this.#kernel ? this.#kernel.dot8(a, b, this.#bytes) : this.#dot8(a, b);
    return sum * this.#scale(a) * this.#scale(b);
  }

  #dot8(a: number, b: number): number {
    const int8 = this.#int8;
    let sum = 0;
    for (let i = 0; i < this.#bytes; i++) sum += int8[a + i]! * int8[b + i]!;
    return sum;
  }

  /** Approximate scores of `ids[0 … count)` against the record at `query`, into `out`. */
  dotMany(query: number, count: number): void {
    if (this.#kernel) {
      this.#kernel.dotMany8(
        query,
        this.#idsAddress,
        count,
        this.recordBytes,
        this.#base,
        this.#outAddress,
        this.#bytes,
        this.#base + this.#bytes,
        this.#scale(query),
      );
      return;
    }
    for (let i = 0; i < count; i++) this.out[i] = this.dot(query, this.address(this.ids[i]!));
  }

  /** The exact dot product of a (float32) query with a node's vector. */
  exactDot(query: Float32Array, node: number): number {
    const exact = this.#exact;
    const offset = node * this.dimensions;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 1 < this.dimensions; i += 2) {
      s0 += query[i]! * exact[offset + i]!;
      s1 += query[i + 1]! * exact[offset + i + 1]!;
    }
    if (i < this.dimensions) s0 += query[i]! * exact[offset + i]!;
    return s0 + s1;
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
