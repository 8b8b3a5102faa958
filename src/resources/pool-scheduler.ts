import type { OperationHandle } from '../engine/context.ts';
import type { PoolCall, PoolGate, PoolLease, RunSlot } from '../engine/pool-gate.ts';
import {
  BatonError,
  ConfigError,
  InvalidArgumentError,
  NonRetryableError,
  RateLimitedError,
  ServiceUnavailableError,
  UnknownPoolError,
  serializeError,
} from '../errors.ts';
import type { PoolAcquireResult, PoolRefusal, PoolReleaseOptions, PoolStore } from '../store/pool-store.ts';
import type { Store } from '../store/store.ts';
import { classifyError, type ErrorClassification } from './classify-error.ts';
import { PoolBreaker, type BreakerOutcome } from './pool-breaker.ts';
import { resolvePools, type PoolsConfig, type ResolvedPool } from './pool-config.ts';
import { PoolMetrics, type PoolListener } from './pool-metrics.ts';
import { poolStats, type PoolStats } from './pool-stats.ts';
import { planWait } from './pool-wait.ts';

/** How long a pool pauses after a 429 that named no Retry-After. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 1000;

export interface PoolSchedulerOptions {
  store: Store;
  pools?: PoolsConfig;
  clock: () => number;
  /** Waits expected to be shorter than this are spent in process; longer ones park the run. */
  inlineWaitMs: number;
  log: (message: string, error?: unknown) => void;
  /** Called when this process gave a slot back: a parked run may have been woken for it. */
  onSlotFreed?: () => void;
}

type Granted = Extract<PoolAcquireResult, { granted: true }>;

/**
 * The resource pools of one Baton: the `PoolGate` steps and calls wait at. Limits are kept
 * in the store (so they hold across processes); this process keeps the circuit breakers, the
 * renewal of the slots it holds, and the metrics listeners.
 *
 * A call waits for its slot in this process while the wait is short (exponential backoff with full
 * jitter for slots, the exact time for windows); a longer wait parks its run, which then holds no
 * worker slot and keeps its place in the pool's queue. After the call, the error it threw is
 * classified: a 429 pauses the whole pool for its Retry-After and becomes RateLimitedError, a 5xx
 * or timeout becomes ServiceUnavailableError (and counts against the breaker), another 4xx
 * becomes NonRetryableError.
 */
export class PoolScheduler implements PoolGate {
  readonly #store: PoolStore | undefined;
  readonly #location: string;
  readonly #clock: () => number;
  readonly #inlineWaitMs: number;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #onSlotFreed: (() => void) | undefined;
  readonly #metrics: PoolMetrics;
  #pools = new Map<string, ResolvedPool>();
  readonly #breakers = new Map<string, PoolBreaker>();
  readonly #sleepers = new Map<string, Set<() => void>>();
  readonly #held = new Map<string, number>();
  #renewTimer: NodeJS.Timeout | undefined;
  #renewEveryMs = Infinity;
  #closed = false;

  constructor(options: PoolSchedulerOptions) {
    this.#store = options.store.pools;
    this.#location = options.store.location;
    this.#clock = options.clock;
    this.#inlineWaitMs = options.inlineWaitMs;
    this.#log = options.log;
    this.#onSlotFreed = options.onSlotFreed;
    this.#metrics = new PoolMetrics(options.log);
    this.configure(options.pools);
  }

