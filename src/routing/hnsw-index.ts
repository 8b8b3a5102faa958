import { BatonError, InvalidArgumentError } from '../errors.ts';
import { ScoreHeap } from './score-heap.ts';
import { VectorArena } from './vector-arena.ts';
import {
  checkK,
  checkVector,
  normalize,
  type VectorHit,
  type VectorIndex,
  type VectorSearchOptions,
} from './vector-index.ts';

export interface HnswOptions {
  dimensions: number;
  /** Links per node on the upper layers; layer 0 keeps up to 2·M. Default 16. */
  M?: number;
  /** Candidate list size while inserting: higher builds a better graph, slower. Default 200. */
  efConstruction?: number;
  /** Candidate list size while searching (at least k): higher finds more true neighbours, slower. Default 64. */
  efSearch?: number;
  /** Seed of the level generator, so the same inserts build the same graph. Default 1. */
  seed?: number;
  /** Slots to allocate up front. */
  capacity?: number;
  /** Compute dot products in WebAssembly SIMD when available. Default true. */
  simd?: boolean;
}

/** The serialised format's version, written in every serialised index. */
export const HNSW_FORMAT = 1;
const MAGIC = 0x57534e48; // 'HNSW' little-endian

/**
 * Hierarchical Navigable Small World graphs (Malkov & Yashunin, 2018) over unit vectors, scored by
 * cosine similarity. No native code: the graph is walked with int8-quantised vectors compared by a
 * small WebAssembly SIMD kernel (JavaScript where WebAssembly is unavailable), and the candidates it
 * keeps are re-scored with the exact float32 vectors; layer-0 links sit in one Int32Array. A search
 * touches a few hundred vectors instead of all of them.
 *
 * `remove` marks a node deleted: it is no longer returned but still carries searches through the
 * graph, and the graph is rebuilt from the live nodes once deleted nodes outnumber them. Adding a
 * key that exists replaces its vector (remove, then insert).
 *
 * @example
 * const index = new HnswIndex({ dimensions: 512, M: 16, efConstruction: 200, efSearch: 64 });
 * index.add('billing', vector);
 * const hits = index.search(query, 10);
 * const copy = HnswIndex.deserialize(index.serialize());
 */
export class HnswIndex implements VectorIndex {
  readonly dimensions: number;
  readonly M: number;
  readonly efConstruction: number;
  efSearch: number;
  readonly #maxM0: number;
  readonly #levelFactor: number;
  #rngState: number;

  #capacity = 0;
  #count = 0;
  readonly #arena: VectorArena;
  /** Layer-0 links: node n's links are at [n·(maxM0+1)+1 …], their count at [n·(maxM0+1)]. */
  #links0 = new Int32Array(0);
  /** Links on layers ≥ 1: upper[n][level-1] is an array of node ids. */
  #upper: (number[][] | undefined)[] = [];
  #levels = new Int8Array(0);
  #deleted = new Uint8Array(0);
  #deletedCount = 0;
  #keys: string[] = [];
  readonly #slotOf = new Map<string, number>();
  #entry = -1;
  #maxLevel = -1;
  #visited = new Uint32Array(0);
  #visitMark = 0;
  readonly #candidates = new ScoreHeap('max');

