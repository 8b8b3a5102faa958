import type { PoolRefusal } from '../store/pool-store.ts';
import type { BreakerState } from './pool-breaker.ts';

/**
 * What resource pools report as they work, for metrics (a plain callback; an OpenTelemetry bridge
 * can subscribe to it). Events describe this process's calls; `pools.stats()` gives the totals
 * across processes.
 */
export type PoolEvent =
  /** A call got its slot, after waiting `waitedMs` (across parks). */
  | { type: 'pool.granted'; pool: string; at: number; waitedMs: number }
  /** A call was refused a slot and will come back in `retryAfterMs`. */
  | {
      type: 'pool.refused';
      pool: string;
      at: number;
      reason: PoolRefusal | 'breaker';
      retryAfterMs: number;
      position: number;
    }
  /** A call's wait was long: its run parked until `wakeAt` (or until a slot frees for it). */
  | { type: 'pool.parked'; pool: string; at: number; runId: string; wakeAt: number }
  /** A call gave its slot back after `heldMs`. */
  | {
      type: 'pool.released';
      pool: string;
      at: number;
      heldMs: number;
      tokens: number;
      outcome: 'succeeded' | 'failed' | 'rate-limited' | 'unused';
    }
  /** The pool's circuit breaker in this process changed state. */
  | { type: 'pool.breaker'; pool: string; at: number; state: BreakerState };

export type PoolListener = (event: PoolEvent) => void;

/** The listeners of one Baton's pools. A listener that throws is logged and does not stop the others. */
export class PoolMetrics {
  readonly #listeners = new Set<PoolListener>();
  readonly #log: (message: string, error?: unknown) => void;

  constructor(log: (message: string, error?: unknown) => void) {
    this.#log = log;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: PoolListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: PoolEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log(`a pool metrics listener threw on ${event.type}`, error);
      }
    }
  }
}
