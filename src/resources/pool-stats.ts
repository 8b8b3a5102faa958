import type { PoolUsage } from '../store/pool-store.ts';
import type { BreakerState } from './pool-breaker.ts';
import type { ResolvedPool } from './pool-config.ts';

/** One pool, now: limits, queue, waits, calls in flight and how much of each limit is used. */
export interface PoolStats {
  pool: string;
  limits: {
    concurrency?: number;
    requestsPerMinute?: number;
    tokensPerMinute?: number;
    rateWindowMs: number;
  };
  /** Calls holding a slot now, in every process. */
  inFlight: number;
  /** Calls waiting for a slot (in a process, or parked), in every process. */
  queued: number;
  /** How long the oldest queued call has waited, in ms. */
  oldestWaitMs: number;
  /** Over every grant so far: average and longest wait, in ms. */
  averageWaitMs: number;
  maxWaitMs: number;
  granted: number;
  averageHoldMs: number;
  requestsInWindow: number;
  tokensInWindow: number;
  /** Used fraction (0–1) of each limit the pool has: slots, requests and tokens of the current window. */
  utilization: { concurrency?: number; requests?: number; tokens?: number };
  /** Set while a provider's Retry-After pauses the pool. */
  pausedUntil?: number;
  /** This process's circuit breaker, when the pool has one. */
  breaker?: BreakerState;
}

/** Joins the configured pools with what the store says they are doing. */
export function poolStats(
  pools: ReadonlyMap<string, ResolvedPool>,
  usage: readonly PoolUsage[],
  breakerState: (pool: string) => BreakerState | undefined,
  now: number,
): PoolStats[] {
  const byPool = new Map(usage.map((entry) => [entry.pool, entry]));
  return [...pools.values()].map((pool) => {
    const used = byPool.get(pool.name);
    const { limits } = pool;
    const inFlight = used?.inFlight ?? 0;
    const requestsInWindow = used?.requestsInWindow ?? 0;
    const tokensInWindow = used?.tokensInWindow ?? 0;
    const granted = used?.granted ?? 0;
    const utilization: PoolStats['utilization'] = {};
    if (limits.concurrency !== undefined) utilization.concurrency = ratio(inFlight, limits.concurrency);
    if (limits.requests !== undefined) utilization.requests = ratio(requestsInWindow, limits.requests);
    if (limits.tokens !== undefined) utilization.tokens = ratio(tokensInWindow, limits.tokens);
    const stats: PoolStats = {
      pool: pool.name,
      limits: {
        ...(pool.config.concurrency === undefined ? {} : { concurrency: pool.config.concurrency }),
        ...(pool.config.requestsPerMinute === undefined
          ? {}
          : { requestsPerMinute: pool.config.requestsPerMinute }),
        ...(pool.config.tokensPerMinute === undefined
          ? {}
          : { tokensPerMinute: pool.config.tokensPerMinute }),
        rateWindowMs: limits.windowMs,
      },
      inFlight,
      queued: used?.waiting ?? 0,
      oldestWaitMs: used?.oldestWaitMs ?? 0,
      averageWaitMs: granted === 0 ? 0 : Math.round((used?.totalWaitMs ?? 0) / granted),
      maxWaitMs: used?.maxWaitMs ?? 0,
      granted,
      averageHoldMs: used?.averageHoldMs ?? 0,
      requestsInWindow,
      tokensInWindow,
      utilization,
    };
    if (used?.pausedUntil !== undefined && used.pausedUntil > now) stats.pausedUntil = used.pausedUntil;
    const breaker = breakerState(pool.name);
    if (breaker) stats.breaker = breaker;
    return stats;
  });
}

function ratio(used: number, limit: number): number {
  return limit <= 0 ? 0 : Math.round((used / limit) * 1000) / 1000;
}

/** The columns of `baton pools`, and one pool's row in them. */
export const POOL_COLUMNS = [
  { key: 'pool', title: 'POOL' },
  { key: 'inFlight', title: 'IN FLIGHT', align: 'right' },
  { key: 'queued', title: 'QUEUED', align: 'right' },
  { key: 'oldestWait', title: 'OLDEST WAIT', align: 'right' },
  { key: 'averageWait', title: 'AVG WAIT', align: 'right' },
  { key: 'maxWait', title: 'MAX WAIT', align: 'right' },
  { key: 'requests', title: 'REQUESTS' },
  { key: 'tokens', title: 'TOKENS' },
  { key: 'utilization', title: 'UTILIZATION', align: 'right' },
] as const;

export type PoolRow = Record<(typeof POOL_COLUMNS)[number]['key'], string>;

/**
 * One pool as a row of `baton pools`:
 *
 * POOL    IN FLIGHT  QUEUED  OLDEST WAIT  AVG WAIT  MAX WAIT  REQUESTS        TOKENS                UTILIZATION
 * openai        8/8      12         1.4s     310ms      2.1s  480/500 per 1m  150000/200000 per 1m         100%
 */
export function poolRow(entry: PoolStats, now: number = Date.now()): PoolRow {
  const window = milliseconds(entry.limits.rateWindowMs);
  const perWindow = (used: number, perMinute: number | undefined): string =>
    perMinute === undefined
      ? '-'
      : `${used}/${Math.floor((perMinute * entry.limits.rateWindowMs) / 60_000)} per ${window}`;
  const utilization = Math.max(
    entry.utilization.concurrency ?? 0,
    entry.utilization.requests ?? 0,
    entry.utilization.tokens ?? 0,
  );
  const paused = entry.pausedUntil === undefined ? '' : ` (paused ${milliseconds(entry.pausedUntil - now)})`;
  return {
    pool: entry.pool,
    inFlight:
      entry.limits.concurrency === undefined
        ? `${entry.inFlight}`
        : `${entry.inFlight}/${entry.limits.concurrency}`,
    queued: `${entry.queued}`,
    oldestWait: milliseconds(entry.oldestWaitMs),
    averageWait: milliseconds(entry.averageWaitMs),
    maxWait: milliseconds(entry.maxWaitMs),
    requests: perWindow(entry.requestsInWindow, entry.limits.requestsPerMinute),
    tokens: perWindow(entry.tokensInWindow, entry.limits.tokensPerMinute),
    utilization: `${Math.round(utilization * 100)}%${paused}`,
  };
}

function milliseconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms < 60_000) return `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)}s`;
  return `${(ms / 60_000).toFixed(1)}m`;
}
