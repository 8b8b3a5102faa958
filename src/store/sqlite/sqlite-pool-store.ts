import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type {
  PoolAcquireRequest,
  PoolAcquireResult,
  PoolRefusal,
  PoolReleaseOptions,
  PoolStore,
  PoolUsage,
} from '../pool-store.ts';

/** A waiter not back within this long after the time it was told loses its place. */
const WAITER_GRACE_MS = 3000;
/** Weight of the newest hold time in the moving average. */
const HOLD_AVERAGE_WEIGHT = 0.2;

type Row = Record<string, unknown>;

interface Waiter {
  holder: string;
  runId: string | undefined;
  tenant: string;
  priority: number;
  tokens: number;
  reason: string;
  since: number;
  retryAt: number;
}

/**
 * The SQLite store's {@link PoolStore}: tables `pool_leases`, `pool_waiters` and `pool_state`
 * (migration 4). Every call is one BEGIN IMMEDIATE transaction, so processes sharing the file never
 * both take the last slot. The state is operational, so its transactions commit without an fsync
 * (synchronous = NORMAL in WAL mode: safe against a process crash; a power cut may lose the last
 * grants, which costs one window of accuracy, never the journal's durability).
 */
export class SqlitePools implements PoolStore {
  readonly specificationVersion = 'v1' as const;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #relaxSync: boolean;

