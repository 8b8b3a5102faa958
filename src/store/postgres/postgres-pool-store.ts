import { randomUUID } from 'node:crypto';
import type pg from 'pg';
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
import type { Row } from './postgres-rows.ts';
import { toPoolUsage, toWaiter } from '../store-rows.ts';

type Client = pg.PoolClient;

export interface PostgresPoolsDeps {
  quotedSchema: string;
  /** Runs `fn` in a transaction (again after a deadlock). */
  transaction: <T>(fn: (client: Client) => Promise<T>) => Promise<T>;
  /** Wakes the workers listening (a parked run became due). */
  notify: (client: Client) => Promise<void>;
}

/**
 * The PostgreSQL store's {@link PoolStore}: tables `pool_state` (per pool: pause, running window
 * totals, statistics), `pool_leases` and `pool_waiters` (migration 4). Every call is one
 * transaction that first locks the pool's `pool_state` row, so calls on one pool from any number
 * of processes and hosts run one at a time, and two never both take the last slot; calls on
 * different pools do not wait on each other. The decisions are pool-decision.ts's, as in SQLite.
 *
 * Pool state is operational: its transactions commit with `synchronous_commit = off` (no wait for
 * the WAL flush; a server crash may lose the last grants, which costs one window of accuracy,
 * never the journal's durability).
 */
export class PostgresPools implements PoolStore {
  readonly specificationVersion = 'v1' as const;
  readonly #s: string;
  readonly #deps: PostgresPoolsDeps;

  constructor(deps: PostgresPoolsDeps) {
    this.#s = deps.quotedSchema;
    this.#deps = deps;
  }

