import { InvalidArgumentError } from '../errors.ts';
import type { Embedder } from './embedder.ts';

export interface LexicalEmbedderOptions {
  /** Length of the vectors. Default 512. */
  dimensions?: number;
  /** Document frequencies to weight features by (from {@link LexicalEmbedder.fit} or a saved table). */
  documentFrequencies?: DocumentFrequencyTable | SerializedDocumentFrequencies;
  /**
   * Count every embedded text into the document-frequency table before embedding it (streaming
   * IDF). Vectors of the same text then drift slightly as the table grows. Default false.
   */
  streaming?: boolean;
  /** Weights of the three feature groups. Default words 1, bigrams 0.5, character n-grams 0.8. */
  weights?: { words?: number; bigrams?: number; characters?: number };
}

export interface SerializedDocumentFrequencies {
  format: 1;
  documents: number;
  /** Non-zero buckets as [bucket, count] pairs. */
  counts: [number, number][];
}

const DF_BUCKETS = 1 << 18;

/**
 * How many documents each (hashed) feature occurred in: the "IDF" of TF-IDF. Features hash into
 * 2^18 buckets, independent of the embedding's dimensions.
 */
export class DocumentFrequencyTable {
  documents = 0;
  readonly counts = new Uint32Array(DF_BUCKETS);

  add(featureHashes: Iterable<number>): void {
    this.documents++;
    for (const hash of new Set(featureHashes)) this.counts[dfBucket(hash)]!++;
  }

  /** Smoothed inverse document frequency: ln((1 + N) / (1 + df)) + 1; 1 for every feature before any document. */
  idf(featureHash: number): number {
    if (this.documents === 0) return 1;
    return Math.log((1 + this.documents) / (1 + this.counts[dfBucket(featureHash)]!)) + 1;
  }

  toJSON(): SerializedDocumentFrequencies {
    const counts: [number, number][] = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) counts.push([bucket, count]);
    });
    return { format: 1, documents: this.documents, counts };
  }

  static fromJSON(data: SerializedDocumentFrequencies): DocumentFrequencyTable {
    if (data.format !== 1)
      throw new InvalidArgumentError(`Unknown document-frequency table format ${String(data.format)}.`);
    const table = new DocumentFrequencyTable();
    table.documents = data.documents;
    for (const [bucket, count] of data.counts) table.counts[bucket] = count;
    return table;
  }
}

/**
 * A **lexical** embedder, built in and offline: it needs no key and no model, and it is
 * deterministic. It compares texts by the words and spellings they share, not by meaning:
 * "refund a charge" and "reverse a payment" look unrelated to it. Use it to run everything with no
 * provider, in tests, and where capability texts and tasks share vocabulary; use
 * {@link embedderFromModel} for semantic similarity.
 *
 * Each text becomes three groups of hashed features — word unigrams, word bigrams (stop words
 * dropped) and character 3–5-grams of each word — weighted by sublinear term frequency times
 * inverse document frequency (from a table fitted on a corpus, or updated as texts stream by),
 * hashed with a sign into `dimensions` buckets, each group L2-normalised, then mixed and
 * L2-normalised again.
 *
 * @example
 * const embedder = new LexicalEmbedder({ dimensions: 512 }).fit(capabilityTexts);
 * const [vector] = await embedder.embed(['refund the duplicate charge']);
 */
export class LexicalEmbedder implements Embedder {
  readonly specificationVersion = 'v1' as const;
  readonly id = 'baton-lexical-v1';
  readonly dimensions: number;
  readonly documentFrequencies: DocumentFrequencyTable;
  readonly #streaming: boolean;
  readonly #weights: { words: number; bigrams: number; characters: number };

