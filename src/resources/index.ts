// The public surface of 'baton/resources': resource pools (docs/guide/resource-pools.md) — their
// configuration (`Baton.open({ pools })`), `withPool` for work outside a step, the scheduler and its
// statistics and events, the classification of provider errors that pools retry on, and the errors
// pools throw.
export { withPool } from './with-pool.ts';
export { classifyError, parseRetryAfter, type ErrorClassification } from './classify-error.ts';
export type { PoolsConfig, PoolConfig, CircuitBreakerConfig } from './pool-config.ts';
export type { PoolScheduler } from './pool-scheduler.ts';
export type { PoolStats } from './pool-stats.ts';
export type { PoolEvent, PoolListener } from './pool-metrics.ts';
export type { BreakerState } from './pool-breaker.ts';
export { UnknownPoolError, RateLimitedError, ServiceUnavailableError } from '../errors.ts';
