import { InvalidArgumentError } from '../errors.ts';

/** One search result: the key a vector was added under and its cosine similarity to the query. */
export interface VectorHit {
  key: string;
  similarity: number;
}

export interface VectorSearchOptions {
  /** Only keys for which this returns true are returned (they are still walked through). */
  filter?: (key: string) => boolean;
}

/**
 * A nearest-neighbour index over L2-normalised vectors, scored by cosine similarity (the dot
 * product of unit vectors). Implemented by {@link HnswIndex} (approximate, fast) and
 * {@link ExactIndex} (brute force, the ground truth).
 */
export interface VectorIndex {
  readonly dimensions: number;
  /** Live vectors (removed ones not counted). */
  readonly size: number;
  /** Adds a vector under `key`, replacing the key's vector when it is already there. */
  add(key: string, vector: Float32Array): void;
  /** Removes the key's vector; false when the key was not there. */
  remove(key: string): boolean;
  has(key: string): boolean;
  /** The key's vector as stored (unit length), or undefined. */
  get(key: string): Float32Array | undefined;
  /** The `k` most similar vectors, most similar first. */
  search(query: Float32Array, k: number, options?: VectorSearchOptions): VectorHit[];
  keys(): IterableIterator<string>;
}

/** Dot product of the first `dimensions` components of `a` (from `aOffset`) and `b` (from `bOffset`). */
export function dot(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  dimensions: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const end = dimensions - (dimensions % 4);
  for (; i < end; i += 4) {
    s0 += a[aOffset + i]! * b[bOffset + i]!;
    s1 += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
    s2 += a[aOffset + i + 2]! * b[bOffset + i + 2]!;
    s3 += a[aOffset + i + 3]! * b[bOffset + i + 3]!;
  }
  for (; i < dimensions; i++) s0 += a[aOffset + i]! * b[bOffset + i]!;
  return s0 + s1 + s2 + s3;
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) {
    throw new InvalidArgumentError(`Cannot compare vectors of ${a.length} and ${b.length} dimensions.`);
  }
  const ab = dot(a, 0, b, 0, a.length);
  const aa = dot(a, 0, a, 0, a.length);
  const bb = dot(b, 0, b, 0, b.length);
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** A unit-length copy of `vector` (an all-zero vector stays all zeros). */
export function normalize(vector: Float32Array): Float32Array {
  const norm = Math.sqrt(dot(vector, 0, vector, 0, vector.length));
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

export function checkVector(vector: Float32Array, dimensions: number, what: string): void {
  if (!(vector instanceof Float32Array)) throw new InvalidArgumentError(`${what} must be a Float32Array.`);
  if (vector.length !== dimensions) {
    throw new InvalidArgumentError(
      `${what} has ${vector.length} dimensions; this index holds ${dimensions}-dimensional vectors.`,
    );
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!))
      throw new InvalidArgumentError(`${what} has a non-finite component at ${i}.`);
  }
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1)
    throw new InvalidArgumentError(`k must be a positive integer, got ${String(k)}.`);
}
