import { describe, expect, it } from 'vitest';
import { planWait } from './pool-wait.ts';

describe('planWait', () => {
  it('sleeps until a window frees (exact), spread by at most 10% or 50 ms', () => {
    expect(planWait({ reason: 'requests', retryAfterMs: 200 }, 1, 0, 2000, () => 0)).toEqual({
      kind: 'sleep',
      delayMs: 200,
    });
    expect(planWait({ reason: 'requests', retryAfterMs: 200 }, 1, 0, 2000, () => 0.999)).toEqual({
      kind: 'sleep',
      delayMs: 220,
    });
    expect(planWait({ reason: 'paused', retryAfterMs: 1500 }, 1, 0, 2000, () => 0.999)).toEqual({
      kind: 'sleep',
      delayMs: 1550,
    });
  });

  it('backs off with full jitter for a slot: a uniform delay under a ceiling that doubles each time', () => {
    const ceilings = [1, 2, 3, 4, 5].map(
      (attempt) =>
        planWait({ reason: 'concurrency', retryAfterMs: 10 }, attempt, 0, 2000, () => 0.999).delayMs,
    );
    expect(ceilings).toEqual([10, 20, 40, 80, 160]);
    expect(planWait({ reason: 'concurrency', retryAfterMs: 10 }, 30, 0, 2000, () => 0.999).delayMs).toBe(
      1998,
    );
    expect(planWait({ reason: 'concurrency', retryAfterMs: 10 }, 3, 0, 2000, () => 0).delayMs).toBe(1);
  });

  it('parks when the wait, with what was already waited in process, would pass the inline limit', () => {
    expect(planWait({ reason: 'requests', retryAfterMs: 2500 }, 1, 0, 2000, () => 0)).toEqual({
      kind: 'park',
      delayMs: 2500,
    });
    expect(planWait({ reason: 'concurrency', retryAfterMs: 600 }, 4, 1500, 2000, () => 0.5)).toEqual({
      kind: 'park',
      delayMs: 600,
    });
    expect(planWait({ reason: 'breaker', retryAfterMs: 10_000 }, 1, 0, 2000, () => 0).kind).toBe('park');
  });
});
