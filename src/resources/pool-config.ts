import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { ConfigError } from '../errors.ts';
import type { PoolLimits } from '../store/pool-store.ts';
import type { AdmissionBound } from '../store/store.ts';

/**
 * A named resource pool, as written in baton.config.ts:
 *
 * @example
 * pools: {
 *   openai: { concurrency: 8, requestsPerMinute: 500, tokensPerMinute: 200_000 },
 *   search: { concurrency: 4 },
 * }
 *
 * Limits hold across every worker process sharing the store. At least one limit is required.
 */
export interface PoolConfig {
  /** Calls in flight at once. */
  concurrency?: number;
  /** Requests per minute. */
  requestsPerMinute?: number;
  /** Tokens per minute, reserved from each call's estimate and corrected from its reported usage. */
  tokensPerMinute?: number;
  /**
   * The window requests and tokens are counted over; the per-minute limits are scaled to it.
   * Default '1m'. Use '1s' for a provider that enforces its per-minute limits per second.
   * A request counts from its grant until a window after it ended.
   */
  rateWindow?: Duration;
  /** A slot not renewed for this long comes back to the pool (its process died). Default '30s'. */
  leaseTimeout?: Duration;
  /** The pool's circuit breaker (per worker process), or false for none. On by default. */
  circuitBreaker?: CircuitBreakerConfig | false;
}

export interface CircuitBreakerConfig {
  /** Opens when more than this fraction of the sampled calls failed (0 < ratio ≤ 1). Default 0.5. */
  failureRatio?: number;
  /** How many of the latest calls are sampled. Default 20. */
  sampleSize?: number;
  /** The fewest sampled calls before the breaker may open. Default 10. */
  minimumCalls?: number;
  /** How long it stays open before one probe call is let through (half-open). Default '10s'. */
  halfOpenAfter?: Duration;
}

export type PoolsConfig = Readonly<Record<string, PoolConfig>>;

/** A pool's configuration, checked and in the store's terms. */
export interface ResolvedPool {
  readonly name: string;
  readonly config: PoolConfig;
  readonly limits: PoolLimits;
  readonly leaseMs: number;
  readonly breaker: ResolvedBreaker | undefined;
}

export interface ResolvedBreaker {
  readonly failureRatio: number;
  readonly sampleSize: number;
  readonly minimumCalls: number;
  readonly halfOpenAfterMs: number;
}

const POOL_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const POOL_KEYS = [
  'concurrency',
  'requestsPerMinute',
  'tokensPerMinute',
  'rateWindow',
  'leaseTimeout',
  'circuitBreaker',
];
const BREAKER_KEYS = ['failureRatio', 'sampleSize', 'minimumCalls', 'halfOpenAfter'];
const MINUTE_MS = 60_000;

/** Checks every pool and turns it into the store's terms. Throws ConfigError naming the bad setting. */
export function resolvePools(pools: unknown): Map<string, ResolvedPool> {
  const resolved = new Map<string, ResolvedPool>();
  if (pools === undefined) return resolved;
  if (!isPlainObject(pools))
    throw new ConfigError(`'pools' must be an object of named pools, got ${describe(pools)}.`);
  for (const [name, config] of Object.entries(pools)) {
    if (!POOL_NAME.test(name)) {
      throw new ConfigError(
        `Pool name '${name}' must be 1–64 characters of letters, digits, '_', '.', ':' or '-'.`,
      );
    }
    resolved.set(name, resolvePool(name, config));
  }
  return resolved;
}

function resolvePool(name: string, config: unknown): ResolvedPool {
  const where = `pools.${name}`;
  if (!isPlainObject(config))
    throw new ConfigError(`${where} must be an object of limits, got ${describe(config)}.`);
  checkKeys(where, config, POOL_KEYS);
  const pool = config as PoolConfig;
  const concurrency = optionalInteger(where, 'concurrency', pool.concurrency);
  const requestsPerMinute = optionalPositive(where, 'requestsPerMinute', pool.requestsPerMinute);
  const tokensPerMinute = optionalPositive(where, 'tokensPerMinute', pool.tokensPerMinute);
  if (concurrency === undefined && requestsPerMinute === undefined && tokensPerMinute === undefined) {
    throw new ConfigError(
      `${where} sets no limit: give it concurrency, requestsPerMinute or tokensPerMinute.`,
    );
  }
  let windowMs = duration(where, 'rateWindow', pool.rateWindow ?? '1m', 1, 60 * MINUTE_MS);
  // A window too short to hold one request at this rate would let through more than the rate.
  if (requestsPerMinute !== undefined)
    windowMs = Math.max(windowMs, Math.ceil(MINUTE_MS / requestsPerMinute));
  const limits: PoolLimits = { windowMs };
  if (concurrency !== undefined) limits.concurrency = concurrency;
  if (requestsPerMinute !== undefined)
    limits.requests = Math.floor((requestsPerMinute * windowMs) / MINUTE_MS);
  if (tokensPerMinute !== undefined)
    limits.tokens = Math.max(1, Math.floor((tokensPerMinute * windowMs) / MINUTE_MS));
  return Object.freeze({
    name,
    config: pool,
    limits: Object.freeze(limits),
    leaseMs: duration(where, 'leaseTimeout', pool.leaseTimeout ?? '30s', 1000, 24 * 60 * MINUTE_MS),
    breaker: resolveBreaker(where, pool.circuitBreaker),
  });
}