  constructor(db: DatabaseSync, options: { durability: 'full' | 'normal'; wal: boolean }) {
    this.#db = db;
    this.#relaxSync = options.durability === 'full' && options.wal;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(fn: () => T): T {
    if (this.#relaxSync) this.#db.exec('PRAGMA synchronous = NORMAL');
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = fn();
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      if (this.#relaxSync) this.#db.exec('PRAGMA synchronous = FULL');
    }
  }

  async acquire(request: PoolAcquireRequest): Promise<PoolAcquireResult> {
    return this.#transaction(() => this.#acquire(request));
  }

  #acquire(request: PoolAcquireRequest): PoolAcquireResult {
    const { pool, holder, now, limits } = request;
    this.#statement('DELETE FROM pool_leases WHERE pool = ? AND counted_until <= ?').run(pool, now);
    this.#statement('DELETE FROM pool_waiters WHERE pool = ? AND expires_at <= ?').run(pool, now);
    this.#statement('INSERT INTO pool_state (pool) VALUES (?) ON CONFLICT (pool) DO NOTHING').run(pool);
    const state = this.#statement('SELECT * FROM pool_state WHERE pool = ?').get(pool)!;
    const held = this.#statement(
      `SELECT COUNT(*) AS n, MAX(acquired_at) AS youngest FROM pool_leases
       WHERE pool = ? AND released_at IS NULL AND expires_at > ?`,
    ).get(pool, now)!;
    const window = this.#statement(
      `SELECT COUNT(*) AS n, COALESCE(SUM(tokens), 0) AS tokens FROM pool_leases WHERE pool = ? AND counted_until > ?`,
    ).get(pool, now)!;
    const heldCount = Number(held.n);
    const windowRequests = Number(window.n);
    const windowTokens = Number(window.tokens);

    const waiters = this.#statement('SELECT * FROM pool_waiters WHERE pool = ?').all(pool).map(toWaiter);
    const existing = waiters.find((waiter) => waiter.holder === holder);
    const me: Waiter = {
      holder,
      runId: request.runId,
      tenant: request.tenant,
      priority: request.priority,
      tokens: request.tokens,
      reason: existing?.reason ?? 'concurrency',
      since: existing?.since ?? now,
      retryAt: now,
    };
    const queue = queueOrder([...waiters.filter((waiter) => waiter !== existing), me]);
    const index = queue.indexOf(me);
    const ahead = queue.slice(0, index);
    const present = ahead.filter((waiter) => waiter.retryAt <= now);
    const presentTokens = present.reduce((sum, waiter) => sum + waiter.tokens, 0);

    const slotsFree = limits.concurrency === undefined ? Infinity : limits.concurrency - heldCount;
    const requestsFree = limits.requests === undefined ? Infinity : limits.requests - windowRequests;
    const tokensFree = limits.tokens === undefined ? Infinity : limits.tokens - windowTokens - presentTokens;
    const pausedUntil = Number(state.paused_until);
    const tokensFit = tokensFree >= request.tokens || (windowTokens === 0 && present.length === 0);
    const free = Math.min(slotsFree, requestsFree);

    if (pausedUntil <= now && present.length < free && tokensFit) {
      const leaseId = randomUUID();
      const expiresAt = now + request.leaseMs;
      // A request larger than a window's tokens counts for as many windows as it needs.
      const windows = limits.tokens === undefined ? 1 : Math.max(1, Math.ceil(request.tokens / limits.tokens));
      const windowMs = limits.windowMs * windows;
      this.#statement(
        `INSERT INTO pool_leases (lease_id, pool, holder, tokens, window_ms, acquired_at, expires_at, counted_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(leaseId, pool, holder, request.tokens, windowMs, now, expiresAt, expiresAt + windowMs);
      if (existing) this.#statement('DELETE FROM pool_waiters WHERE pool = ? AND holder = ?').run(pool, holder);
      const waitedMs = now - me.since;
      this.#statement(
        `UPDATE pool_state SET granted = granted + 1, total_wait_ms = total_wait_ms + ?,
           max_wait_ms = MAX(max_wait_ms, ?) WHERE pool = ?`,
      ).run(waitedMs, waitedMs, pool);
      return { granted: true, leaseId, waitedMs };
    }

    // Refused: when could it be this holder's turn? Each binding limit gives a time; the latest wins.
    const position = index + 1;
    const refusals: { reason: PoolRefusal; afterMs: number }[] = [];
    if (pausedUntil > now) refusals.push({ reason: 'paused', afterMs: pausedUntil - now });
    if (position > slotsFree) {
      const averageHoldMs = Number(state.average_hold_ms);
      const youngestAgeMs = held.youngest == null ? 0 : now - Number(held.youngest);
      const holdMs = Math.max(averageHoldMs, youngestAgeMs, 1);
      const releasesNeeded = position - Math.max(slotsFree, 0);
      refusals.push({ reason: 'concurrency', afterMs: Math.ceil((releasesNeeded * holdMs) / limits.concurrency!) });
    }
    if (position > requestsFree) {
      refusals.push({ reason: 'requests', afterMs: this.#windowFrees(request, position - Math.max(requestsFree, 0), 'count') });
    }
    if (!tokensFit) {
      const allAheadTokens = ahead.reduce((sum, waiter) => sum + waiter.tokens, 0);
      const needed = windowTokens + allAheadTokens + request.tokens - limits.tokens!;
      refusals.push({ reason: 'tokens', afterMs: this.#windowFrees(request, Math.max(needed, 1), 'tokens') });
    }
    if (refusals.length === 0) {
      // Free capacity, but present waiters ahead take it first.
      refusals.push({ reason: slotsFree <= requestsFree ? 'concurrency' : 'requests', afterMs: 1 });
    }
    const binding = refusals.reduce((a, b) => (b.afterMs > a.afterMs ? b : a));
    const retryAfterMs = Math.max(1, Math.ceil(binding.afterMs));
    this.#statement(
      `INSERT INTO pool_waiters (pool, holder, run_id, tenant, priority, tokens, reason, since, retry_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pool, holder) DO UPDATE SET run_id = excluded.run_id, tenant = excluded.tenant,
         priority = excluded.priority, tokens = excluded.tokens, reason = excluded.reason,
         retry_at = excluded.retry_at, expires_at = excluded.expires_at`,
    ).run(
      pool,
      holder,
      request.runId ?? null,
      request.tenant,
      request.priority,
      request.tokens,
      binding.reason,
      me.since,
      now + retryAfterMs,
      now + retryAfterMs + WAITER_GRACE_MS,
    );
    return { granted: false, reason: binding.reason, retryAfterMs, position, waitedMs: now - me.since };
  }

  /** In how many ms the window will have let go of `amount` requests (or tokens), oldest end first. */
  #windowFrees(request: PoolAcquireRequest, amount: number, what: 'count' | 'tokens'): number {
    const { pool, now, limits } = request;
    const rows = this.#statement(
      'SELECT tokens, counted_until FROM pool_leases WHERE pool = ? AND counted_until > ? ORDER BY counted_until',
    ).all(pool, now);
    let freed = 0;
    for (const row of rows) {
      freed += what === 'count' ? 1 : Number(row.tokens);
      if (freed >= amount) return Number(row.counted_until) - now;
    }
    // Beyond what the window holds now: those requests are not made yet, so at the pool's rate.
    const limit = what === 'count' ? limits.requests! : limits.tokens!;
    const last = rows.length === 0 ? now : Number(rows[rows.length - 1]!.counted_until);
    return last - now + Math.ceil(((amount - freed) * limits.windowMs) / Math.max(limit, 1));
  }

  async release(leaseId: string, options: PoolReleaseOptions): Promise<void> {
    this.#transaction(() => {
      const lease = this.#statement('SELECT * FROM pool_leases WHERE lease_id = ?').get(leaseId);
      if (!lease) return;
      const pool = lease.pool as string;
      const { now } = options;
      if (options.pauseUntil !== undefined) {
        this.#statement('UPDATE pool_state SET paused_until = MAX(paused_until, ?) WHERE pool = ?').run(
          options.pauseUntil,
          pool,
        );
      }
      if (lease.released_at != null) return;
      if (options.unused) {
        this.#statement('DELETE FROM pool_leases WHERE lease_id = ?').run(leaseId);
      } else {
        this.#statement(
          'UPDATE pool_leases SET released_at = ?, counted_until = ? + window_ms, tokens = ? WHERE lease_id = ?',
        ).run(now, now, options.tokens ?? Number(lease.tokens), leaseId);
        const holdMs = Math.max(0, now - Number(lease.acquired_at));
        this.#statement(
          `UPDATE pool_state SET average_hold_ms = CASE WHEN average_hold_ms = 0 THEN ?
             ELSE average_hold_ms * ? + ? * ? END WHERE pool = ?`,
        ).run(holdMs, 1 - HOLD_AVERAGE_WEIGHT, holdMs, HOLD_AVERAGE_WEIGHT, pool);
      }
      this.#wakeParkedHead(pool, now);
    });
  }

  /**
   * A slot came free: when the first waiter in line waits for a slot and is not due back yet (it
   * parked its run), wake its run now rather than at the time it was told.
   */
  #wakeParkedHead(pool: string, now: number): void {
    const waiters = this.#statement('SELECT * FROM pool_waiters WHERE pool = ? AND expires_at > ?')
      .all(pool, now)
      .map(toWaiter);
    const head = queueOrder(waiters)[0];
    if (!head || head.retryAt <= now || head.reason !== 'concurrency' || head.runId === undefined) return;
    const woken = this.#statement(
      `UPDATE runs SET wake_at = ? WHERE run_id = ? AND status = 'waiting' AND (wake_at IS NULL OR wake_at > ?)`,
    ).run(now, head.runId, now);
    if (Number(woken.changes) === 0) return;
    this.#statement('UPDATE pool_waiters SET retry_at = ?, expires_at = ? WHERE pool = ? AND holder = ?').run(
      now,
      now + WAITER_GRACE_MS,
      pool,
      head.holder,
    );
  }

  async renew(leaseIds: readonly string[], leaseMs: number, now: number): Promise<void> {
    if (leaseIds.length === 0) return;
    this.#transaction(() => {
      for (const leaseId of leaseIds) {
        this.#statement(
          `UPDATE pool_leases SET expires_at = ?, counted_until = ? + window_ms
           WHERE lease_id = ? AND released_at IS NULL`,
        ).run(now + leaseMs, now + leaseMs, leaseId);
      }
    });
  }

  async usage(now: number): Promise<PoolUsage[]> {
    return this.#statement(
      `SELECT s.*,
         (SELECT COUNT(*) FROM pool_leases l WHERE l.pool = s.pool AND l.released_at IS NULL AND l.expires_at > ?1) AS in_flight,
         (SELECT COUNT(*) FROM pool_leases l WHERE l.pool = s.pool AND l.counted_until > ?1) AS window_requests,
         (SELECT COALESCE(SUM(tokens), 0) FROM pool_leases l WHERE l.pool = s.pool AND l.counted_until > ?1) AS window_tokens,
         (SELECT COUNT(*) FROM pool_waiters w WHERE w.pool = s.pool AND w.expires_at > ?1) AS waiting,
         (SELECT MIN(since) FROM pool_waiters w WHERE w.pool = s.pool AND w.expires_at > ?1) AS oldest_since
       FROM pool_state s ORDER BY s.pool`,
    )
      .all(now)
      .map((row) => {
        const usage: PoolUsage = {
          pool: row.pool as string,
          inFlight: Number(row.in_flight),
          waiting: Number(row.waiting),
          oldestWaitMs: row.oldest_since == null ? 0 : Math.max(0, now - Number(row.oldest_since)),
          requestsInWindow: Number(row.window_requests),
          tokensInWindow: Number(row.window_tokens),
          granted: Number(row.granted),
          totalWaitMs: Number(row.total_wait_ms),
          maxWaitMs: Number(row.max_wait_ms),
          averageHoldMs: Math.round(Number(row.average_hold_ms)),
        };
        if (Number(row.paused_until) > now) usage.pausedUntil = Number(row.paused_until);
        return usage;
      });
  }
}

/**
 * The order waiters are served in: higher priority first; within a priority, tenants take turns
 * (each tenant's oldest waiter, then each tenant's second oldest…); then oldest first.
 */
export function queueOrder<W extends { tenant: string; priority: number; since: number; holder: string }>(
  waiters: readonly W[],
): W[] {
  const byArrival = [...waiters].sort((a, b) => a.since - b.since || compare(a.holder, b.holder));
  const turns = new Map<W, number>();
  const counts = new Map<string, number>();
  for (const waiter of byArrival) {
    const key = `${waiter.priority}\u0000${waiter.tenant}`;
    const turn = (counts.get(key) ?? 0) + 1;
    counts.set(key, turn);
    turns.set(waiter, turn);
  }
  return byArrival.sort(
    (a, b) =>
      b.priority - a.priority || turns.get(a)! - turns.get(b)! || a.since - b.since || compare(a.holder, b.holder),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toWaiter(row: Row): Waiter {
  return {
    holder: row.holder as string,
    runId: row.run_id == null ? undefined : (row.run_id as string),
    tenant: row.tenant as string,
    priority: Number(row.priority),
    tokens: Number(row.tokens),
    reason: row.reason as string,
    since: Number(row.since),
    retryAt: Number(row.retry_at),
  };
}
