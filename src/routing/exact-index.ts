import { InvalidArgumentError } from '../errors.ts';
import { ScoreHeap } from './score-heap.ts';
import { createDotKernel, type DotKernel } from './simd-kernel.ts';
import {
  checkK,
  checkVector,
  dot,
  normalize,
  type VectorHit,
  type VectorIndex,
  type VectorSearchOptions,
} from './vector-index.ts';

const CHUNK = 1024;

/**
 * Brute-force nearest neighbours: every query is compared with every vector, in float32, in
 * WebAssembly SIMD where available (a straight scan of memory). Exact, so it is the ground truth the
 * HNSW index is measured against, and the right choice for small sets (a few thousand vectors
 * search in well under a millisecond).
 *
 * @example
 * const index = new ExactIndex({ dimensions: 512 });
 * index.add('billing', vector);
 * index.search(query, 3); // [{ key: 'billing', similarity: 0.82 }, …]
 */
export class ExactIndex implements VectorIndex {
  readonly dimensions: number;
  /** Floats between consecutive vectors (dimensions rounded up to 8, zero-padded). */
  readonly #stride: number;
  readonly #kernel: DotKernel | undefined;
  readonly #base: number;
  #floats: Float32Array;
  #capacity = 0;
  #keys: (string | undefined)[] = [];
  readonly #slotOf = new Map<string, number>();
  readonly #free: number[] = [];

  constructor(options: { dimensions: number; capacity?: number; simd?: boolean }) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
      throw new InvalidArgumentError(
        `An index needs a positive whole number of dimensions, got ${String(options.dimensions)}.`,
      );
    }
    this.dimensions = options.dimensions;
    this.#stride = Math.ceil(this.dimensions / 8) * 8;
    this.#kernel = options.simd === false ? undefined : createDotKernel();
    // Scratch: the query, the ids 0 … CHUNK-1, and CHUNK scores; vectors after.
    this.#base = this.#stride * 4 + CHUNK * 8;
    this.#floats = new Float32Array(0);
    this.#reserve(Math.max(16, options.capacity ?? 16));
  }

  #reserve(capacity: number): void {
    const bytes = this.#base + capacity * this.#stride * 4;
    if (this.#kernel) {
      const memory = this.#kernel.memory;
      if (bytes > memory.buffer.byteLength)
        memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      this.#floats = new Float32Array(memory.buffer);
      const ids = new Int32Array(memory.buffer, this.#stride * 4, CHUNK);
      for (let i = 0; i < CHUNK; i++) ids[i] = i;
    } else {
      const grown = new Float32Array(bytes / 4);
      grown.set(this.#floats);
      this.#floats = grown;
    }
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#slotOf.size;
  }

  has(key: string): boolean {
    return this.#slotOf.has(key);
  }

  get(key: string): Float32Array | undefined {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return undefined;
    const start = (this.#base >> 2) + slot * this.#stride;
    return this.#floats.slice(start, start + this.dimensions);
  }

  keys(): IterableIterator<string> {
    return this.#slotOf.keys();
  }

  add(key: string, vector: Float32Array): void {
    checkVector(vector, this.dimensions, `The vector for '${key}'`);
    let slot = this.#slotOf.get(key);
    if (slot === undefined) {
      slot = this.#free.pop() ?? this.#keys.length;
      if (slot === this.#keys.length) this.#keys.push(undefined);
      if (slot >= this.#capacity) this.#reserve(this.#capacity * 2);
      this.#slotOf.set(key, slot);
      this.#keys[slot] = key;
    }
    this.#floats.set(normalize(vector), (this.#base >> 2) + slot * this.#stride);
  }

  remove(key: string): boolean {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return false;
    this.#slotOf.delete(key);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
    return true;
  }

  search(query: Float32Array, k: number, options: VectorSearchOptions = {}): VectorHit[] {
    checkVector(query, this.dimensions, 'The query vector');
    checkK(k);
    const floats = this.#floats;
    floats.set(normalize(query), 0);
    const heap = new ScoreHeap('min');
    const keys = this.#keys;
    const filter = options.filter;
    const outOffset = (this.#stride * 4 + CHUNK * 4) >> 2;
    for (let start = 0; start < keys.length; start += CHUNK) {
      const count = Math.min(CHUNK, keys.length - start);
      const base = this.#base + start * this.#stride * 4;
      if (this.#kernel) {
        this.#kernel.dotMany(0, this.#stride * 4, count, this.#stride * 4, base, outOffset * 4, this.#stride);
      } else {
        for (let i = 0; i < count; i++)
          floats[outOffset + i] = dot(floats, 0, floats, (base >> 2) + i * this.#stride, this.#stride);
      }
      for (let i = 0; i < count; i++) {
        const key = keys[start + i];
        if (key === undefined || (filter && !filter(key))) continue;
        const similarity = floats[outOffset + i]!;
        if (heap.size < k) heap.push(start + i, similarity);
        else if (similarity > heap.peekScore()!) {
          heap.pop();
          heap.push(start + i, similarity);
        }
      }
    }
    return heap.drainDescending().map(({ id, score }) => ({ key: keys[id]!, similarity: score }));
  }
}
