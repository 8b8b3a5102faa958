import type { OperationHandle } from '../engine/context.ts';
import type { PoolEstimate, PoolLease } from '../engine/pool-gate.ts';

/**
 * Runs one call (a model call, a tool call) holding a slot of a resource pool, from inside a
 * durable operation (`ctx.operations.run`). With `pool` undefined the call runs at once.
 *
 * - Waiting: a short wait is spent in this process; a long one parks the run (`op.block`), which
 *   then holds no worker slot and keeps its place in the pool's queue. The op's body runs again,
 *   from its journaled state, when the run resumes, so call `withPool` before journaling the
 *   call's result, never around code that must not run twice.
 * - Call it in place of `op.active(…)`, never inside it: it counts the call as in flight itself,
 *   and a run can only park while nothing of it is in flight.
 * - Let the call throw inside `call`: the error is what is classified and what the circuit breaker
 *   counts. Turn it into a value outside, if you must.
 * - Tokens: `estimate` (a number, or `{ tokens }`) is reserved from the pool's tokens per minute;
 *   report the real usage with `lease.reportTokens(n)` and the reservation is corrected.
 * - Errors: a 429 pauses the pool for its Retry-After and is thrown as RateLimitedError (retryable,
 *   `retryAfterMs` set); a 5xx, 408, timeout or broken connection as ServiceUnavailableError
 *   (retryable; it counts against the pool's circuit breaker); another 4xx as NonRetryableError;
 *   anything else as it was. Journal attempts and retry as the operation's own policy says.
 * - A pool that is not configured rejects with UnknownPoolError before anything runs.
 *
 * @example
 * const response = await withPool(op, 'openai', { tokens: 1500 }, async (lease) => {
 *   const result = await model.doGenerate(request);
 *   lease.reportTokens((result.usage.inputTokens ?? 0) + (result.usage.outputTokens ?? 0));
 *   return result;
 * });
 */
export function withPool<T>(
  op: OperationHandle,
  pool: string | undefined,
  estimate: PoolEstimate | number,
  call: (lease: PoolLease) => Promise<T>,
): Promise<T> {
  const tokens = typeof estimate === 'number' ? estimate : estimate.tokens;
  return op.withPool(pool, tokens === undefined ? {} : { tokens }, call);
}
