import { BatonError, InvalidArgumentError, NonRetryableError } from '../errors.ts';
import { toMilliseconds, type Duration } from './duration.ts';

/**
 * How a step (or tool, or model call) is retried. Every attempt is journaled.
 *
 * The delay before attempt n+1 is at least `initialDelay × backoffCoefficient^(n−1)` (a floor: a
 * retry asked for "after 1 s" never comes sooner), plus up to 20 % (`RETRY_JITTER`) of that on top
 * so that many failing callers do not retry in step; no delay is longer than `maxDelay`.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3; 1 means no retry. */
  maxAttempts?: number;
  /** The shortest delay before the second attempt (jitter only adds to it). Default '1s'. */
  initialDelay?: Duration;
  /** Each further delay is multiplied by this (≥ 1). Default 2. */
  backoffCoefficient?: number;
  /** No delay is longer than this (at least `initialDelay`). Default '5m', or `initialDelay` when longer. */
  maxDelay?: Duration;
  /** Error names or codes that fail the step at once, without retrying. */
  nonRetryable?: readonly string[];
}

export interface ResolvedRetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  backoffCoefficient: number;
  maxDelayMs: number;
  nonRetryable: readonly string[];
}

export function resolveRetryPolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  if (policy === undefined) return (defaultPolicy ??= resolvePolicy(undefined));
  return resolvePolicy(policy);
}

/** The policy of a step that names none, resolved once (every step without options asks for it). */
let defaultPolicy: ResolvedRetryPolicy | undefined;

function resolvePolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  const maxAttempts = policy?.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(`retry.maxAttempts must be an integer ≥ 1, got ${maxAttempts}.`);
  }
  const initialDelayMs = toMilliseconds(policy?.initialDelay ?? '1s', 'retry.initialDelay');
  // The default cap never undercuts an initial delay asked for.
  const maxDelayMs =
    policy?.maxDelay === undefined
      ? Math.max(5 * 60_000, initialDelayMs)
      : toMilliseconds(policy.maxDelay, 'retry.maxDelay');
  const backoffCoefficient = policy?.backoffCoefficient ?? 2;
  if (!Number.isFinite(backoffCoefficient) || backoffCoefficient < 1) {
    throw new InvalidArgumentError(
      `retry.backoffCoefficient must be a number ≥ 1, got ${backoffCoefficient}.`,
    );
  }
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidArgumentError(
      `retry.maxDelay (${maxDelayMs} ms) is shorter than retry.initialDelay (${initialDelayMs} ms): no retry could keep both.`,
    );
  }
  return {
    maxAttempts,
    initialDelayMs,
    backoffCoefficient,
    maxDelayMs,
    nonRetryable: policy?.nonRetryable ?? [],
  };
}

/** The most jitter adds to a retry delay, as a fraction of the delay: 0.2 adds up to 20 %. */
export const RETRY_JITTER = 0.2;

/**
 * Exponential backoff with the delay as a floor: base = min(maxDelay, initialDelay ×
 * coefficient^(attempt−1)), then up to 20 % (`RETRY_JITTER`) × base of random jitter on top, the
 * sum capped at maxDelay. A retry never comes before its base delay. A server's Retry-After, when
 * given, is a floor too.
 */
export function backoffDelay(
  policy: ResolvedRetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const base = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.backoffCoefficient ** (attempt - 1),
  );
  const delay = Math.min(policy.maxDelayMs, Math.ceil(base + random() * RETRY_JITTER * base));
  return retryAfterMs === undefined ? delay : Math.max(retryAfterMs, delay);
}

/** Whether an error thrown by a step may be retried under the policy. */
export function isRetryable(error: unknown, policy: ResolvedRetryPolicy): boolean {
  if (error instanceof NonRetryableError) return false;
  if (BatonError.isInstance(error) && error.disposition === 'terminal') {
    // Baton's own terminal errors (not serialisable, too large…) do not get better by trying again.
    return false;
  }
  const name = error instanceof Error ? error.name : undefined;
  const code = (error as { code?: unknown } | null)?.code;
  return !policy.nonRetryable.some((entry) => entry === name || entry === code);
}
