import { InvalidArgumentError } from '../errors.ts';
import type { CalibratedDefaults, Embedder } from './embedder.ts';
import { LexicalEmbedder } from './lexical-embedder.ts';
import { checkUnitInterval } from '../argument-checks.ts';
import { loadWordVectors, type WordVectors } from './word-vectors.ts';
import { wordAligner, type WordAligner } from './word-alignment.ts';
import { lookUp, norm, unknownWordVector, wordFrequency, words } from './word-lookup.ts';

export interface WordVectorEmbedderOptions {
  /**
   * The word-vector table: a file in Baton's format (see scripts/build-word-vectors.ts). Default:
   * the built-in 80,000 English words of GloVe 6B 100-d (mean and top two principal
   * directions removed), read on first use (about 8 MB).
   */
  vectors?: URL | string;
  /** Share of the similarity that comes from shared words and spellings (the lexical embedder). Default 0.35. */
  lexicalWeight?: number;
  /** Dimensions of the lexical part. Default 256. */
  lexicalDimensions?: number;
  /** SIF's smoothing `a`: a word of corpus frequency p weighs a / (a + p). Default 1e-4. */
  smoothing?: number;
}

/**
 * The default **semantic** embedder, built in and offline: it needs no key, no network and no
 * model server, and it is deterministic. It knows that "refund" and "money back", "log in" and
 * "sign in", "broken" and "stopped working" are close, which the lexical embedder does not.
 *
 * A text's vector joins two parts: the SIF-weighted average of pretrained word vectors (each word
 * weighs a / (a + p), p its frequency, so rare, telling words count most), and the vector of the
 * {@link LexicalEmbedder} (shared words and spellings). A word the table lacks is looked up by its
 * stem ("webhooks" → "webhook"), else given a fixed pseudo-random vector of its own at full
 * weight, so that two texts naming the same rare term ("GDPR") are alike. Each part is L2-normalised and scaled so that the cosine of two vectors is
 * `(1 − lexicalWeight) · semantic cosine + lexicalWeight · lexical cosine`.
 *
 * The word vectors are read on the first `embed` (not on import), once per process. For
 * model-grade similarity use {@link embedderFromModel}; routing, the cache and memory take either.
 *
 * @example
 * const embedder = new WordVectorEmbedder();
 * const [a, b] = await embedder.embed(['I was charged twice', 'refund a double payment']);
 */
export class WordVectorEmbedder implements Embedder {
  readonly specificationVersion = 'v1' as const;
  readonly id: string;
  readonly dimensions: number;
  readonly lexical: LexicalEmbedder;
  /**
   * Measured on Baton's labelled support requests (bench/routing-quality.ts, tuning half) for the
   * default settings: "no fit" below similarity 0.2 (95% of the requests that fit a desk known by its
   * description clear it), 0.3 when most desks declare examples (the measured cut there: 0.306);
   * cache hits at 0.89 and above (the lowest threshold at which at most one tuning pair in fifty is
   * served a wrong entry: 0.885; the one it serves, "turn on" / "turn off", is at 0.95).
   */
  readonly calibrated: CalibratedDefaults | undefined;
  readonly #file: URL | string | undefined;
  readonly #lexicalWeight: number;
  readonly #smoothing: number;
  #table: Promise<WordVectors> | undefined;
  #aligner: Promise<WordAligner> | undefined;
  #semanticDimensions = 100;

  constructor(options: WordVectorEmbedderOptions = {}) {
    this.#file = options.vectors;
    this.#lexicalWeight = checkUnitInterval(
      options.lexicalWeight ?? 0.35,
      'WordVectorEmbedder lexicalWeight',
    );
    this.#smoothing = options.smoothing ?? 1e-4;
    if (!(this.#smoothing > 0))
      throw new InvalidArgumentError(
        `WordVectorEmbedder smoothing must be greater than 0, got ${String(options.smoothing)}.`,
      );
    this.lexical = new LexicalEmbedder({ dimensions: options.lexicalDimensions ?? 256 });
    this.dimensions = this.#semanticDimensions + this.lexical.dimensions;
    const settings =
      options.vectors === undefined && options.lexicalWeight === undefined && options.smoothing === undefined
        ? ''
        : `:${this.#lexicalWeight}:${this.#smoothing}:${String(options.vectors ?? 'built-in')}`;
    this.id = `baton-words-v2${settings}`;
    this.calibrated =
      settings === '' ? { minScore: 0.2, minScoreWithExamples: 0.3, cacheThreshold: 0.89 } : undefined;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const table = await this.#loadTable();
    return texts.map((text) => this.#embedOne(table, text));
  }

  /** Word-level alignment over the same word vectors, for the capability registry's ordering. */
  async wordAligner(): Promise<WordAligner> {
    this.#aligner ??= this.#loadTable().then(wordAligner);
    return this.#aligner;
  }

  async #loadTable(): Promise<WordVectors> {
    this.#table ??= loadWordVectors(...(this.#file === undefined ? [] : [this.#file]));
    const table = await this.#table;
    if (table.dimensions !== this.#semanticDimensions) {
      throw new InvalidArgumentError(
        `WordVectorEmbedder expects ${this.#semanticDimensions}-dimensional word vectors; ${table.source} has ${table.dimensions}.`,
      );
    }
    return table;
  }

  #embedOne(table: WordVectors, text: string): Float32Array {
    const out = new Float32Array(this.dimensions);
    const semantic = out.subarray(0, this.#semanticDimensions);
    const word = new Float32Array(this.#semanticDimensions);
    for (const token of words(text)) {
      for (const part of lookUp(table, token)) {
        if (typeof part === 'number') {
          const frequency = wordFrequency(table, part);
          const weight = this.#smoothing / (this.#smoothing + frequency);
          table.read(part, word);
          for (let i = 0; i < word.length; i++) semantic[i]! += weight * word[i]!;
        } else if (isTellingUnknown(part)) {
          // A word the table does not know is rare (weight ≈ 1): a fixed pseudo-random vector of
          // a typical word's length, so that texts sharing it are alike and others are not.
          unknownWordVector(part, typicalNorm(table), word);
          for (let i = 0; i < word.length; i++) semantic[i]! += word[i]!;
        }
      }
    }
    const lexical = this.lexical.embedOne(text);
    const semanticScale = Math.sqrt(1 - this.#lexicalWeight) / (norm(semantic) || 1);
    for (let i = 0; i < semantic.length; i++) semantic[i]! *= semanticScale;
    const lexicalScale = Math.sqrt(this.#lexicalWeight);
    for (let i = 0; i < lexical.length; i++) out[this.#semanticDimensions + i] = lexical[i]! * lexicalScale;
    return out;
  }
}

/** An unknown word worth a vector of its own: letters, at least three ("gdpr", "webhook"), not "i" or "a". */
function isTellingUnknown(word: string): boolean {
  return word.length >= 3 && /^\p{L}+$/u.test(word);
}

const norms = new WeakMap<WordVectors, number>();

/** The mean length of the table's 10,000 most frequent word vectors. */
function typicalNorm(table: WordVectors): number {
  let found = norms.get(table);
  if (found === undefined) {
    const word = new Float32Array(table.dimensions);
    const count = Math.min(10_000, table.ranks.length);
    let sum = 0;
    for (let row = 0; row < count; row++) sum += norm(table.read(row, word));
    found = sum / Math.max(1, count);
    norms.set(table, found);
  }
  return found;
}
