import { BatonError, InvalidArgumentError } from '../errors.ts';

/** Routing was asked for with nothing registered to route to. */
export class EmptyRegistryError extends BatonError {
  constructor(args: { task: string }) {
    super(
      'ROUTING_EMPTY_REGISTRY',
      `Cannot route '${abbreviate(args.task)}': no capabilities are registered. Register agents or tools ` +
        `(registry.register(agent)) before routing.`,
    );
  }
}

/** A feature that keeps vectors in the store was given a store without the vectorRecords capability. */
export class VectorRecordsUnavailableError extends BatonError {
  constructor(args: { feature: string; location?: string }) {
    super(
      'ROUTING_NO_VECTOR_RECORDS',
      `${args.feature} keeps its entries in the store, but the store${args.location ? ` at ${args.location}` : ''} ` +
        `does not offer vector records (store.vectorRecords). Use the SQLite or PostgreSQL store, or pass a VectorRecordStore.`,
    );
  }
}

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

export function abbreviate(text: string, length = 60): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** A rejected promise for an error thrown while checking arguments (so a bad call rejects instead of throwing). */
export function rejected(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}
