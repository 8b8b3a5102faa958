import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../../src/routing/exact-index.ts';
import { HnswIndex } from '../../src/routing/hnsw-index.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { cosineSimilarity } from '../../src/routing/vector-index.ts';

/** Clustered vectors from a seeded generator: neighbours exist, and the test is the same every run. */
function clustered(count: number, dimensions: number, seed = 7): Float32Array[] {
  let state = seed;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const centres = Array.from({ length: 50 }, () =>
    Float32Array.from({ length: dimensions }, () => random() * 2 - 1),
  );
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * centres.length)]!;
    return Float32Array.from(centre, (x) => x + (random() * 2 - 1) * 0.7);
  });
}

function recallAt10(index: HnswIndex, exact: ExactIndex, queries: readonly Float32Array[]): number {
  let found = 0;
  for (const query of queries) {
    const truth = new Set(exact.search(query, 10).map((hit) => hit.key));
    found += index.search(query, 10).filter((hit) => truth.has(hit.key)).length;
  }
  return found / (queries.length * 10);
}

describe('HNSW index', () => {
  const dimensions = 48;
  const data = clustered(3000, dimensions);
  const queries = clustered(100, dimensions, 99);

  it('finds what exact search finds (recall@10 ≥ 0.95)', () => {
    const hnsw = new HnswIndex({ dimensions, M: 12, efConstruction: 100, efSearch: 64 });
    const exact = new ExactIndex({ dimensions });
    data.forEach((vector, i) => {
      hnsw.add(`v${i}`, vector);
      exact.add(`v${i}`, vector);
    });
    expect(recallAt10(hnsw, exact, queries)).toBeGreaterThanOrEqual(0.95);
    const [top] = hnsw.search(data[5]!, 1);
    expect(top).toEqual({ key: 'v5', similarity: expect.closeTo(1, 5) });
  });

  it('removes and replaces vectors, and survives a rebuild after many removals', () => {
    const hnsw = new HnswIndex({ dimensions, M: 8, efConstruction: 64 });
    const exact = new ExactIndex({ dimensions });
    data.slice(0, 1000).forEach((vector, i) => {
      hnsw.add(`v${i}`, vector);
      exact.add(`v${i}`, vector);
    });
    for (let i = 0; i < 700; i++) {
      expect(hnsw.remove(`v${i}`)).toBe(true);
      exact.remove(`v${i}`);
    }
    expect(hnsw.remove('v0')).toBe(false);
    expect(hnsw.size).toBe(300);
    expect(hnsw.search(data[3]!, 300).some((hit) => Number(hit.key.slice(1)) < 700)).toBe(false);
    hnsw.add('v900', data[1]!);
    exact.add('v900', data[1]!);
    expect(hnsw.search(data[1]!, 1)[0]!.key).toBe('v900');
    expect(hnsw.size).toBe(300);
    expect(recallAt10(hnsw, exact, queries)).toBeGreaterThanOrEqual(0.95);
  });

  it('serialises to bytes and back with the same answers', () => {
    const hnsw = new HnswIndex({ dimensions, seed: 3 });
    data.slice(0, 500).forEach((vector, i) => hnsw.add(`v${i}`, vector));
    hnsw.remove('v10');
    const copy = HnswIndex.deserialize(hnsw.serialize());
    expect(copy.size).toBe(499);
    for (const query of queries.slice(0, 10)) expect(copy.search(query, 10)).toEqual(hnsw.search(query, 10));
    copy.add('new', queries[0]!);
    expect(copy.search(queries[0]!, 1)[0]!.key).toBe('new');
    expect(() => HnswIndex.deserialize(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).toThrow(
      /not a serialised HNSW index/,
    );
  });

  it('says what is wrong with a vector of the wrong length, and finds nothing in an empty index', () => {
    const hnsw = new HnswIndex({ dimensions: 4 });
    expect(hnsw.search(new Float32Array(4), 3)).toEqual([]);
    expect(() => hnsw.add('x', new Float32Array(5))).toThrow(
      "The vector for 'x' has 5 dimensions; this index holds 4-dimensional vectors.",
    );
    expect(() => hnsw.search(new Float32Array(4), 0)).toThrow('k must be a positive integer, got 0.');
    expect(() => new HnswIndex({ dimensions: 4, M: 1 })).toThrow(/M must be a whole number in \[2, 100\]/);
  });
});

describe('lexical embedder', () => {
  it('is deterministic, unit length, and matches shared words and spellings', async () => {
    const embedder = new LexicalEmbedder({ dimensions: 256 });
    const [a, b, c, again] = await embedder.embed([
      'refund the duplicate charges',
      'Refunded a duplicate charge',
      'track my parcel',
      'refund the duplicate charges',
    ]);
    expect(a!.length).toBe(256);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    expect(again).toEqual(a);
    expect(cosineSimilarity(a!, b!)).toBeGreaterThan(0.5);
    expect(cosineSimilarity(a!, c!)).toBeLessThan(0.2);
  });

  it('weights rare words up once fitted, and its table round-trips', () => {
    const corpus = [
      'the invoice for the order',
      'the order shipped',
      'the invoice was paid',
      'refund the order',
    ];
    const fitted = new LexicalEmbedder({ dimensions: 256 }).fit(corpus);
    const plain = new LexicalEmbedder({ dimensions: 256 });
    const query = 'refund order';
    // 'refund' is rare in the corpus, 'order' common: the fitted embedder leans towards documents with 'refund'.
    const fittedGap =
      cosineSimilarity(fitted.embedOne(query), fitted.embedOne('refund')) -
      cosineSimilarity(fitted.embedOne(query), fitted.embedOne('order'));
    const plainGap =
      cosineSimilarity(plain.embedOne(query), plain.embedOne('refund')) -
      cosineSimilarity(plain.embedOne(query), plain.embedOne('order'));
    expect(fittedGap).toBeGreaterThan(plainGap);
    const restored = new LexicalEmbedder({
      dimensions: 256,
      documentFrequencies: fitted.documentFrequencies.toJSON(),
    });
    expect(restored.embedOne(query)).toEqual(fitted.embedOne(query));
  });
});
