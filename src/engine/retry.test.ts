import { describe, expect, it } from 'vitest';
import { RETRY_JITTER, backoffDelay, resolveRetryPolicy } from './retry.ts';

/** A seeded generator (mulberry32), so every run of the test draws the same numbers. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('retry delays', () => {
  it('never retry sooner than asked, nor later than maxDelay, over many seeds', () => {
    const policies = [
      resolveRetryPolicy({}),
      resolveRetryPolicy({ initialDelay: '1s', backoffCoefficient: 2, maxDelay: '5s' }),
      resolveRetryPolicy({ initialDelay: 250, backoffCoefficient: 1.5, maxDelay: '1m' }),
      resolveRetryPolicy({ initialDelay: '2s', backoffCoefficient: 1, maxDelay: '2s' }),
    ];
    let lowest = Infinity;
    let highest = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const random = seeded(seed);
      for (const policy of policies) {
        for (let attempt = 1; attempt <= 12; attempt++) {
          const floor = Math.min(
            policy.maxDelayMs,
            policy.initialDelayMs * policy.backoffCoefficient ** (attempt - 1),
          );
          const delay = backoffDelay(policy, attempt, undefined, random);
          expect(delay).toBeGreaterThanOrEqual(floor);
          expect(delay).toBeLessThanOrEqual(
            Math.min(policy.maxDelayMs, Math.ceil(floor * (1 + RETRY_JITTER))),
          );
          if (attempt === 1 && policy === policies[1]) {
            lowest = Math.min(lowest, delay);
            highest = Math.max(highest, delay);
          }
        }
      }
    }
    // The jitter is really there: first retries of one policy spread over most of its 20 %.
    expect(lowest).toBeLessThan(1050);
    expect(highest).toBeGreaterThan(1150);
  });

  it("a server's Retry-After longer than the backoff wins; a shorter one does not shorten it", () => {
    const policy = resolveRetryPolicy({ initialDelay: '1s' });
    expect(backoffDelay(policy, 1, 30_000, () => 0.5)).toBe(30_000);
    expect(backoffDelay(policy, 1, 10, () => 0)).toBe(1000);
  });

  it('refuses a policy no delay could keep', () => {
    expect(() => resolveRetryPolicy({ initialDelay: '10s', maxDelay: '1s' })).toThrow(
      /retry.maxDelay \(1000 ms\) is shorter than retry.initialDelay \(10000 ms\)/,
    );
    expect(() => resolveRetryPolicy({ backoffCoefficient: 0.5 })).toThrow(
      /backoffCoefficient must be a number ≥ 1/,
    );
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});
