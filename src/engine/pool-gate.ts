import type { OperationHandle, PoolLease } from './context.ts';

export type { PoolEstimate, PoolLease } from './context.ts';

/**
 * The port through which the engine reaches resource pools (src/resources implements it): hold a
 * slot of a named pool around one call. The engine defines the shape; the resources layer, above
 * it, fills it in, so the engine imports nothing from the layers above.
 */
export interface PoolGate {
  /** Throws UnknownPoolError, naming `where`, when no pool has this name. */
  assertPool(pool: string, where: string): void;
  /**
   * Runs `work` holding a lease on the call's pool. Waits for the lease in this process while the
   * wait is short; parks the op (`op.block`) when it is long, so the run holds no worker slot (the
   * op runs again, from its journaled state, when the run resumes).
   */
  run<T>(op: OperationHandle, call: PoolCall, work: (lease: PoolLease) => Promise<T>): Promise<T>;
  /**
   * Takes a slot of `pool` for one activation of a run whose workflow names a pool
   * (WorkflowOptions.pool), without waiting. Granted: the slot, kept alive until `release()`.
   * Refused: when to come back; the run parks until then, or until a slot frees for it.
   */
  enterRun(run: { runId: string; tenant: string; priority: number }, pool: string): Promise<RunSlot>;
}

export type RunSlot = { granted: true; release(): Promise<void> } | { granted: false; retryAfterMs: number };

/** One call that needs a pool. */
export interface PoolCall {
  pool: string;
  /** Tokens to reserve from the pool's tokens per minute (an estimate; see PoolLease.reportTokens). */
  tokens: number;
  runId: string;
  /** Stable across attempts and replays (`runId:op`): the waiter keeps its place in the queue. */
  holder: string;
  tenant: string;
  priority: number;
  /** What the call is, for messages and the journal (`step 'fetch'`, `tool 'search'`). */
  what: string;
}