  /** The configured pool names. */
  get names(): string[] {
    return [...this.#pools.keys()];
  }

  /**
   * Replaces the pools' limits, for instance after baton.config.ts changed, while runs are in
   * flight: calls waiting in this process re-read them at once, parked runs when they resume, and
   * no queued work is lost (waiters keep their place in the store). Slots held beyond a lowered
   * concurrency stay held until released. Throws ConfigError (and changes nothing) when invalid.
   */
  configure(pools: PoolsConfig | undefined): void {
    const resolved = resolvePools(pools);
    if (resolved.size > 0 && !this.#store) {
      throw new ConfigError(
        `Resource pools need a store that keeps them (the store capability 'pools'); the store at ` +
          `${this.#location} does not. Use the SQLite or PostgreSQL store, or a store version that has it.`,
      );
    }
    for (const [name, pool] of resolved) {
      const previous = this.#pools.get(name);
      const same = previous && JSON.stringify(previous.breaker) === JSON.stringify(pool.breaker);
      if (same && this.#breakers.has(name)) continue;
      this.#breakers.delete(name);
      if (pool.breaker) {
        this.#breakers.set(
          name,
          new PoolBreaker(
            pool.breaker,
            (error) => classifyError(error).kind === 'unavailable',
            (state) => {
              this.#metrics.emit({ type: 'pool.breaker', pool: name, at: this.#clock(), state });
              this.#wakeAll(name);
            },
          ),
        );
      }
    }
    for (const name of this.#breakers.keys()) if (!resolved.has(name)) this.#breakers.delete(name);
    this.#pools = resolved;
    for (const name of this.#sleepers.keys()) this.#wakeAll(name);
  }

  assertPool(pool: string, where: string): void {
    if (!this.#pools.has(pool)) throw new UnknownPoolError({ pool, known: this.names, where });
  }

  /** Adds a metrics listener (see PoolEvent); returns the function that removes it. */
  subscribe(listener: PoolListener): () => void {
    return this.#metrics.subscribe(listener);
  }

  /** Queue depth, wait times, in-flight calls and utilization of every configured pool, across processes. */
  async stats(): Promise<PoolStats[]> {
    const now = this.#clock();
    const usage = this.#store ? await this.#store.usage(now) : [];
    return poolStats(this.#pools, usage, (name) => this.#breakers.get(name)?.state, now);
  }

  async run<T>(op: OperationHandle, call: PoolCall, work: (lease: PoolLease) => Promise<T>): Promise<T> {
    let attempt = 0;
    let waitedInProcessMs = 0;
    for (;;) {
      if (op.signal.aborted) throw op.signal.reason;
      const pool = this.#pools.get(call.pool);
      if (!pool || !this.#store)
        throw new UnknownPoolError({ pool: call.pool, known: this.names, where: capitalize(call.what) });
      const breaker = this.#breakers.get(pool.name);
      let refusal: { reason: PoolRefusal | 'breaker'; retryAfterMs: number; position: number };
      const breakerWaitMs = breaker?.waitMs() ?? 0;
      if (breakerWaitMs > 0) {
        refusal = { reason: 'breaker', retryAfterMs: breakerWaitMs, position: 0 };
      } else {
        const result = await this.#store.acquire({
          pool: pool.name,
          holder: call.holder,
          runId: call.runId,
          tenant: call.tenant,
          priority: call.priority,
          limits: pool.limits,
          tokens: call.tokens,
          now: this.#clock(),
          leaseMs: pool.leaseMs,
        });
        if (result.granted) {
          this.#metrics.emit({
            type: 'pool.granted',
            pool: pool.name,
            at: this.#clock(),
            waitedMs: result.waitedMs,
          });
          const outcome = await op.active(() => this.#hold(op, call, pool, breaker, result, work));
          if (outcome.ok) return outcome.value;
          refusal = { reason: 'breaker', retryAfterMs: Math.max(1, breaker?.waitMs() ?? 1), position: 0 };
        } else {
          refusal = result;
        }
      }
      const at = this.#clock();
      this.#emitRefused(pool.name, at, refusal);
      attempt++;
      const plan = planWait(refusal, attempt, waitedInProcessMs, this.#inlineWaitMs);
      if (plan.kind === 'park') {
        this.#metrics.emit({
          type: 'pool.parked',
          pool: pool.name,
          at,
          runId: call.runId,
          wakeAt: at + plan.delayMs,
        });
        return op.block(at + plan.delayMs);
      }
      await op.active(() => this.#sleep(pool.name, plan.delayMs, op.signal));
      waitedInProcessMs += this.#clock() - at;
    }
  }

  #emitRefused(
    pool: string,
    at: number,
    refusal: { reason: PoolRefusal | 'breaker'; retryAfterMs: number; position: number },
  ): void {
    const { reason, retryAfterMs, position } = refusal;
    this.#metrics.emit({ type: 'pool.refused', pool, at, reason, retryAfterMs, position });
  }

  async enterRun(
    run: { runId: string; tenant: string; priority: number },
    poolName: string,
  ): Promise<RunSlot> {
    const pool = this.#pools.get(poolName);
    if (!pool || !this.#store)
      throw new UnknownPoolError({ pool: poolName, known: this.names, where: `Run ${run.runId}` });
    const result = await this.#store.acquire({
      pool: pool.name,
      holder: `run:${run.runId}`,
      runId: run.runId,
      tenant: run.tenant,
      priority: run.priority,
      limits: pool.limits,
      tokens: 0,
      now: this.#clock(),
      leaseMs: pool.leaseMs,
    });
    const at = this.#clock();
    if (!result.granted) {
      this.#emitRefused(pool.name, at, result);
      // A run waits parked: it holds no worker slot while the pool is full.
      const plan = planWait(result, 1, Infinity, this.#inlineWaitMs);
      this.#metrics.emit({
        type: 'pool.parked',
        pool: pool.name,
        at,
        runId: run.runId,
        wakeAt: at + plan.delayMs,
      });
      return { granted: false, retryAfterMs: plan.delayMs };
    }
    this.#metrics.emit({ type: 'pool.granted', pool: pool.name, at, waitedMs: result.waitedMs });
    this.#held.set(result.leaseId, pool.leaseMs);
    this.#renewHeld();
    return {
      granted: true,
      release: async () => {
        this.#held.delete(result.leaseId);
        await this.#release(result.leaseId, pool, { tokens: 0, acquiredAt: at }, {}, 'succeeded');
      },
    };
  }

