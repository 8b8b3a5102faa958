import type { DatabaseSync } from 'node:sqlite';
import {
  decideAcquire,
  nextAverageHold,
  wakeAfterRelease,
  WAITER_GRACE_MS,
  type PoolWaiter,
  type WindowEntry,
} from '../pool-decision.ts';
import type {
  PoolAcquireRequest,
  PoolAcquireResult,
  PoolLimits,
  PoolReleaseOptions,
  PoolStore,
  PoolUsage,
} from '../pool-store.ts';
import { toPoolUsage, toWaiter } from '../store-rows.ts';
import { StatementCache } from './statement-cache.ts';

type Row = Record<string, unknown>;

/**
 * The SQLite store's {@link PoolStore}: tables `pool_leases` (one row per grant, kept while it
 * counts in a window), `pool_waiters` and `pool_state` (per pool: pause, running window totals,
 * statistics), from migration 4. Every call is one BEGIN IMMEDIATE transaction, so processes
 * sharing the file never both take the last slot; the decisions are pool-decision.ts's.
 *
 * Pool state is operational, so its transactions commit without an fsync (synchronous = NORMAL in
 * WAL mode: safe against a process crash; a power cut may lose the last grants, which costs one
 * window of accuracy, never the journal's durability).
 */
export class SqlitePools implements PoolStore {
  readonly specificationVersion = 'v1' as const;
  readonly #statements: StatementCache;
  readonly #relaxSync: boolean;

  /** `relaxSync`: the connection fsyncs every commit (synchronous = FULL, WAL); pool commits skip it. */
  constructor(db: DatabaseSync, options: { relaxSync: boolean }) {
    this.#statements = new StatementCache(db);
    this.#relaxSync = options.relaxSync;
  }

