import { createHash } from 'node:crypto';
import { canonicalJson } from '../journal/canonical-json.ts';
import { GrantExpiredError, InvalidGrantError } from './access-errors.ts';
import { actionMatches, checkActionPattern, simplifyPatterns } from './action-pattern.ts';

/**
 * What an identity may do: a list of grant actions and patterns (`tool:payments.refund`,
 * `tool:search.*`, `handoff:*`, `child:*`, `secret:stripe`), in one tenant, until an expiry.
 * A run's principal holds a root grant (depth 0); everything it delegates holds a narrower one.
 * Grants are plain JSON (they are journaled by id and kept with runs) and frozen.
 */
export interface Grant {
  /** `grant_` and a digest of the content: the same grant always has the same id. */
  readonly id: string;
  readonly tenant: string;
  readonly actions: readonly string[];
  /** ISO-8601; absent for a grant that does not expire. */
  readonly expiresAt?: string;
  /** How many delegations from the root grant (0). */
  readonly depth: number;
  /** The grant this one was delegated from. */
  readonly parentId?: string;
  /** The identity the grant was issued to (`user:alice`, `agent:writer`). */
  readonly holder?: string;
}

export interface GrantInput {
  tenant: string;
  actions: readonly string[];
  expiresAt?: Date | string | number;
  holder?: string;
}

/**
 * Creates a root grant. Actions are checked (InvalidGrantError) and simplified (an action covered
 * by another is dropped).
 *
 * @example createGrant({ tenant: 'acme', holder: 'user:alice', actions: ['tool:search.*', 'handoff:*'], expiresAt: '2030-01-01T00:00:00Z' })
 */
export function createGrant(input: GrantInput): Grant {
  return sealGrant({
    tenant: input.tenant,
    actions: input.actions,
    depth: 0,
    ...(input.expiresAt === undefined ? {} : { expiresAt: toIso(input.expiresAt) }),
    ...(input.holder === undefined ? {} : { holder: input.holder }),
  });
}

/** Builds a frozen grant with its content id. For the access layer; users call createGrant or delegate. */
export function sealGrant(content: Omit<Grant, 'id'>): Grant {
  if (typeof content.tenant !== 'string' || content.tenant === '') {
    throw new InvalidGrantError('A grant needs a tenant.');
  }
  if (!Array.isArray(content.actions)) throw new InvalidGrantError('A grant needs a list of actions.');
  for (const action of content.actions) checkActionPattern(action);
  const actions = simplifyPatterns(content.actions);
  const body: Omit<Grant, 'id'> = {
    tenant: content.tenant,
    actions,
    depth: content.depth,
    ...(content.expiresAt === undefined ? {} : { expiresAt: content.expiresAt }),
    ...(content.parentId === undefined ? {} : { parentId: content.parentId }),
    ...(content.holder === undefined ? {} : { holder: content.holder }),
  };
  const digest = createHash('sha256').update(canonicalJson(body, 'A grant')).digest('hex').slice(0, 24);
  return Object.freeze({ id: `grant_${digest}`, ...body, actions: Object.freeze(actions) });
}

/** Reads a grant back from JSON (run metadata, a config file), checking its shape and id. */
export function parseGrant(value: unknown): Grant {
  if (typeof value !== 'object' || value === null) throw new InvalidGrantError('A grant must be an object.');
  const record = value as Record<string, unknown>;
  const grant = sealGrant({
    tenant: record.tenant as string,
    actions: record.actions as string[],
    depth: typeof record.depth === 'number' ? record.depth : 0,
    ...(typeof record.expiresAt === 'string' ? { expiresAt: toIso(record.expiresAt) } : {}),
    ...(typeof record.parentId === 'string' ? { parentId: record.parentId } : {}),
    ...(typeof record.holder === 'string' ? { holder: record.holder } : {}),
  });
  if (typeof record.id === 'string' && record.id !== grant.id) {
    throw new InvalidGrantError(
      `Grant ${record.id} does not match its content (it reads as ${grant.id}); it was altered.`,
    );
  }
  return grant;
}

export function isExpired(grant: Grant, now: number): boolean {
  return grant.expiresAt !== undefined && Date.parse(grant.expiresAt) <= now;
}

/** Throws GrantExpiredError when the grant has expired at `now`. */
export function assertCurrent(grant: Grant, now: number): void {
  if (isExpired(grant, now))
    throw new GrantExpiredError({ grantId: grant.id, expiresAt: grant.expiresAt!, now });
}

/** True when the grant, unexpired at `now`, allows the action (`tool:payments.refund`). */
export function grantAllows(grant: Grant, action: string, now: number): boolean {
  if (isExpired(grant, now)) return false;
  return grant.actions.some((pattern) => actionMatches(pattern, action));
}

export function toIso(value: Date | string | number): string {
  const time =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(time))
    throw new InvalidGrantError(`'${String(value)}' is not a time a grant can expire at.`);
  return new Date(time).toISOString();
}