function resolveBreaker(where: string, breaker: unknown): ResolvedBreaker | undefined {
  if (breaker === false) return undefined;
  const at = `${where}.circuitBreaker`;
  if (breaker !== undefined && !isPlainObject(breaker)) {
    throw new ConfigError(`${at} must be an object or false, got ${describe(breaker)}.`);
  }
  const config = (breaker ?? {}) as CircuitBreakerConfig;
  checkKeys(at, config as Record<string, unknown>, BREAKER_KEYS);
  const failureRatio = config.failureRatio ?? 0.5;
  if (typeof failureRatio !== 'number' || !(failureRatio > 0 && failureRatio <= 1)) {
    throw new ConfigError(
      `${at}.failureRatio must be a number above 0 and at most 1, got ${describe(failureRatio)}.`,
    );
  }
  const sampleSize = optionalInteger(at, 'sampleSize', config.sampleSize) ?? 20;
  const minimumCalls = optionalInteger(at, 'minimumCalls', config.minimumCalls) ?? Math.min(10, sampleSize);
  if (minimumCalls > sampleSize) {
    throw new ConfigError(`${at}.minimumCalls (${minimumCalls}) cannot exceed sampleSize (${sampleSize}).`);
  }
  const halfOpenAfterMs = duration(
    at,
    'halfOpenAfter',
    config.halfOpenAfter ?? '10s',
    1,
    24 * 60 * MINUTE_MS,
  );
  return Object.freeze({ failureRatio, sampleSize, minimumCalls, halfOpenAfterMs });
}

/** Checks `maxQueuedRuns` and `maxQueuedRunsPerTenant`; undefined when neither is set. */
export function resolveAdmission(options: {
  maxQueuedRuns?: unknown;
  maxQueuedRunsPerTenant?: unknown;
}): AdmissionBound | undefined {
  const total = optionalInteger('options', 'maxQueuedRuns', options.maxQueuedRuns);
  const perTenant = optionalInteger('options', 'maxQueuedRunsPerTenant', options.maxQueuedRunsPerTenant);
  if (total === undefined && perTenant === undefined) return undefined;
  return {
    ...(total === undefined ? {} : { maxQueuedRuns: total }),
    ...(perTenant === undefined ? {} : { maxQueuedRunsPerTenant: perTenant }),
  };
}

function checkKeys(where: string, object: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const near = known.find((candidate) => closeTo(candidate, key));
    throw new ConfigError(
      `Unknown setting '${key}' in ${where}${near ? ` (did you mean '${near}'?)` : ''}. Known: ${known.join(', ')}.`,
    );
  }
}

function optionalInteger(where: string, key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${where}.${key} must be a whole number of 1 or more, got ${describe(value)}.`);
  }
  return value;
}

function optionalPositive(where: string, key: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${where}.${key} must be a number above 0, got ${describe(value)}.`);
  }
  return value;
}

function duration(where: string, key: string, value: unknown, minMs: number, maxMs: number): number {
  let ms: number;
  try {
    ms = toMilliseconds(value as Duration, `${where}.${key}`);
  } catch (cause) {
    throw new ConfigError(`${where}.${key}: ${(cause as Error).message}`, { cause });
  }
  if (ms < minMs || ms > maxMs) {
    throw new ConfigError(`${where}.${key} must be between ${minMs} ms and ${maxMs} ms, got ${ms} ms.`);
  }
  return ms;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint' ||
    value === undefined
  ) {
    return String(value);
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Same letters ignoring case, or one edit apart: a likely typo. */
function closeTo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return true;
  if (Math.abs(x.length - y.length) > 2) return false;
  const previous = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (x[i - 1] === y[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[y.length]! <= 2;
}
