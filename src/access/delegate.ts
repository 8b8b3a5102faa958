import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { DelegationDepthError, DelegationWidensError } from './access-errors.ts';
import { checkActionPattern, patternCovers } from './action-pattern.ts';
import { assertCurrent, sealGrant, toIso, type Grant } from './grant.ts';

/** What a callee (sub-agent, handoff target, child run, parallel branch) declares it needs. */
export interface DelegationNeeds {
  actions: readonly string[];
  /** The identity that will hold the delegated grant (`agent:writer`). */
  holder?: string;
  /** The delegated grant expires this long after `now`, or when the parent does, whichever is first. */
  ttl?: Duration;
  expiresAt?: Date | string | number;
}

export interface DelegationOptions {
  /**
   * True (default): a need the parent does not hold throws DelegationWidensError.
   * False: such needs are dropped, and the callee gets what the parent holds of what it asked for.
   */
  strict?: boolean;
  /** The deepest delegation allowed (the root grant is depth 0). Default 8. */
  maxDepth?: number;
  /** Epoch ms. Default Date.now(); in a workflow pass ctx.now().getTime() so replay is deterministic. */
  now?: number;
}

export const DEFAULT_MAX_DELEGATION_DEPTH = 8;

/**
 * The grant a callee receives: the intersection of what the parent holds and what the callee
 * needs. Pattern-aware: a parent holding `tool:search.*` and a callee needing `tool:*` gives
 * `tool:search.*`; a callee needing `tool:search.web` gets exactly that.
 *
 * Throws GrantExpiredError when the parent has expired, DelegationDepthError past `maxDepth`, and
 * (strict) DelegationWidensError when a need reaches outside the parent.
 *
 * @example
 * const writer = delegate(plannerGrant, { holder: 'agent:writer', actions: ['tool:search.*'], ttl: '10m' });
 */
export function delegate(
  parent: Grant,
  needs: DelegationNeeds | readonly string[],
  options: DelegationOptions = {},
): Grant {
  const now = options.now ?? Date.now();
  const request: DelegationNeeds = isActionList(needs) ? { actions: needs } : needs;
  assertCurrent(parent, now);
  const limit = options.maxDepth ?? DEFAULT_MAX_DELEGATION_DEPTH;
  const depth = parent.depth + 1;
  if (depth > limit) throw new DelegationDepthError({ depth, limit, parentGrantId: parent.id });

  const granted: string[] = [];
  const widening: string[] = [];
  for (const need of request.actions) {
    checkActionPattern(need);
    if (parent.actions.some((held) => patternCovers(held, need))) {
      granted.push(need);
      continue;
    }
    // The need reaches outside the parent: when not strict, it gets the held patterns inside it
    // (held patterns that only overlap it, neither covering the other, are not granted).
    widening.push(need);
    granted.push(...parent.actions.filter((held) => patternCovers(need, held)));
  }
  if (widening.length > 0 && options.strict !== false) {
    throw new DelegationWidensError({
      parentGrantId: parent.id,
      holder: request.holder,
      actions: widening,
      held: parent.actions,
    });
  }

  let expiresAt = parent.expiresAt === undefined ? undefined : Date.parse(parent.expiresAt);
  const asked =
    request.expiresAt !== undefined
      ? Date.parse(toIso(request.expiresAt))
      : request.ttl !== undefined
        ? now + toMilliseconds(request.ttl, 'delegation ttl')
        : undefined;
  if (asked !== undefined && (expiresAt === undefined || asked < expiresAt)) expiresAt = asked;

  return sealGrant({
    tenant: parent.tenant,
    actions: granted,
    depth,
    parentId: parent.id,
    ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt).toISOString() }),
    ...(request.holder === undefined ? {} : { holder: request.holder }),
  });
}

function isActionList(value: DelegationNeeds | readonly string[]): value is readonly string[] {
  return Array.isArray(value);
}
