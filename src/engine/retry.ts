import { BatonError, NonRetryableError } from '../errors.ts';
import { toMilliseconds, type Duration } from './duration.ts';

/** How a step (or tool, or model call) is retried. Every attempt is journaled. */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3; 1 means no retry. */
  maxAttempts?: number;
  /** Delay before the second attempt. Default '1s'. */
  initialDelay?: Duration;
  /** Each further delay is multiplied by this. Default 2. */
  backoffCoefficient?: number;
  /** No delay is longer than this. Default '5m'. */
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
  const maxAttempts = policy?.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new BatonError('INVALID_ARGUMENT', `retry.maxAttempts must be an integer ≥ 1, got ${maxAttempts}.`);
  }
  return {
    maxAttempts,
    initialDelayMs: toMilliseconds(policy?.initialDelay ?? '1s', 'retry.initialDelay'),
    backoffCoefficient: policy?.backoffCoefficient ?? 2,
    maxDelayMs: toMilliseconds(policy?.maxDelay ?? '5m', 'retry.maxDelay'),
    nonRetryable: policy?.nonRetryable ?? [],
  };
}

/**
 * Exponential backoff with full jitter: a uniformly random delay between 0 and
 * min(maxDelay, initialDelay × coefficient^(attempt−1)). A server's Retry-After, when given, is a floor.
 */
export function backoffDelay(
  policy: ResolvedRetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.backoffCoefficient ** (attempt - 1),
  );
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
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