  /** Makes the call holding its slot, gives the slot back, and classifies what the call threw. */
  async #hold<T>(
    op: OperationHandle,
    call: PoolCall,
    pool: ResolvedPool,
    breaker: PoolBreaker | undefined,
    grant: Granted,
    work: (lease: PoolLease) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    const acquiredAt = this.#clock();
    let tokens: number | undefined;
    const lease: PoolLease = {
      pool: pool.name,
      waitedMs: grant.waitedMs,
      reportTokens: (used) => {
        if (!Number.isFinite(used) || used < 0) {
          throw new InvalidArgumentError(`reportTokens needs a number of tokens ≥ 0, got ${used}.`);
        }
        tokens = Math.round(used);
      },
    };
    this.#held.set(grant.leaseId, pool.leaseMs);
    this.#renewHeld();
    let outcome: BreakerOutcome<T>;
    try {
      outcome = breaker ? await breaker.run(() => work(lease)) : await settle(() => work(lease));
    } finally {
      this.#held.delete(grant.leaseId);
    }
    const settled = { tokens: tokens ?? call.tokens, acquiredAt };
    if (outcome.ok) {
      await this.#release(
        grant.leaseId,
        pool,
        settled,
        { ...(tokens === undefined ? {} : { tokens }) },
        'succeeded',
      );
      return { ok: true, value: outcome.value };
    }
    if ('broken' in outcome) {
      await this.#release(grant.leaseId, pool, settled, { unused: true }, 'unused');
      return { ok: false };
    }
    const { error } = outcome;
    const verdict = classifyError(error, this.#clock());
    if (outcome.opened && breaker) {
      op.buffer({
        type: 'pool.breaker.opened',
        payload: {
          pool: pool.name,
          what: call.what,
          halfOpenAfterMs: breaker.config.halfOpenAfterMs,
          error: serializeError(error),
        },
      });
    }
    const usage = tokens === undefined ? {} : { tokens };
    if (verdict.kind === 'rate-limited') {
      const pauseUntil = this.#clock() + (verdict.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS);
      await this.#release(grant.leaseId, pool, settled, { ...usage, pauseUntil }, 'rate-limited');
    } else {
      await this.#release(grant.leaseId, pool, settled, usage, 'failed');
    }
    throw toCallError(error, verdict, pool.name, call.what);
  }

  async #release(
    leaseId: string,
    pool: ResolvedPool,
    settled: { tokens: number; acquiredAt: number },
    options: Omit<PoolReleaseOptions, 'now'>,
    outcome: 'succeeded' | 'failed' | 'rate-limited' | 'unused',
  ): Promise<void> {
    const now = this.#clock();
    try {
      await this.#store!.release(leaseId, { ...options, now });
    } catch (error) {
      this.#log(
        `releasing a slot of pool '${pool.name}' failed; it comes back when its lease expires`,
        error,
      );
    }
    this.#metrics.emit({
      type: 'pool.released',
      pool: pool.name,
      at: now,
      heldMs: now - settled.acquiredAt,
      tokens: options.unused ? 0 : settled.tokens,
      outcome,
    });
    this.#wakeOne(pool.name);
    this.#onSlotFreed?.();
  }

  /** Sleeps `ms`, or less when a slot of the pool is released in this process or the pool changes. */
  #sleep(pool: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let sleepers = this.#sleepers.get(pool);
      if (!sleepers) this.#sleepers.set(pool, (sleepers = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        sleepers.delete(done);
        if (sleepers.size === 0) this.#sleepers.delete(pool);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const aborted = (): void => {
        done();
        reject(signal.reason as Error);
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  #wakeOne(pool: string): void {
    const first = this.#sleepers.get(pool)?.values().next();
    if (first && !first.done) first.value();
  }

  #wakeAll(pool: string): void {
    for (const wake of [...(this.#sleepers.get(pool) ?? [])]) wake();
  }

  /** Keeps the slots this process holds alive while their calls run (every third of the shortest lease). */
  #renewHeld(): void {
    if (this.#closed || this.#held.size === 0) return;
    const every = Math.max(250, Math.floor(Math.min(...this.#held.values()) / 3));
    if (this.#renewTimer && every >= this.#renewEveryMs) return;
    clearInterval(this.#renewTimer);
    this.#renewEveryMs = every;
    this.#renewTimer = setInterval(() => {
      if (this.#held.size === 0) {
        clearInterval(this.#renewTimer);
        this.#renewTimer = undefined;
        this.#renewEveryMs = Infinity;
        return;
      }
      const byLease = new Map<number, string[]>();
      for (const [leaseId, leaseMs] of this.#held)
        byLease.set(leaseMs, [...(byLease.get(leaseMs) ?? []), leaseId]);
      for (const [leaseMs, ids] of byLease) {
        this.#store!.renew(ids, leaseMs, this.#clock()).catch((error: unknown) =>
          this.#log('renewing pool slots failed; they may expire under their calls', error),
        );
      }
    }, every);
    this.#renewTimer.unref();
  }

  /** Stops renewing; slots still held come back when their leases expire. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }
}

async function settle<T>(work: () => Promise<T>): Promise<BreakerOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error, opened: false };
  }
}

/** Baton's own errors pass as they are; a provider's HTTP or network error becomes one that says what to do. */
function toCallError(error: unknown, verdict: ErrorClassification, pool: string, what: string): unknown {
  if (BatonError.isInstance(error)) return error;
  switch (verdict.kind) {
    case 'rate-limited':
      return new RateLimitedError({ pool, ...optional(verdict), cause: error });
    case 'unavailable':
      return new ServiceUnavailableError({ pool, ...optional(verdict), cause: error });
    case 'rejected': {
      const message = error instanceof Error ? error.message : String(error);
      return new NonRetryableError(
        `${capitalize(what)} in pool '${pool}' was rejected (HTTP ${verdict.status}): ${message}`,
        {
          cause: error,
        },
      );
    }
    case 'unknown':
      return error;
  }
}

function optional(verdict: { status?: number; retryAfterMs?: number }): {
  status?: number;
  retryAfterMs?: number;
} {
  return {
    ...(verdict.status === undefined ? {} : { status: verdict.status }),
    ...(verdict.retryAfterMs === undefined ? {} : { retryAfterMs: verdict.retryAfterMs }),
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