  constructor(options: HnswOptions) {
    const { dimensions } = options;
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new InvalidArgumentError(
        `An index needs a positive whole number of dimensions, got ${String(dimensions)}.`,
      );
    }
    const M = options.M ?? 16;
    if (!Number.isInteger(M) || M < 2 || M > 100)
      throw new InvalidArgumentError(`HNSW M must be a whole number in [2, 100], got ${String(M)}.`);
    const efConstruction = options.efConstruction ?? 200;
    const efSearch = options.efSearch ?? 64;
    for (const [name, value] of [
      ['efConstruction', efConstruction],
      ['efSearch', efSearch],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new InvalidArgumentError(`HNSW ${name} must be a positive whole number, got ${String(value)}.`);
    }
    this.dimensions = dimensions;
    this.M = M;
    this.efConstruction = Math.max(efConstruction, M);
    this.efSearch = efSearch;
    this.#maxM0 = 2 * M;
    this.#levelFactor = 1 / Math.log(M);
    this.#rngState = (options.seed ?? 1) >>> 0;
    this.#arena = new VectorArena(
      dimensions,
      this.#maxM0 + 1,
      options.simd === undefined ? {} : { simd: options.simd },
    );
    this.#grow(Math.max(16, options.capacity ?? 16));
  }

  get size(): number {
    return this.#slotOf.size;
  }

  has(key: string): boolean {
    return this.#slotOf.has(key);
  }

  get(key: string): Float32Array | undefined {
    const node = this.#slotOf.get(key);
    return node === undefined ? undefined : this.#arena.read(node);
  }

  keys(): IterableIterator<string> {
    return this.#slotOf.keys();
  }

  add(key: string, vector: Float32Array): void {
    checkVector(vector, this.dimensions, `The vector for '${key}'`);
    if (this.#slotOf.has(key)) this.remove(key);
    if (this.#count === this.#capacity) this.#grow(this.#capacity * 2);
    const node = this.#count++;
    this.#arena.write(node, normalize(vector));
    this.#keys[node] = key;
    this.#slotOf.set(key, node);
    this.#insert(node, this.#randomLevel());
  }

  remove(key: string): boolean {
    const node = this.#slotOf.get(key);
    if (node === undefined) return false;
    this.#slotOf.delete(key);
    this.#deleted[node] = 1;
    this.#deletedCount++;
    if (this.#deletedCount > 64 && this.#deletedCount > this.#slotOf.size) this.#rebuild();
    return true;
  }

  search(query: Float32Array, k: number, options: VectorSearchOptions & { ef?: number } = {}): VectorHit[] {
    checkVector(query, this.dimensions, 'The query vector');
    checkK(k);
    if (this.#entry < 0 || this.#slotOf.size === 0) return [];
    const exact = normalize(query);
    const q = this.#arena.writeQuery(exact);
    let entry = this.#entry;
    for (let level = this.#maxLevel; level > 0; level--) entry = this.#greedy(q, entry, level);
    const ef = Math.max(k, options.ef ?? this.efSearch);
    const filter = options.filter;
    const keys = this.#keys;
    const deleted = this.#deleted;
    const accept = (node: number): boolean => deleted[node] === 0 && (!filter || filter(keys[node]!));
    // The walk scores with int8 vectors; the candidates it keeps are re-scored exactly.
    return this.#searchLayer(q, entry, ef, 0, accept)
      .drainDescending()
      .map(({ id }) => ({ key: keys[id]!, similarity: this.#arena.exactDot(exact, id) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }

  // ---- construction ----------------------------------------------------------------------------

  #insert(node: number, level: number): void {
    this.#levels[node] = level;
    if (level > 0) this.#upper[node] = Array.from({ length: level }, () => []);
    if (this.#entry < 0) {
      this.#entry = node;
      this.#maxLevel = level;
      return;
    }
    const q = this.#arena.address(node);
    let entry = this.#entry;
    for (let l = this.#maxLevel; l > level; l--) entry = this.#greedy(q, entry, l);
    // Deleted nodes may be linked to as well (as in hnswlib): they keep the graph connected until a rebuild.
    const other = (candidate: number): boolean => candidate !== node;
    for (let l = Math.min(level, this.#maxLevel); l >= 0; l--) {
      const found = this.#searchLayer(q, entry, this.efConstruction, l, other).drainDescending();
      if (found.length === 0) continue;
      const neighbours = this.#selectNeighbours(found, this.M);
      this.#setLinks(node, l, neighbours);
      for (const other of neighbours) this.#link(other, node, l);
      entry = found[0]!.id;
    }
    if (level > this.#maxLevel) {
      this.#entry = node;
      this.#maxLevel = level;
    }
  }

  /**
   * Malkov's heuristic: take candidates nearest first, keeping one only when it is nearer to the
   * new node than to every one already kept, so links spread in different directions.
   */
  #selectNeighbours(candidates: readonly { id: number; score: number }[], max: number): number[] {
    if (candidates.length <= max) return candidates.map((candidate) => candidate.id);
    const arena = this.#arena;
    const kept: number[] = [];
    for (const candidate of candidates) {
      let keep = true;
      const at = arena.address(candidate.id);
      for (const other of kept) {
        if (arena.dot(at, arena.address(other)) > candidate.score) {
          keep = false;
          break;
        }
      }
      if (keep) {
        kept.push(candidate.id);
        if (kept.length === max) break;
      }
    }
    return kept;
  }

  #link(from: number, to: number, level: number): void {
    const max = level === 0 ? this.#maxM0 : this.M;
    const current = this.#linksOf(from, level);
    if (current.length < max) {
      this.#setLinks(from, level, [...current, to]);
      return;
    }
    const arena = this.#arena;
    const ids = [...current, to];
    arena.ids.set(ids);
    arena.dotMany(arena.address(from), ids.length);
    const candidates = ids
      .map((id, index) => ({ id, score: arena.out[index]! }))
      .sort((a, b) => b.score - a.score);
    this.#setLinks(from, level, this.#selectNeighbours(candidates, max));
  }

  #linksOf(node: number, level: number): number[] {
    if (level > 0) return this.#upper[node]![level - 1]!;
    const base = node * (this.#maxM0 + 1);
    const count = this.#links0[base]!;
    return Array.from(this.#links0.subarray(base + 1, base + 1 + count));
  }

  #setLinks(node: number, level: number, links: readonly number[]): void {
    if (level > 0) {
      this.#upper[node]![level - 1] = [...links];
      return;
    }
    const base = node * (this.#maxM0 + 1);
    this.#links0[base] = links.length;
    for (let i = 0; i < links.length; i++) this.#links0[base + 1 + i] = links[i]!;
  }

  // ---- search ----------------------------------------------------------------------------------

  /** Walks greedily towards the query (at byte address `q`) on one upper layer; returns the nearest node found. */
  #greedy(q: number, entry: number, level: number): number {
    const arena = this.#arena;
    let best = entry;
    let bestScore = arena.dot(q, arena.address(entry));
    for (let improved = true; improved;) {
      improved = false;
      const links = this.#upper[best]?.[level - 1] ?? [];
      if (links.length === 0) break;
      arena.ids.set(links);
      arena.dotMany(q, links.length);
      let next = best;
      for (let i = 0; i < links.length; i++) {
        if (arena.out[i]! > bestScore) {
          bestScore = arena.out[i]!;
          next = links[i]!;
        }
      }
      if (next !== best) {
        best = next;
        improved = true;
      }
    }
    return best;
  }

  /**
   * Best-first search of one layer from `entry` towards the query at byte address `q`, keeping the
   * `ef` best nodes that `accept` allows (rejected nodes are still walked through). Returns a
   * min-heap of the kept nodes. The unvisited links of each expanded node are scored in one batch.
   */
  #searchLayer(
    q: number,
    entry: number,
    ef: number,
    level: number,
    accept: (node: number) => boolean,
  ): ScoreHeap {
    const arena = this.#arena;
    const ids = arena.ids;
    const out = arena.out;
    const visited = this.#visited;
    const mark = this.#nextVisitMark();
    const candidates = this.#candidates;
    candidates.clear();
    const results = new ScoreHeap('min');
    const links0 = this.#links0;
    const stride = this.#maxM0 + 1;
    const entryScore = arena.dot(q, arena.address(entry));
    visited[entry] = mark;
    candidates.push(entry, entryScore);
    if (accept(entry)) results.push(entry, entryScore);
    let worst = results.size > 0 ? entryScore : -Infinity;
    while (candidates.size > 0) {
      const score = candidates.peekScore()!;
      if (results.size >= ef && score < worst) break;
      const current = candidates.pop()!;
      let count = 0;
      if (level === 0) {
        const start = current * stride + 1;
        const end = start + links0[start - 1]!;
        for (let i = start; i < end; i++) {
          const next = links0[i]!;
          if (visited[next] === mark) continue;
          visited[next] = mark;
          ids[count++] = next;
        }
      } else {
        for (const next of this.#upper[current]?.[level - 1] ?? []) {
          if (visited[next] === mark) continue;
          visited[next] = mark;
          ids[count++] = next;
        }
      }
      if (count === 0) continue;
      arena.dotMany(q, count);
      for (let i = 0; i < count; i++) {
        const next = ids[i]!;
        const nextScore = out[i]!;
        if (results.size < ef || nextScore > worst) {
          candidates.push(next, nextScore);
          if (accept(next)) {
            results.push(next, nextScore);
            if (results.size > ef) results.pop();
            worst = results.peekScore()!;
          }
        }
      }
    }
    return results;
  }

  #nextVisitMark(): number {
    if (this.#visitMark === 0xffffffff) {
      this.#visited.fill(0);
      this.#visitMark = 0;
    }
    return ++this.#visitMark;
  }

  // ---- storage ---------------------------------------------------------------------------------

  #randomLevel(): number {
    // mulberry32: a small, seedable generator, so an index built from the same inserts is the same.
    let t = (this.#rngState = (this.#rngState + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const uniform = (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
    return Math.min(31, Math.floor(-Math.log(uniform) * this.#levelFactor));
  }

  #grow(capacity: number): void {
    this.#arena.reserve(capacity);
    const links0 = new Int32Array(capacity * (this.#maxM0 + 1));
    links0.set(this.#links0);
    const levels = new Int8Array(capacity);
    levels.set(this.#levels);
    const deleted = new Uint8Array(capacity);
    deleted.set(this.#deleted);
    const visited = new Uint32Array(capacity);
    visited.set(this.#visited);
    this.#links0 = links0;
    this.#levels = levels;
    this.#deleted = deleted;
    this.#visited = visited;
    this.#capacity = capacity;
  }

  /** Rebuilds the graph from the live nodes, dropping deleted ones. */
  #rebuild(): void {
    const live = [...this.#slotOf]
      .sort((a, b) => a[1] - b[1])
      .map(([key, slot]) => [key, this.#arena.read(slot)] as const);
    this.#count = 0;
    this.#links0.fill(0);
    this.#levels.fill(0);
    this.#deleted.fill(0);
    this.#visited.fill(0);
    this.#visitMark = 0;
    this.#upper = [];
    this.#keys = [];
    this.#slotOf.clear();
    this.#deletedCount = 0;
    this.#entry = -1;
    this.#maxLevel = -1;
    for (const [key, vector] of live) this.add(key, vector);
  }

  /**
   * The index as bytes: a header (format version, parameters, keys), then vectors and links. Read it
   * back with {@link HnswIndex.deserialize}; vectors are stored as written, so nothing is re-embedded.
   */
  serialize(): Uint8Array {
    const count = this.#count;
    const header = new TextEncoder().encode(
      JSON.stringify({
        format: HNSW_FORMAT,
        dimensions: this.dimensions,
        M: this.M,
        efConstruction: this.efConstruction,
        efSearch: this.efSearch,
        rngState: this.#rngState,
        count,
        entry: this.#entry,
        maxLevel: this.#maxLevel,
        keys: this.#keys.slice(0, count),
        deleted: Array.from(this.#deleted.subarray(0, count).entries())
          .filter(([, flag]) => flag === 1)
          .map(([node]) => node),
        upper: this.#upper.slice(0, count).map((levels) => levels ?? null),
      }),
    );
    const headerPadded = Math.ceil(header.length / 4) * 4;
    const vectorBytes = count * this.dimensions * 4;
    const linkBytes = count * (this.#maxM0 + 1) * 4;
    const bytes = new Uint8Array(12 + headerPadded + vectorBytes + count + linkBytes + 4);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, HNSW_FORMAT, true);
    view.setUint32(8, header.length, true);
    bytes.set(header, 12);
    let offset = 12 + headerPadded;
    const vectors = new Float32Array(count * this.dimensions);
    for (let node = 0; node < count; node++) vectors.set(this.#arena.read(node), node * this.dimensions);
    bytes.set(new Uint8Array(vectors.buffer), offset);
    offset += vectorBytes;
    bytes.set(new Uint8Array(this.#levels.buffer, this.#levels.byteOffset, count), offset);
    offset += count;
    offset = Math.ceil(offset / 4) * 4;
    bytes.set(new Uint8Array(this.#links0.buffer, this.#links0.byteOffset, linkBytes), offset);
    return bytes.subarray(0, offset + linkBytes);
  }

  static deserialize(bytes: Uint8Array): HnswIndex {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 12 || view.getUint32(0, true) !== MAGIC) {
      throw new BatonError('HNSW_UNREADABLE', 'These bytes are not a serialised HNSW index.');
    }
    const format = view.getUint32(4, true);
    if (format !== HNSW_FORMAT) {
      throw new BatonError(
        'HNSW_UNREADABLE',
        `The HNSW index was written in format ${format}; this Baton reads format ${HNSW_FORMAT}. Rebuild the index.`,
      );
    }
    const headerLength = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as {
      dimensions: number;
      M: number;
      efConstruction: number;
      efSearch: number;
      rngState: number;
      count: number;
      entry: number;
      maxLevel: number;
      keys: string[];
      deleted: number[];
      upper: (number[][] | null)[];
    };
    const index = new HnswIndex({
      dimensions: header.dimensions,
      M: header.M,
      efConstruction: header.efConstruction,
      efSearch: header.efSearch,
      capacity: Math.max(16, header.count),
    });
    const count = header.count;
    const d = header.dimensions;
    let offset = 12 + Math.ceil(headerLength / 4) * 4;
    const copy = (length: number): Uint8Array => {
      const slice = bytes.slice(offset, offset + length);
      offset += length;
      return slice;
    };
    const vectors = new Float32Array(copy(count * d * 4).buffer);
    for (let node = 0; node < count; node++)
      index.#arena.write(node, vectors.subarray(node * d, (node + 1) * d));
    index.#levels.set(new Int8Array(copy(count).buffer));
    offset = Math.ceil(offset / 4) * 4;
    index.#links0.set(new Int32Array(copy(count * (index.#maxM0 + 1) * 4).buffer));
    index.#count = count;
    index.#keys = header.keys;
    index.#upper = header.upper.map((levels) => levels ?? undefined);
    index.#entry = header.entry;
    index.#maxLevel = header.maxLevel;
    index.#rngState = header.rngState >>> 0;
    for (const node of header.deleted) {
      index.#deleted[node] = 1;
      index.#deletedCount++;
    }
    for (let node = 0; node < count; node++) {
      if (index.#deleted[node] === 0) index.#slotOf.set(header.keys[node]!, node);
    }
    return index;
  }
}
