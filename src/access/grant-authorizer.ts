import {
  checkRequest,
  describeResource,
  grantActionFor,
  type AccessDecision,
  type AuthorizationRequest,
  type Authorizer,
  type DecisionReason,
} from './access-request.ts';
import { grantAllows, isExpired } from './grant.ts';

/** The fields every decision on `request` carries, whatever decides it. */
export function decisionBase(
  request: AuthorizationRequest,
): Pick<AccessDecision, 'action' | 'resource' | 'grantAction' | 'grantId'> {
  return {
    action: request.action,
    resource: describeResource(request.resource),
    grantAction: grantActionFor(request.action, request.resource),
    ...(request.grant ? { grantId: request.grant.id } : {}),
  };
}

/** A deny decision on `request` for `reason`, with no policy behind it. */
export function denial(
  request: AuthorizationRequest,
  reason: DecisionReason,
  errors: string[] = [],
): AccessDecision {
  return { decision: 'deny', reason, policies: [], errors, ...decisionBase(request) };
}

/**
 * The checks made before any policy: a run of another tenant, and the actor's grant (another
 * tenant's, expired, or not covering the action). Returns the deny, or undefined when they pass.
 */
export function checkGrant(request: AuthorizationRequest): AccessDecision | undefined {
  const { resource, chain, grant } = request;
  const now = request.now ?? Date.now();
  if (resource.kind === 'run' && resource.tenant !== chain.tenant) {
    return denial(request, 'other tenant', [
      `run ${resource.runId} belongs to another tenant than ${chain.actor}`,
    ]);
  }
  if (!grant) return undefined;
  if (grant.tenant !== chain.tenant)
    return denial(request, 'other tenant', [`grant ${grant.id} is for another tenant`]);
  if (isExpired(grant, now))
    return denial(request, 'grant expired', [`grant ${grant.id} expired at ${grant.expiresAt}`]);
  if (!grantAllows(grant, grantActionFor(request.action, request.resource), now))
    return denial(request, 'outside grant');
  return undefined;
}

/**
 * Decides a request by the actor's grant alone, for deployments with no Cedar policies: allowed
 * (reason `grant`) when the grant, unexpired and of the actor's tenant, covers the action; denied
 * otherwise, and denied when there is no grant at all.
 *
 * @example authorizeByGrant({ chain, action: 'InvokeTool', resource: { kind: 'tool', name: 'search.web' }, grant })
 */
export function authorizeByGrant(request: AuthorizationRequest): AccessDecision {
  checkRequest(request);
  const denied = checkGrant(request);
  if (denied) return denied;
  if (!request.grant)
    return denial(request, 'outside grant', ['the actor holds no grant and no policies are configured']);
  return { decision: 'allow', reason: 'grant', policies: [], errors: [], ...decisionBase(request) };
}

/** {@link authorizeByGrant} as an {@link Authorizer}. */
export const GRANT_AUTHORIZER: Authorizer = { authorize: authorizeByGrant };
