import type { CircuitBreakerPolicy, CircuitState } from 'cockatiel';
import { lazyModule } from '../lazy-module.ts';
import type { ResolvedBreaker } from './pool-config.ts';

/** Loaded when the first breaker is made: pools without one never load it. */
const cockatiel = lazyModule<typeof import('cockatiel')>('cockatiel');

export type BreakerState = 'closed' | 'open' | 'half-open';

/** How a call through the breaker ended. */
export type BreakerOutcome<T> =
  | { ok: true; value: T }
  /** `opened`: this failure opened the breaker. */
  | { ok: false; error: unknown; opened: boolean }
  /** The breaker is open (or probing): the call was not made. */
  | { ok: false; broken: true };

/**
 * One pool's circuit breaker in this process (cockatiel's, over a count-based sample): it opens
 * when more than `failureRatio` of the last `sampleSize` calls failed (once `minimumCalls` were
 * made), refuses calls while open, and after `halfOpenAfter` lets one probe call through:
 * success closes it, failure opens it again. Only failures `countsAsFailure` accepts are counted
 * (a provider's 5xx or timeout, not a bad request).
 */
export class PoolBreaker {
  readonly config: ResolvedBreaker;
  readonly #policy: CircuitBreakerPolicy;
  #openedAt = 0;
  #opens = 0;

  constructor(
    config: ResolvedBreaker,
    countsAsFailure: (error: unknown) => boolean,
    onState: (state: BreakerState) => void,
  ) {
    this.config = config;
    const { circuitBreaker, handleWhen, CountBreaker } = cockatiel();
    this.#policy = circuitBreaker(handleWhen(countsAsFailure), {
      halfOpenAfter: config.halfOpenAfterMs,
      breaker: new CountBreaker({
        threshold: config.failureRatio,
        size: config.sampleSize,
        minimumNumberOfCalls: config.minimumCalls,
      }),
    });
    this.#policy.onBreak(() => {
      this.#openedAt = Date.now();
      this.#opens++;
    });
    this.#policy.onStateChange((state) => onState(toState(state)));
  }

  get state(): BreakerState {
    return toState(this.#policy.state);
  }

  /** How long before a call may be tried: 0 when closed or due for its probe. */
  waitMs(): number {
    const { CircuitState } = cockatiel();
    switch (this.#policy.state) {
      case CircuitState.Closed:
        return 0;
      case CircuitState.Open:
        return Math.max(0, this.#openedAt + this.config.halfOpenAfterMs - Date.now());
      default:
        // A probe is in flight; its end (a state change) wakes the waiters sooner.
        return Math.min(this.config.halfOpenAfterMs, 1000);
    }
  }

  async run<T>(fn: () => Promise<T>): Promise<BreakerOutcome<T>> {
    const opensBefore = this.#opens;
    try {
      return { ok: true, value: await this.#policy.execute(fn) };
    } catch (error) {
      if (cockatiel().isBrokenCircuitError(error)) return { ok: false, broken: true };
      return { ok: false, error, opened: this.#opens > opensBefore };
    }
  }
}

function toState(state: CircuitState): BreakerState {
  const { CircuitState } = cockatiel();
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'open';
}