  constructor(options: LexicalEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? 512;
    if (!Number.isInteger(dimensions) || dimensions < 8) {
      throw new InvalidArgumentError(
        `LexicalEmbedder dimensions must be a whole number of at least 8, got ${String(dimensions)}.`,
      );
    }
    this.dimensions = dimensions;
    const given = options.documentFrequencies;
    this.documentFrequencies =
      given === undefined
        ? new DocumentFrequencyTable()
        : given instanceof DocumentFrequencyTable
          ? given
          : DocumentFrequencyTable.fromJSON(given);
    this.#streaming = options.streaming ?? false;
    this.#weights = {
      words: options.weights?.words ?? 1,
      bigrams: options.weights?.bigrams ?? 0.5,
      characters: options.weights?.characters ?? 0.8,
    };
  }

  /** Counts `texts` into the document-frequency table (call before embedding a corpus). */
  fit(texts: Iterable<string>): this {
    for (const text of texts) this.documentFrequencies.add(allFeatures(extractFeatures(text)));
    return this;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => this.embedOne(text));
  }

  /** Synchronous form of {@link embed} for one text. */
  embedOne(text: string): Float32Array {
    const features = extractFeatures(text);
    if (this.#streaming) this.documentFrequencies.add(allFeatures(features));
    const out = new Float32Array(this.dimensions);
    const group = new Float32Array(this.dimensions);
    this.#addGroup(out, group, features.words, this.#weights.words);
    this.#addGroup(out, group, features.bigrams, this.#weights.bigrams);
    this.#addGroup(out, group, features.characters, this.#weights.characters);
    return normalizeInPlace(out);
  }

  #addGroup(out: Float32Array, group: Float32Array, hashes: readonly number[], weight: number): void {
    if (hashes.length === 0 || weight === 0) return;
    const counts = new Map<number, number>();
    for (const hash of hashes) counts.set(hash, (counts.get(hash) ?? 0) + 1);
    group.fill(0);
    const dimensions = this.dimensions;
    for (const [hash, count] of counts) {
      const value = (1 + Math.log(count)) * this.documentFrequencies.idf(hash);
      const bucket = (hash >>> 1) % dimensions;
      group[bucket]! += hash & 1 ? value : -value;
    }
    let norm = 0;
    for (let i = 0; i < dimensions; i++) norm += group[i]! * group[i]!;
    if (norm === 0) return;
    const scale = weight / Math.sqrt(norm);
    for (let i = 0; i < dimensions; i++) out[i]! += group[i]! * scale;
  }
}

interface Features {
  words: number[];
  bigrams: number[];
  characters: number[];
}

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can do does for from has have how i if in into is it its me my no not of on or our ' +
    'please so than that the their them then there these they this to up us was we what when where which who why will ' +
    'with you your'
  ).split(' '),
);

/** The text's words (lower-cased, accents removed), stop words dropped unless nothing else is left. */
export function tokenize(text: string): string[] {
  const words =
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const content = words.filter((word) => !STOP_WORDS.has(word));
  return content.length > 0 ? content : words;
}

function extractFeatures(text: string): Features {
  const words = tokenize(text);
  const features: Features = { words: [], bigrams: [], characters: [] };
  const stems = words.map(stem);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    features.words.push(fnv1a('w', stems[i]!));
    if (i > 0) features.bigrams.push(fnv1a('b', `${stems[i - 1]!} ${stems[i]!}`));
    const padded = `<${word}>`;
    for (let n = 3; n <= 5; n++) {
      for (let start = 0; start + n <= padded.length; start++)
        features.characters.push(fnv1a('c', padded.slice(start, start + n)));
    }
  }
  return features;
}

/** A light English suffix stripper (plurals, -ing, -ed), so "refunds" and "refunded" match "refund". */
function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  if (word.endsWith('ing') && word.length > 5) return word.slice(0, -3);
  if (word.endsWith('ed') && word.length > 4) return word.slice(0, -2);
  return word;
}

function allFeatures(features: Features): number[] {
  return [...features.words, ...features.bigrams, ...features.characters];
}

/** FNV-1a over a one-letter group tag and the text, as an unsigned 32-bit integer. */
function fnv1a(tag: string, text: string): number {
  let hash = 0x811c9dc5;
  hash = Math.imul(hash ^ tag.charCodeAt(0), 0x01000193);
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A second, independent bucket for the document-frequency table (murmur3's finaliser). */
function dfBucket(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) & (DF_BUCKETS - 1);
}

function normalizeInPlace(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  if (norm === 0) return vector;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
  return vector;
}
