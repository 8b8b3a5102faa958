import { describe, expect, it } from 'vitest';
import { cacheQuality, readQualitySets, routingQuality } from '../../bench/routing-quality.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';

// The figures `npm run bench -- --only routing-quality` prints, held to what was measured when the
// defaults were chosen (on the tuning half only), so that a change that makes routing or the cache
// worse fails here. The aims (top-1 ≥ 0.85, top-3 ≥ 0.95) are not met by offline word
// vectors; see docs/decisions/0024-routing-quality-measured-on-held-out-requests.md.
const sets = readQualitySets();

describe('routing quality on labelled support requests (30 desks)', () => {
  it('routes held-out requests to desks that declare examples better than the lexical embedder does', async () => {
    const vectors = await routingQuality(new WordVectorEmbedder(), sets, 'declared examples');
    const lexical = await routingQuality(new LexicalEmbedder(), sets, 'declared examples');
    expect(vectors.heldOut.top1).toBeGreaterThanOrEqual(0.8);
    expect(vectors.heldOut.top3).toBeGreaterThanOrEqual(0.9);
    expect(vectors.fresh.top3).toBeGreaterThanOrEqual(0.8);
    expect(vectors.heldOut.top1).toBeGreaterThan(lexical.heldOut.top1);
    expect(vectors.fresh.top3).toBeGreaterThan(lexical.fresh.top3);
    // "No desk fits" is said more often rightly than wrongly, and a request that fits is sent to the
    // fallback rarely.
    expect(vectors.heldOut.noFitPrecision).toBeGreaterThan(0.5);
    expect(vectors.heldOut.fitsSentToFallback).toBeLessThanOrEqual(0.1);
  });

  it('routes better with declared examples than with descriptions alone', async () => {
    const embedder = new WordVectorEmbedder();
    const described = await routingQuality(embedder, sets, 'descriptions');
    const declared = await routingQuality(embedder, sets, 'declared examples');
    expect(declared.heldOut.top1).toBeGreaterThan(described.heldOut.top1);
    expect(declared.fresh.top1).toBeGreaterThan(described.fresh.top1);
  });

  it('serves no wrong cache entry for held-out requests at the calibrated threshold', async () => {
    for (const embedder of [new WordVectorEmbedder(), new LexicalEmbedder()]) {
      const cache = await cacheQuality(embedder, sets);
      expect(cache.wrongHitRate).toBeLessThanOrEqual(0.01);
      expect(cache.hitRate).toBeGreaterThan(0);
    }
  });
});
