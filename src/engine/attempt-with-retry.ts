import { setTimeout as delay } from 'node:timers/promises';
import { BatonError } from '../errors.ts';
import type { OperationHandle } from './context.ts';
import { backoffDelay, isRetryable, type ResolvedRetryPolicy } from './retry.ts';

/** Where an operation's attempts stand: the next attempt's number, and when it may start after a failed one. */
export interface AttemptSchedule {
  /** The number of the next attempt (1 for the first). */
  next: number;
  /** Set after a failed attempt: the next one waits until then (parking the run when the wait is long). */
  retryAt?: number | undefined;
}

/** What an attempt gave: a value, an error to judge, or a result that ends the operation without another attempt. */
export type AttemptOutcome<Value, Final> =
  { kind: 'value'; value: Value } | { kind: 'error'; error: unknown } | { kind: 'final'; result: Final };

/** The hooks one kind of operation gives the retry loop. */
export interface AttemptHooks<Value, Final> {
  readonly policy: ResolvedRetryPolicy;
  /** Waits up to this long are waited in memory; longer ones park the run until `retryAt`. */
  readonly inlineRetryMs: number;
  /** After the wait for a retry, before it runs: journals that the attempt is retried, if the kind does. */
  retrying?(attempt: number): Promise<void>;
  /** Runs attempt `attempt`, catching what it throws. */
  run(attempt: number): Promise<AttemptOutcome<Value, Final>>;
  /** The error as the retry policy judges it (e.g. a provider's error classified); the error itself by default. */
  classify?(error: unknown): unknown;
  /** Journals a failed attempt that is retried at `retryAt`. */
  failedAttempt(attempt: number, error: unknown, retryAt: number): Promise<void>;
  /** Journals the last failed attempt; returns the operation's result or throws. */
  failed(attempt: number, error: unknown): Promise<Final>;
}

/** A successful attempt: its value and number. */
export interface Succeeded<Value> {
  kind: 'value';
  value: Value;
  attempt: number;
}

/**
 * Runs attempts until one succeeds, the policy gives up, or an attempt ends the operation. Each
 * failed attempt the policy retries is journaled before the wait; a wait longer than
 * `inlineRetryMs` parks the run (it resumes at `retryAt` by replay, from the journaled schedule).
 * A cancelled op throws its abort reason instead of retrying.
 */
export async function attemptWithRetry<Value, Final>(
  op: OperationHandle,
  schedule: AttemptSchedule,
  hooks: AttemptHooks<Value, Final>,
): Promise<Succeeded<Value> | { kind: 'final'; result: Final }> {
  let { next, retryAt } = schedule;
  for (;;) {
    if (retryAt !== undefined) {
      await waitUntil(op, retryAt, hooks.inlineRetryMs);
      await hooks.retrying?.(next);
    }
    const attempt = next;
    const outcome = await hooks.run(attempt);
    if (outcome.kind === 'value') return { kind: 'value', value: outcome.value, attempt };
    if (outcome.kind === 'final') return outcome;
    if (op.signal.aborted) throw op.signal.reason;
    const error = hooks.classify ? hooks.classify(outcome.error) : outcome.error;
    if (!isRetryable(error, hooks.policy) || attempt >= hooks.policy.maxAttempts) {
      return { kind: 'final', result: await hooks.failed(attempt, error) };
    }
    const retryAfterMs = BatonError.isInstance(error) ? error.retryAfterMs : undefined;
    retryAt = op.now() + backoffDelay(hooks.policy, attempt, retryAfterMs);
    await hooks.failedAttempt(attempt, error, retryAt);
    next = attempt + 1;
  }
}

/** Waits until `at`: in memory when it is soon, else parked (the run holds no worker meanwhile). */
async function waitUntil(op: OperationHandle, at: number, inlineMs: number): Promise<void> {
  const wait = at - op.now();
  if (wait > inlineMs) await op.block(at);
  else if (wait > 0) await op.active(() => delay(wait, undefined, { signal: op.signal }));
}
