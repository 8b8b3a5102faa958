import type { PoolRefusal } from '../store/pool-store.ts';

/** What a refused call does next: sleep in this process, or park its run (holding no worker slot). */
export interface WaitPlan {
  kind: 'sleep' | 'park';
  delayMs: number;
}

/** The shortest backoff step for slots, in ms. */
const BASE_MS = 5;
/** Coming back at an exact time, processes spread over up to this much (ms) rather than all at once. */
const SPREAD_MS = 50;

/**
 * How a refused call waits.
 *
 * - A wait expected to end beyond `inlineMs` (counting what this call already waited in process)
 *   parks the run: it holds no worker slot, and resumes by replay at the planned time (or sooner,
 *   when the store wakes it because a slot came free for it).
 * - A window, a pause or an open breaker ends at a known time: sleep until then, plus a little
 *   jitter so processes do not all come back at once.
 * - A slot frees at an unknown time: exponential backoff with full jitter (a uniform delay up to
 *   an exponentially growing ceiling, seeded by the store's estimate); a slot released in this
 *   process wakes the longest waiter at once.
 */
export function planWait(
  refusal: { reason: PoolRefusal | 'breaker'; retryAfterMs: number },
  attempt: number,
  waitedInProcessMs: number,
  inlineMs: number,
  random: () => number = Math.random,
): WaitPlan {
  const expected = Math.max(1, refusal.retryAfterMs);
  const exact = refusal.reason !== 'concurrency';
  if (waitedInProcessMs + expected > inlineMs) {
    const delayMs = exact ? expected + spread(expected, random) : Math.round(expected * (0.5 + random()));
    return { kind: 'park', delayMs: Math.max(1, delayMs) };
  }
  if (exact) return { kind: 'sleep', delayMs: expected + spread(expected, random) };
  const ceiling = Math.min(inlineMs, Math.max(expected, BASE_MS) * 2 ** Math.min(attempt - 1, 20));
  return { kind: 'sleep', delayMs: Math.max(1, Math.round(random() * ceiling)) };
}

function spread(expected: number, random: () => number): number {
  return Math.round(random() * Math.min(SPREAD_MS, expected * 0.1));
}
