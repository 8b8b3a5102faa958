/**
 * Checks of the arguments a caller passes to Baton's API (options, thresholds, names), used by every
 * layer: each returns the value when it passes and throws InvalidArgumentError naming `what` when not,
 * so a bad call is refused before anything is journaled.
 */
import { InvalidArgumentError } from './errors.ts';

/** Checks a cosine-similarity threshold: a finite number in [-1, 1]. */
export function checkSimilarity(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < -1 || value > 1) {
    throw new InvalidArgumentError(
      `${what} is a cosine similarity and must be a number in [-1, 1], got ${show(value)}.`,
    );
  }
  return value;
}

/** Checks a number in [0, 1] (a weight, a verifier's threshold). */
export function checkUnitInterval(
  value: unknown,
  what: string,
  options: { exclusiveMin?: boolean } = {},
): number {
  const low = options.exclusiveMin ? 'greater than 0' : 'at least 0';
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    value > 1 ||
    (options.exclusiveMin === true && value === 0)
  ) {
    throw new InvalidArgumentError(`${what} must be a number ${low} and at most 1, got ${show(value)}.`);
  }
  return value;
}

export function checkPositiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${what} must be a positive whole number, got ${show(value)}.`);
  }
  return value;
}

export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidArgumentError(`${what} must be a non-empty string, got ${show(value)}.`);
  return value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** A rejected promise for an error thrown while checking arguments (so a bad call rejects instead of throwing). */
export function rejected(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}