  #transaction<T>(fn: () => T): T {
    return this.#statements.writeTransaction(fn, { relaxSync: this.#relaxSync });
  }

  async acquire(request: PoolAcquireRequest): Promise<PoolAcquireResult> {
    return this.#transaction(() => this.#acquire(request));
  }

  #acquire(request: PoolAcquireRequest): PoolAcquireResult {
    const { pool, holder, now, limits } = request;
    const state = this.#refresh(pool, now, limits);
    const held = this.#statements
      .get(
        `SELECT COUNT(*) AS n, MAX(acquired_at) AS youngest FROM pool_leases
       WHERE pool = ? AND released_at IS NULL AND expires_at > ?`,
      )
      .get(pool, now)!;
    const decision = decideAcquire({
      now,
      limits,
      holder,
      runId: request.runId,
      tenant: request.tenant,
      priority: request.priority,
      tokens: request.tokens,
      held: Number(held.n),
      youngestHeldAt: held.youngest == null ? undefined : Number(held.youngest),
      windowRequests: Number(state.window_requests),
      windowTokens: Number(state.window_tokens),
      pausedUntil: Number(state.paused_until),
      averageHoldMs: Number(state.average_hold_ms),
      waiters: this.#waiters(pool),
      windowEntries: () => this.#windowEntries(pool, now),
    });

    if (!decision.granted) {
      const { waiter } = decision;
      this.#statements
        .get(
          `INSERT INTO pool_waiters (pool, holder, run_id, tenant, priority, tokens, reason, since, retry_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (pool, holder) DO UPDATE SET run_id = excluded.run_id, tenant = excluded.tenant,
           priority = excluded.priority, tokens = excluded.tokens, reason = excluded.reason,
           retry_at = excluded.retry_at, expires_at = excluded.expires_at`,
        )
        .run(
          pool,
          holder,
          waiter.runId ?? null,
          waiter.tenant,
          waiter.priority,
          waiter.tokens,
          waiter.reason,
          waiter.since,
          waiter.retryAt,
          waiter.expiresAt,
        );
      const { reason, retryAfterMs, position, waitedMs } = decision;
      return { granted: false, reason, retryAfterMs, position, waitedMs };
    }

    // node:crypto when first needed, not with this module: opening a store that grants nothing
    // (`baton runs`) does not load it.
    const leaseId = process.getBuiltinModule('node:crypto').randomUUID();
    const expiresAt = now + request.leaseMs;
    this.#statements
      .get(
        `INSERT INTO pool_leases (lease_id, pool, holder, tokens, window_ms, acquired_at, expires_at, counted_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        leaseId,
        pool,
        holder,
        request.tokens,
        decision.windowMs,
        now,
        expiresAt,
        expiresAt + decision.windowMs,
      );
    if (decision.wasWaiting)
      this.#statements.get('DELETE FROM pool_waiters WHERE pool = ? AND holder = ?').run(pool, holder);
    this.#statements
      .get(
        `UPDATE pool_state SET granted = granted + 1, total_wait_ms = total_wait_ms + ?, max_wait_ms = MAX(max_wait_ms, ?),
         window_requests = window_requests + 1, window_tokens = window_tokens + ? WHERE pool = ?`,
      )
      .run(decision.waitedMs, decision.waitedMs, request.tokens, pool);
    this.#wake(pool, now, decision.wake);
    return { granted: true, leaseId, waitedMs: decision.waitedMs };
  }

  /**
   * Creates the pool's state row, records its limits, and forgets what no longer counts: leases
   * past their windows (taken off the running totals) and waiters past their grace.
   */
  #refresh(pool: string, now: number, limits: PoolLimits): Row {
    const gone = this.#statements
      .get('DELETE FROM pool_leases WHERE pool = ? AND counted_until <= ? RETURNING tokens')
      .all(pool, now);
    this.#statements.get('DELETE FROM pool_waiters WHERE pool = ? AND expires_at <= ?').run(pool, now);
    const tokens = gone.reduce((sum, row) => sum + Number(row.tokens), 0);
    return this.#statements
      .get(
        `INSERT INTO pool_state (pool, limits) VALUES (?, ?)
       ON CONFLICT (pool) DO UPDATE SET limits = excluded.limits,
         window_requests = window_requests - ?, window_tokens = window_tokens - ?
       RETURNING *`,
      )
      .get(pool, JSON.stringify(limits), gone.length, tokens)!;
  }

  #waiters(pool: string): PoolWaiter[] {
    return this.#statements.get('SELECT * FROM pool_waiters WHERE pool = ?').all(pool).map(toWaiter);
  }

  #windowEntries(pool: string, now: number): WindowEntry[] {
    return this.#statements
      .get(
        'SELECT tokens, acquired_at, released_at, counted_until, window_ms FROM pool_leases WHERE pool = ? AND counted_until > ?',
      )
      .all(pool, now)
      .map((row) => ({
        tokens: Number(row.tokens),
        acquiredAt: Number(row.acquired_at),
        releasedAt: row.released_at == null ? undefined : Number(row.released_at),
        countedUntil: Number(row.counted_until),
        windowMs: Number(row.window_ms),
      }));
  }

  /** Makes the runs of parked waiters due now, and expects them back at once. */
  #wake(pool: string, now: number, waiters: readonly PoolWaiter[]): void {
    for (const waiter of waiters) {
      const woken = this.#statements
        .get(
          `UPDATE runs SET wake_at = ? WHERE run_id = ? AND status = 'waiting' AND (wake_at IS NULL OR wake_at > ?)`,
        )
        .run(now, waiter.runId!, now);
      if (Number(woken.changes) === 0) continue;
      this.#statements
        .get('UPDATE pool_waiters SET retry_at = ?, expires_at = ? WHERE pool = ? AND holder = ?')
        .run(now, now + WAITER_GRACE_MS, pool, waiter.holder);
    }
  }

  async release(leaseId: string, options: PoolReleaseOptions): Promise<void> {
    this.#transaction(() => {
      const lease = this.#statements.get('SELECT * FROM pool_leases WHERE lease_id = ?').get(leaseId);
      if (!lease) return;
      const pool = lease.pool as string;
      const { now } = options;
      if (options.pauseUntil !== undefined) {
        this.#statements
          .get('UPDATE pool_state SET paused_until = MAX(paused_until, ?) WHERE pool = ?')
          .run(options.pauseUntil, pool);
      }
      if (lease.released_at != null) return;
      const reserved = Number(lease.tokens);
      if (options.unused) {
        this.#statements.get('DELETE FROM pool_leases WHERE lease_id = ?').run(leaseId);
        this.#statements
          .get(
            'UPDATE pool_state SET window_requests = window_requests - 1, window_tokens = window_tokens - ? WHERE pool = ?',
          )
          .run(reserved, pool);
      } else {
        const tokens = options.tokens ?? reserved;
        this.#statements
          .get(
            'UPDATE pool_leases SET released_at = ?, counted_until = ? + window_ms, tokens = ? WHERE lease_id = ?',
          )
          .run(now, now, tokens, leaseId);
        const state = this.#statements
          .get('SELECT average_hold_ms FROM pool_state WHERE pool = ?')
          .get(pool)!;
        this.#statements
          .get('UPDATE pool_state SET average_hold_ms = ?, window_tokens = window_tokens + ? WHERE pool = ?')
          .run(
            nextAverageHold(Number(state.average_hold_ms), Math.max(0, now - Number(lease.acquired_at))),
            tokens - reserved,
            pool,
          );
      }
      this.#wakeAfterRelease(pool, now);
    });
  }

  #wakeAfterRelease(pool: string, now: number): void {
    const parked = this.#statements
      .get(
        'SELECT 1 FROM pool_waiters WHERE pool = ? AND run_id IS NOT NULL AND retry_at > ? AND expires_at > ? LIMIT 1',
      )
      .get(pool, now, now);
    if (!parked) return;
    const state = this.#statements.get('SELECT * FROM pool_state WHERE pool = ?').get(pool);
    if (typeof state?.limits !== 'string') return;
    const held = this.#statements
      .get('SELECT COUNT(*) AS n FROM pool_leases WHERE pool = ? AND released_at IS NULL AND expires_at > ?')
      .get(pool, now)!;
    const window = this.#statements
      .get(
        'SELECT COUNT(*) AS n, COALESCE(SUM(tokens), 0) AS tokens FROM pool_leases WHERE pool = ? AND counted_until > ?',
      )
      .get(pool, now)!;
    const waiters = this.#statements
      .get('SELECT * FROM pool_waiters WHERE pool = ? AND expires_at > ?')
      .all(pool, now);
    this.#wake(
      pool,
      now,
      wakeAfterRelease({
        now,
        limits: JSON.parse(state.limits) as PoolLimits,
        held: Number(held.n),
        windowRequests: Number(window.n),
        windowTokens: Number(window.tokens),
        waiters: waiters.map(toWaiter),
      }),
    );
  }

  async renew(leaseIds: readonly string[], leaseMs: number, now: number): Promise<void> {
    if (leaseIds.length === 0) return;
    this.#transaction(() => {
      for (const leaseId of leaseIds) {
        this.#statements
          .get(
            `UPDATE pool_leases SET expires_at = ?, counted_until = ? + window_ms
           WHERE lease_id = ? AND released_at IS NULL`,
          )
          .run(now + leaseMs, now + leaseMs, leaseId);
      }
    });
  }

  async usage(now: number): Promise<PoolUsage[]> {
    return this.#statements
      .get(
        `SELECT s.*,
         (SELECT COUNT(*) FROM pool_leases l WHERE l.pool = s.pool AND l.released_at IS NULL AND l.expires_at > ?1) AS in_flight,
         (SELECT COUNT(*) FROM pool_leases l WHERE l.pool = s.pool AND l.counted_until > ?1) AS live_requests,
         (SELECT COALESCE(SUM(tokens), 0) FROM pool_leases l WHERE l.pool = s.pool AND l.counted_until > ?1) AS live_tokens,
         (SELECT COUNT(*) FROM pool_waiters w WHERE w.pool = s.pool AND w.expires_at > ?1) AS waiting,
         (SELECT MIN(since) FROM pool_waiters w WHERE w.pool = s.pool AND w.expires_at > ?1) AS oldest_since
       FROM pool_state s ORDER BY s.pool`,
      )
      .all(now)
      .map((row) => toPoolUsage(row, now));
  }
}
