import { describe, expect, it } from 'vitest';
import { cacheQuality, readQualitySets, routingQuality } from '../../bench/routing-quality.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';

// The figures `npm run bench -- --only routing-quality` prints, held to what was measured when the
// defaults were chosen (on the tuning half only), so that a change that makes routing or the cache
// worse fails here. The aims (top-1 ≥ 0.85, top-3 ≥ 0.95) are not met by offline word
// vectors; see docs/decisions/0024-routing-quality-measured-on-held-out-requests.md and
// docs/decisions/0032-a-classifier-fitted-on-the-registrys-texts.md.
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

  it("routes held-out requests better with the registry's classifier (the default) than by similarity alone", async () => {
    const embedder = new WordVectorEmbedder();
    const fused = await routingQuality(embedder, sets, 'declared examples');
    const alone = await routingQuality(embedder, sets, 'declared examples', { classifier: false });
    // Measured when the classifier's settings were chosen (tuning half only): 0.84 / 0.90 held-out,
    // 0.56 / 0.83 on the second set, against 0.82 / 0.92 and 0.53 / 0.81 by similarity alone.
    expect(fused.heldOut.top1).toBeGreaterThanOrEqual(0.835);
    expect(fused.heldOut.top3).toBeGreaterThanOrEqual(0.9);
    expect(fused.fresh.top1).toBeGreaterThanOrEqual(0.555);
    expect(fused.fresh.top3).toBeGreaterThanOrEqual(0.83);
    expect(fused.tuning!.top1).toBeGreaterThan(alone.tuning!.top1);
    expect(fused.heldOut.top1).toBeGreaterThan(alone.heldOut.top1);
    expect(fused.fresh.top1).toBeGreaterThan(alone.fresh.top1);
    // "No fit" at the shipped default for desks with examples (minScoreWithExamples 0.3): 0.65 / 0.72.
    expect(fused.atShippedMinScore.minScore).toBe(0.3);
    expect(fused.atShippedMinScore.heldOut.noFitPrecision).toBeGreaterThanOrEqual(0.645);
    expect(fused.atShippedMinScore.heldOut.noFitRecall).toBeGreaterThanOrEqual(0.72);
    expect(fused.atShippedMinScore.heldOut.fitsSentToFallback).toBeLessThanOrEqual(0.1);
  });

  it('routes held-out requests better after the tuning half is learnt, with the classifier', async () => {
    const learnt = await routingQuality(new WordVectorEmbedder(), sets, 'learnt routes');
    // 0.83 / 0.90 held-out and 0.69 / 0.88 on the second set (by similarity alone 0.78 / 0.90, 0.62 / 0.86).
    expect(learnt.heldOut.top1).toBeGreaterThanOrEqual(0.825);
    expect(learnt.fresh.top1).toBeGreaterThanOrEqual(0.685);
    expect(learnt.fresh.top3).toBeGreaterThanOrEqual(0.875);
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
