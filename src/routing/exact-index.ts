import { InvalidArgumentError } from '../errors.ts';
import { ScoreHeap } from './score-heap.ts';
import { checkK, checkVector, dot, normalize, type VectorHit, type VectorIndex, type VectorSearchOptions } from './vector-index.ts';

/**
 * Brute-force nearest neighbours: every query is compared with every vector. Exact, so it is the
 * ground truth the HNSW index is measured against, and the right choice for small sets (a few
 * thousand vectors search in well under a millisecond).
 *
 * @example
 * const index = new ExactIndex({ dimensions: 512 });
 * index.add('billing', vector);
 * index.search(query, 3); // [{ key: 'billing', similarity: 0.82 }, …]
 */
export class ExactIndex implements VectorIndex {
  readonly dimensions: number;
  #data: Float32Array;
  #keys: (string | undefined)[] = [];
  readonly #slotOf = new Map<string, number>();
  readonly #free: number[] = [];

  constructor(options: { dimensions: number; capacity?: number }) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
      throw new InvalidArgumentError(`An index needs a positive whole number of dimensions, got ${String(options.dimensions)}.`);
    }
    this.dimensions = options.dimensions;
    this.#data = new Float32Array(Math.max(16, options.capacity ?? 16) * this.dimensions);
  }

  get size(): number {
    return this.#slotOf.size;
  }

  has(key: string): boolean {
    return this.#slotOf.has(key);
  }

  get(key: string): Float32Array | undefined {
    const slot = this.#slotOf.get(key);
    return slot === undefined ? undefined : this.#data.slice(slot * this.dimensions, (slot + 1) * this.dimensions);
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
      if ((slot + 1) * this.dimensions > this.#data.length) {
        const grown = new Float32Array(this.#data.length * 2);
        grown.set(this.#data);
        this.#data = grown;
      }
      this.#slotOf.set(key, slot);
      this.#keys[slot] = key;
    }
    this.#data.set(normalize(vector), slot * this.dimensions);
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
    const q = normalize(query);
    const heap = new ScoreHeap('min');
    const keys = this.#keys;
    const filter = options.filter;
    for (let slot = 0; slot < keys.length; slot++) {
      const key = keys[slot];
      if (key === undefined || (filter && !filter(key))) continue;
      const similarity = dot(this.#data, slot * this.dimensions, q, 0, this.dimensions);
      if (heap.size < k) heap.push(slot, similarity);
      else if (similarity > heap.peekScore()!) {
        heap.pop();
        heap.push(slot, similarity);
      }
    }
    return heap.drainDescending().map(({ id, score }) => ({ key: keys[id]!, similarity: score }));
  }
}
