import { BatonError } from '../errors.ts';
import type { WordAligner } from './word-alignment.ts';

/**
 * The Embedder spec: turns texts into vectors of a fixed length. Routing, the semantic cache and
 * memory compare texts through it. Implemented by {@link LexicalEmbedder} (offline, no key) and by
 * {@link embedderFromModel} over any AI SDK embedding model.
 *
 * `id` names the embedding space (model and settings): vectors made under different ids or
 * dimensions are never compared; indexes holding them are rebuilt.
 */
export interface Embedder {
  readonly specificationVersion: 'v1';
  readonly id: string;
  readonly dimensions: number;
  /** One vector per text, in order, each `dimensions` long. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /**
   * Thresholds measured for this embedder on labelled data (bench/routing-quality.ts): the
   * similarity below which routing says no capability fits, and the semantic cache's threshold.
   * Routing and the cache take them as their defaults.
   */
  readonly calibrated?: CalibratedDefaults;
  /**
   * Word-level alignment in the embedder's word space, when it has one ({@link WordVectorEmbedder}):
   * the capability registry uses it to order the candidates it shortlisted by their vectors.
   */
  wordAligner?(): Promise<WordAligner>;
}

export interface CalibratedDefaults {
  /** Routing's default `minScore`: below it, "no capability fits". */
  minScore: number;
  /**
   * Routing's default `minScore` when most capabilities have more than their description (declared
   * examples or learnt tasks), whose best matches are closer; default `minScore`.
   */
  minScoreWithExamples?: number;
  /** The semantic cache's default `threshold`. */
  cacheThreshold: number;
}

/** The embedder's calibrated thresholds, or Baton's general defaults (minScore 0.2, cache 0.95). */
export function calibratedDefaults(embedder: Pick<Embedder, 'calibrated'>): CalibratedDefaults {
  return { minScore: 0.2, cacheThreshold: 0.95, ...embedder.calibrated };
}

/** An embedder returned vectors of another length than it declared. */
export class EmbeddingDimensionError extends BatonError {
  constructor(args: { embedder: string; expected: number; actual: number }) {
    super(
      'EMBEDDING_DIMENSIONS',
      `Embedder ${args.embedder} returned a ${args.actual}-dimensional vector, but declares ${args.expected} dimensions. ` +
        `Set its dimensions to ${args.actual} (indexes built with the old number are rebuilt).`,
    );
  }
}

/** Embeds `texts` and checks every vector's length against the embedder's declared dimensions. */
export async function embedChecked(
  embedder: Embedder,
  texts: readonly string[],
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  if (texts.length === 0) return [];
  const vectors = await embedder.embed(texts, signal ? { signal } : undefined);
  if (vectors.length !== texts.length) {
    throw new BatonError(
      'EMBEDDING_COUNT',
      `Embedder ${embedder.id} returned ${vectors.length} vectors for ${texts.length} texts.`,
    );
  }
  for (const vector of vectors) {
    if (vector.length !== embedder.dimensions) {
      throw new EmbeddingDimensionError({
        embedder: embedder.id,
        expected: embedder.dimensions,
        actual: vector.length,
      });
    }
  }
  return vectors;
}

/** `id/dimensions`: what a stored vector must match to be compared with new ones. */
export function embeddingSpace(embedder: Pick<Embedder, 'id' | 'dimensions'>): string {
  return `${embedder.id}/${embedder.dimensions}`;
}