  #transaction<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    return this.#deps.transaction(async (client) => {
      await client.query('SET LOCAL synchronous_commit = off');
      return fn(client);
    });
  }

  async acquire(request: PoolAcquireRequest): Promise<PoolAcquireResult> {
    return this.#transaction(async (client) => {
      const { pool, holder, now, limits } = request;
      const state = await this.#refresh(client, pool, now, limits);
      const [held, waiters, entries] = await Promise.all([
        client.query<Row>(
          `SELECT count(*) AS n, max(acquired_at) AS youngest FROM ${this.#s}.pool_leases
           WHERE pool = $1 AND released_at IS NULL AND expires_at > $2`,
          [pool, now],
        ),
        client.query<Row>(`SELECT * FROM ${this.#s}.pool_waiters WHERE pool = $1`, [pool]),
        this.#windowEntries(client, pool, now),
      ]);
      const heldRow = held.rows[0]!;
      const decision = decideAcquire({
        now,
        limits,
        holder,
        runId: request.runId,
        tenant: request.tenant,
        priority: request.priority,
        tokens: request.tokens,
        held: Number(heldRow.n),
        youngestHeldAt: heldRow.youngest == null ? undefined : Number(heldRow.youngest),
        windowRequests: Number(state.window_requests),
        windowTokens: Number(state.window_tokens),
        pausedUntil: Number(state.paused_until),
        averageHoldMs: Number(state.average_hold_ms),
        waiters: waiters.rows.map(toWaiter),
        windowEntries: () => entries,
      });

      if (!decision.granted) {
        const { waiter } = decision;
        await client.query(
          `INSERT INTO ${this.#s}.pool_waiters (pool, holder, run_id, tenant, priority, tokens, reason, since, retry_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (pool, holder) DO UPDATE SET run_id = excluded.run_id, tenant = excluded.tenant,
             priority = excluded.priority, tokens = excluded.tokens, reason = excluded.reason,
             retry_at = excluded.retry_at, expires_at = excluded.expires_at`,
          [
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
          ],
        );
        const { reason, retryAfterMs, position, waitedMs } = decision;
        return { granted: false, reason, retryAfterMs, position, waitedMs };
      }

      const leaseId = randomUUID();
      const expiresAt = now + request.leaseMs;
      await client.query(
        `INSERT INTO ${this.#s}.pool_leases (lease_id, pool, holder, tokens, window_ms, acquired_at, expires_at, counted_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          leaseId,
          pool,
          holder,
          request.tokens,
          decision.windowMs,
          now,
          expiresAt,
          expiresAt + decision.windowMs,
        ],
      );
      if (decision.wasWaiting) {
        await client.query(`DELETE FROM ${this.#s}.pool_waiters WHERE pool = $1 AND holder = $2`, [
          pool,
          holder,
        ]);
      }
      await client.query(
        `UPDATE ${this.#s}.pool_state SET granted = granted + 1, total_wait_ms = total_wait_ms + $2,
           max_wait_ms = greatest(max_wait_ms, $2), window_requests = window_requests + 1, window_tokens = window_tokens + $3
         WHERE pool = $1`,
        [pool, decision.waitedMs, request.tokens],
      );
      await this.#wake(client, pool, now, decision.wake);
      return { granted: true, leaseId, waitedMs: decision.waitedMs };
    });
  }

  /**
   * Locks the pool's state row (creating it), records its limits, and forgets what no longer
   * counts: leases past their windows (taken off the running totals) and waiters past their grace.
   */
  async #refresh(client: Client, pool: string, now: number, limits: PoolLimits): Promise<Row> {
    await client.query(
      `INSERT INTO ${this.#s}.pool_state (pool, limits) VALUES ($1, $2)
       ON CONFLICT (pool) DO UPDATE SET limits = excluded.limits`,
      [pool, JSON.stringify(limits)],
    );
    const state = await client.query<Row>(
      `WITH gone AS (
         DELETE FROM ${this.#s}.pool_leases WHERE pool = $1 AND counted_until <= $2 RETURNING tokens
       ), forgotten AS (
         DELETE FROM ${this.#s}.pool_waiters WHERE pool = $1 AND expires_at <= $2
       )
       UPDATE ${this.#s}.pool_state SET window_requests = window_requests - (SELECT count(*) FROM gone),
         window_tokens = window_tokens - (SELECT coalesce(sum(tokens), 0) FROM gone)
       WHERE pool = $1 RETURNING *`,
      [pool, now],
    );
    return state.rows[0]!;
  }

  async #windowEntries(client: Client, pool: string, now: number): Promise<WindowEntry[]> {
    const result = await client.query<Row>(
      `SELECT tokens, acquired_at, released_at, counted_until, window_ms FROM ${this.#s}.pool_leases
       WHERE pool = $1 AND counted_until > $2`,
      [pool, now],
    );
    return result.rows.map((row) => ({
      tokens: Number(row.tokens),
      acquiredAt: Number(row.acquired_at),
      releasedAt: row.released_at == null ? undefined : Number(row.released_at),
      countedUntil: Number(row.counted_until),
      windowMs: Number(row.window_ms),
    }));
  }

  /** Makes the runs of parked waiters due now, expects them back at once, and wakes the workers. */
  async #wake(client: Client, pool: string, now: number, waiters: readonly PoolWaiter[]): Promise<void> {
    let woke = false;
    for (const waiter of waiters) {
      const woken = await client.query(
        `UPDATE ${this.#s}.runs SET wake_at = $1 WHERE run_id = $2 AND status = 'waiting' AND (wake_at IS NULL OR wake_at > $1)`,
        [now, waiter.runId],
      );
      if (woken.rowCount === 0) continue;
      woke = true;
      await client.query(
        `UPDATE ${this.#s}.pool_waiters SET retry_at = $1, expires_at = $2 WHERE pool = $3 AND holder = $4`,
        [now, now + WAITER_GRACE_MS, pool, waiter.holder],
      );
    }
    if (woke) await this.#deps.notify(client);
  }

  async release(leaseId: string, options: PoolReleaseOptions): Promise<void> {
    await this.#transaction(async (client) => {
      const found = await client.query<Row>(`SELECT pool FROM ${this.#s}.pool_leases WHERE lease_id = $1`, [
        leaseId,
      ]);
      if (!found.rows[0]) return;
      const pool = found.rows[0].pool as string;
      const { now } = options;
      await client.query(`SELECT 1 FROM ${this.#s}.pool_state WHERE pool = $1 FOR UPDATE`, [pool]);
      // Read again under the pool's lock: another process may have released it meanwhile.
      const lease = (
        await client.query<Row>(`SELECT * FROM ${this.#s}.pool_leases WHERE lease_id = $1`, [leaseId])
      ).rows[0];
      if (!lease) return;
      if (options.pauseUntil !== undefined) {
        await client.query(
          `UPDATE ${this.#s}.pool_state SET paused_until = greatest(paused_until, $1) WHERE pool = $2`,
          [options.pauseUntil, pool],
        );
      }
      if (lease.released_at != null) return;
      const reserved = Number(lease.tokens);
      if (options.unused) {
        await client.query(`DELETE FROM ${this.#s}.pool_leases WHERE lease_id = $1`, [leaseId]);
        await client.query(
          `UPDATE ${this.#s}.pool_state SET window_requests = window_requests - 1, window_tokens = window_tokens - $1 WHERE pool = $2`,
          [reserved, pool],
        );
      } else {
        const tokens = options.tokens ?? reserved;
        await client.query(
          `UPDATE ${this.#s}.pool_leases SET released_at = $1, counted_until = $1 + window_ms, tokens = $2 WHERE lease_id = $3`,
          [now, tokens, leaseId],
        );
        const state = (
          await client.query<Row>(`SELECT average_hold_ms FROM ${this.#s}.pool_state WHERE pool = $1`, [pool])
        ).rows[0]!;
        await client.query(
          `UPDATE ${this.#s}.pool_state SET average_hold_ms = $1, window_tokens = window_tokens + $2 WHERE pool = $3`,
          [
            nextAverageHold(Number(state.average_hold_ms), Math.max(0, now - Number(lease.acquired_at))),
            tokens - reserved,
            pool,
          ],
        );
      }
      await this.#wakeAfterRelease(client, pool, now);
    });
  }

  async #wakeAfterRelease(client: Client, pool: string, now: number): Promise<void> {
    const parked = await client.query(
      `SELECT 1 FROM ${this.#s}.pool_waiters WHERE pool = $1 AND run_id IS NOT NULL AND retry_at > $2 AND expires_at > $2 LIMIT 1`,
      [pool, now],
    );
    if (parked.rowCount === 0) return;
    const state = (
      await client.query<Row>(`SELECT limits FROM ${this.#s}.pool_state WHERE pool = $1`, [pool])
    ).rows[0];
    if (typeof state?.limits !== 'string') return;
    const [held, window, waiters] = await Promise.all([
      client.query<Row>(
        `SELECT count(*) AS n FROM ${this.#s}.pool_leases WHERE pool = $1 AND released_at IS NULL AND expires_at > $2`,
        [pool, now],
      ),
      client.query<Row>(
        `SELECT count(*) AS n, coalesce(sum(tokens), 0) AS tokens FROM ${this.#s}.pool_leases WHERE pool = $1 AND counted_until > $2`,
        [pool, now],
      ),
      client.query<Row>(`SELECT * FROM ${this.#s}.pool_waiters WHERE pool = $1 AND expires_at > $2`, [
        pool,
        now,
      ]),
    ]);
    await this.#wake(
      client,
      pool,
      now,
      wakeAfterRelease({
        now,
        limits: JSON.parse(state.limits) as PoolLimits,
        held: Number(held.rows[0]!.n),
        windowRequests: Number(window.rows[0]!.n),
        windowTokens: Number(window.rows[0]!.tokens),
        waiters: waiters.rows.map(toWaiter),
      }),
    );
  }

  async renew(leaseIds: readonly string[], leaseMs: number, now: number): Promise<void> {
    if (leaseIds.length === 0) return;
    await this.#transaction(async (client) => {
      // Lock the pools concerned (in name order) so an acquire never counts a lease mid-renewal.
      await client.query(
        `SELECT 1 FROM ${this.#s}.pool_state WHERE pool IN (SELECT pool FROM ${this.#s}.pool_leases WHERE lease_id = ANY($1::text[]))
         ORDER BY pool FOR UPDATE`,
        [[...leaseIds]],
      );
      await client.query(
        `UPDATE ${this.#s}.pool_leases SET expires_at = $1, counted_until = $1 + window_ms
         WHERE lease_id = ANY($2::text[]) AND released_at IS NULL`,
        [now + leaseMs, [...leaseIds]],
      );
    });
  }

  async usage(now: number): Promise<PoolUsage[]> {
    return this.#transaction(async (client) => {
      const result = await client.query<Row>(
        `SELECT s.*,
           (SELECT count(*) FROM ${this.#s}.pool_leases l WHERE l.pool = s.pool AND l.released_at IS NULL AND l.expires_at > $1) AS in_flight,
           (SELECT count(*) FROM ${this.#s}.pool_leases l WHERE l.pool = s.pool AND l.counted_until > $1) AS live_requests,
           (SELECT coalesce(sum(tokens), 0) FROM ${this.#s}.pool_leases l WHERE l.pool = s.pool AND l.counted_until > $1) AS live_tokens,
           (SELECT count(*) FROM ${this.#s}.pool_waiters w WHERE w.pool = s.pool AND w.expires_at > $1) AS waiting,
           (SELECT min(since) FROM ${this.#s}.pool_waiters w WHERE w.pool = s.pool AND w.expires_at > $1) AS oldest_since
         FROM ${this.#s}.pool_state s ORDER BY s.pool`,
        [now],
      );
      return result.rows.map((row) => toPoolUsage(row, now));
    });
  }
}
