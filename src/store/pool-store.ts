/**
 * The `pools` capability of the Store spec: the shared state behind resource pools (concurrency
 * slots, request and token windows, the queue of waiters), kept in the store so that every worker
 * process sharing it keeps one set of limits. Optional: a store without it cannot enforce pools,
 * and Baton refuses pool or admission settings on such a store.
 *
 * Every method is atomic: two processes acquiring at once never both take the last slot.
 * Times are epoch ms taken from the caller (`now`), never from the store's own clock.
 *
 * The state is operational, not a record: a store may commit it with weaker durability than the
 * journal (a lost lease after a power cut only costs one window of accuracy).
 */
export interface PoolStore {
  readonly specificationVersion: 'v1';

  /**
   * Takes, in one transaction, a slot (when `limits.concurrency`), one request (when
   * `limits.requests`) and `tokens` (when `limits.tokens`) from the pool, or refuses and says when
   * to come back.
   *
   * Queueing: a refused holder becomes a waiter, keyed by `(pool, holder)`, and keeps its place
   * (`since`) across refusals until it is granted or stops coming back (`retryAfterMs` plus a grace
   * period). Waiters are served by priority (higher first), then taking turns between tenants,
   * then oldest first. A request is granted only when the waiters ahead of it that are present
   * (due to come back by now) leave room for it, so a newcomer does not overtake the queue.
   *
   * Windows: a request or its tokens count against the pool from its grant until `limits.windowMs`
   * after it ended (release, or lease expiry), so that a provider receiving the request at any time
   * while it runs never sees more than the limit within any window.
   */
  acquire(request: PoolAcquireRequest): Promise<PoolAcquireResult>;

  /**
   * Ends a lease: frees its slot at once, and corrects its reserved tokens to the actual usage.
   * `unused` withdraws the request (it was never sent: it no longer counts in the windows).
   * `pauseUntil` stops every grant of the pool until then (a provider's Retry-After).
   * Releasing an unknown or already released lease does nothing.
   */
  release(leaseId: string, options: PoolReleaseOptions): Promise<void>;

  /** Extends held leases to `now + leaseMs` (calls that outlast the lease). Unknown ids are ignored. */
  renew(leaseIds: readonly string[], leaseMs: number, now: number): Promise<void>;

  /** What each pool the store knows is doing now. */
  usage(now: number): Promise<PoolUsage[]>;
}

export interface PoolLimits {
  /** Slots held at once. */
  concurrency?: number;
  /** Requests per window. */
  requests?: number;
  /**
   * Tokens per window. A single request larger than this is granted when the window holds no
   * tokens, and counts for as many windows as it needs (so the rate still holds).
   */
  tokens?: number;
  /** The length of the request and token windows. */
  windowMs: number;
}

export interface PoolAcquireRequest {
  pool: string;
  /** Who waits: stable across retries and replays (`runId:op`), so it keeps its place in the queue. */
  holder: string;
  /** The run that waits, if any: a parked run is woken early when a slot frees for it. */
  runId?: string;
  tenant: string;
  priority: number;
  limits: PoolLimits;
  /** Tokens to reserve (an estimate, corrected on release). */
  tokens: number;
  now: number;
  /** A slot not renewed within this long comes back to the pool (its holder died). */
  leaseMs: number;
}

export type PoolRefusal = 'concurrency' | 'requests' | 'tokens' | 'paused';

export type PoolAcquireResult =
  | { granted: true; leaseId: string; waitedMs: number }
  | {
      granted: false;
      /** What binds first. */
      reason: PoolRefusal;
      /** When to come back; exact for windows and pauses, an estimate for slots. */
      retryAfterMs: number;
      /** 1-based place among all waiters of the pool. */
      position: number;
      /** How long this holder has been waiting. */
      waitedMs: number;
    };

export interface PoolReleaseOptions {
  now: number;
  /** The tokens actually used; the reservation stands when omitted. */
  tokens?: number;
  /** The request was never sent (breaker open, cancelled): withdraw it from the windows. */
  unused?: boolean;
  /** Grant nothing in this pool before this time. */
  pauseUntil?: number;
}

export interface PoolUsage {
  pool: string;
  /** Slots held now. */
  inFlight: number;
  /** Holders waiting (in a process or parked). */
  waiting: number;
  /** How long the oldest waiter has waited, in ms. */
  oldestWaitMs: number;
  /** Requests and tokens counting against the current windows. */
  requestsInWindow: number;
  tokensInWindow: number;
  pausedUntil?: number;
  /** Grants since the pool was first used, and the time they waited. */
  granted: number;
  totalWaitMs: number;
  maxWaitMs: number;
  /** A moving average of how long a slot is held, in ms. */
  averageHoldMs: number;
}
