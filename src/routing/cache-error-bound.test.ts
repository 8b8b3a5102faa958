import { describe, expect, it } from 'vitest';
import { boundedThreshold, type CacheVerdict } from './cache-error-bound.ts';

/** A deterministic stream of verdicts: right answers tend to match more closely than wrong ones. */
function verdicts(count: number, seed: number, wrongShare: number): CacheVerdict[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const correct = random() >= wrongShare;
    // Right: similarity in [0.80, 1); wrong: in [0.70, 0.95) — they overlap.
    const similarity = correct ? 0.8 + 0.2 * random() : 0.7 + 0.25 * random();
    return { similarity, correct };
  });
}

describe('boundedThreshold', () => {
  it('serves no similar hit until the verdicts bound the error rate', () => {
    expect(boundedThreshold([], 0.05)).toBeUndefined();
    expect(
      boundedThreshold(
        Array.from({ length: 20 }, () => ({ similarity: 0.9, correct: true })),
        0.05,
      ),
    ).toBeUndefined();
    const enough = Array.from({ length: 400 }, (_, index) => ({
      similarity: 0.99 - index / 4000,
      correct: true,
    }));
    const found = boundedThreshold(enough, 0.05)!;
    expect(found.threshold).toBe(0.89);
    expect(found).toMatchObject({ samples: 400, errors: 0 });
    expect(found.upperBound).toBeLessThanOrEqual(0.05);
  });

  it('counts every verdict at the threshold', () => {
    const tied = [
      ...Array.from({ length: 200 }, () => ({ similarity: 0.95, correct: true })),
      { similarity: 0.9, correct: false },
      { similarity: 0.9, correct: true },
    ];
    expect(boundedThreshold(tied, 0.05)).toMatchObject({ threshold: 0.9, samples: 202, errors: 1 });
  });

  it('holds the error rate on held-out requests it never saw', () => {
    for (const maxErrorRate of [0.02, 0.05, 0.1]) {
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const learnt = boundedThreshold(verdicts(5000, seed, 0.3), maxErrorRate)!;
        expect(learnt.threshold).toBeLessThan(1);
        const heldOut = verdicts(5000, seed + 100, 0.3).filter((item) => item.similarity >= learnt.threshold);
        const wrong = heldOut.filter((item) => !item.correct).length / heldOut.length;
        expect(heldOut.length).toBeGreaterThan(100);
        expect(wrong).toBeLessThanOrEqual(maxErrorRate);
      }
    }
  });
});
