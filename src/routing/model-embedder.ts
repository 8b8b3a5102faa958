import type { EmbeddingModel } from 'ai';
import { InvalidArgumentError } from '../errors.ts';
import type { Embedder } from './embedder.ts';

export interface ModelEmbedderOptions {
  /** Any AI SDK embedding model (`openai.embedding('text-embedding-3-small')`, a gateway id…). */
  model: EmbeddingModel;
  /** The length of the model's vectors (1536 for text-embedding-3-small). */
  dimensions: number;
  /** Ask the provider for `dimensions`-long vectors (for models that can shorten them). Default false. */
  requestDimensions?: boolean;
  /** Names the embedding space; default `provider:modelId`. */
  id?: string;
  maxRetries?: number;
  maxParallelCalls?: number;
}

/**
 * An {@link Embedder} over an AI SDK embedding model, through `embedMany` (which splits large
 * batches by the model's limit and retries). Returned vectors are checked against `dimensions`.
 *
 * @example
 * import { openai } from '@ai-sdk/openai';
 * const embedder = embedderFromModel({ model: openai.embedding('text-embedding-3-small'), dimensions: 1536 });
 */
export function embedderFromModel(options: ModelEmbedderOptions): Embedder {
  const { model, dimensions } = options;
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new InvalidArgumentError(
      `embedderFromModel needs the model's dimensions as a positive whole number, got ${String(dimensions)}.`,
    );
  }
  const id = options.id ?? (typeof model === 'string' ? model : `${model.provider}:${model.modelId}`);
  return {
    specificationVersion: 'v1',
    id,
    dimensions,
    async embed(texts, callOptions) {
      if (texts.length === 0) return [];
      const { embedMany } = await import('ai');
      const result = await embedMany({
        model,
        values: [...texts],
        ...(options.requestDimensions ? { dimensions } : {}),
        ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
        ...(options.maxParallelCalls === undefined ? {} : { maxParallelCalls: options.maxParallelCalls }),
        ...(callOptions?.signal ? { abortSignal: callOptions.signal } : {}),
      });
      return result.embeddings.map((embedding) => Float32Array.from(embedding));
    },
  };
}
