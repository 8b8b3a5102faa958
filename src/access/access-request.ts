import { UnknownActionError } from './access-errors.ts';
import type { Grant } from './grant.ts';
import type { IdentityChain } from './identity-chain.ts';
import { parsePrincipal } from './principal.ts';

/** The actions Baton authorizes, as named in the Cedar schema (`Action::"InvokeTool"`). */
export const BATON_ACTIONS = [
  'InvokeTool',
  'HandOff',
  'StartChild',
  'Approve',
  'ReadRun',
  'SignalRun',
  'CancelRun',
  'StartRun',
  'ResumeRun',
] as const;
export type BatonAction = (typeof BATON_ACTIONS)[number];

/** What an action is done to. Each action takes one kind (InvokeTool a tool, HandOff an agent…). */
export type AccessResource =
  | {
      kind: 'tool';
      name: string;
      effect?: 'read' | 'write' | 'irreversible';
      /** The call's arguments; policies see them as the Tool's tags. Never journaled by the access layer. */
      args?: unknown;
    }
  | { kind: 'agent'; name: string }
  | { kind: 'workflow'; name: string }
  | { kind: 'run'; runId: string; workflow: string; tenant: string; principal: string; status?: string };

export interface AuthorizationRequest {
  /** Who acts and for whom. */
  chain: IdentityChain;
  action: BatonAction;
  resource: AccessResource;
  /** The grant the actor holds. When given, an action outside it is denied before Cedar runs. */
  grant?: Grant;
  /** The approval's name, for Approve. */
  approval?: string;
  /** Epoch ms, for grant expiry. Default Date.now(). */
  now?: number;
}

export type DecisionReason =
  /** A Cedar policy decided: a permit (allow) or a forbid (deny). */
  | 'policy'
  /** No policy permits it. */
  | 'default deny'
  | 'outside grant'
  | 'grant expired'
  /** The grant or the resource belongs to another tenant than the actor. */
  | 'other tenant'
  /** The request could not be evaluated (see `errors`). */
  | 'evaluation error'
  /** No policies are configured: the grant alone allowed it (see {@link authorizeByGrant}). */
  | 'grant'
  /** The callee needs actions the delegating grant does not hold (DelegationWidensError). */
  | 'delegation widens'
  /** Delegating would make the grant chain deeper than allowed (DelegationDepthError). */
  | 'delegation too deep';

/** The answer to an authorization request, as journaled with the action. */
export interface AccessDecision {
  decision: 'allow' | 'deny';
  reason: DecisionReason;
  /** The ids of the policies that determined the decision. */
  policies: string[];
  /** Evaluation errors (a policy that failed to evaluate is skipped, as Cedar does). */
  errors: string[];
  action: BatonAction;
  /** What was acted on, as `kind:name` (`tool:payments.refund`, `run:run_01…`). */
  resource: string;
  /** The grant action the request needs (`tool:payments.refund`, `handoff:billing`, `read:support`). */
  grantAction: string;
  grantId?: string;
}

/**
 * What decides authorization requests: a {@link PolicyEngine} (Cedar, default deny), or
 * {@link authorizeByGrant} when no policies are configured.
 */
export interface Authorizer {
  authorize(request: AuthorizationRequest): AccessDecision;
}

const RESOURCE_KIND: Record<BatonAction, AccessResource['kind']> = {
  InvokeTool: 'tool',
  HandOff: 'agent',
  StartChild: 'workflow',
  Approve: 'run',
  ReadRun: 'run',
  SignalRun: 'run',
  CancelRun: 'run',
  StartRun: 'workflow',
  ResumeRun: 'run',
};

export function isBatonAction(value: string): value is BatonAction {
  return (BATON_ACTIONS as readonly string[]).includes(value);
}

/** The resource kind an action takes. */
export function resourceKindOf(action: BatonAction): AccessResource['kind'] {
  return RESOURCE_KIND[action];
}

/** `tool:payments.refund`, `agent:billing`, `workflow:report`, `run:run_01…` */
export function describeResource(resource: AccessResource): string {
  return resource.kind === 'run' ? `run:${resource.runId}` : `${resource.kind}:${resource.name}`;
}

/**
 * The grant action a request needs: `tool:<name>` to invoke a tool, `handoff:<agent>`,
 * `child:<workflow>`, `start:<workflow>` to start a run of it (StartRun), and
 * `approve|read|signal|cancel:<workflow>` for a run of that workflow.
 */
export function grantActionFor(action: BatonAction, resource: AccessResource): string {
  switch (resource.kind) {
    case 'tool':
      return `tool:${resource.name}`;
    case 'agent':
      return `handoff:${resource.name}`;
    case 'workflow':
      return action === 'StartRun' ? `start:${resource.name}` : `child:${resource.name}`;
    case 'run': {
      const verb =
        action === 'Approve'
          ? 'approve'
          : action === 'ReadRun'
            ? 'read'
            : action === 'SignalRun'
              ? 'signal'
              : 'cancel';
      return `${verb}:${resource.workflow}`;
    }
  }
}

/**
 * Checks a request at the door: a known action, a resource of the kind it takes, a chain of known
 * principals. Throws UnknownActionError / UnknownPrincipalError; nothing has been journaled yet.
 */
export function checkRequest(request: Pick<AuthorizationRequest, 'action' | 'resource' | 'chain'>): void {
  const { action, resource, chain } = request;
  if (!isBatonAction(action)) throw new UnknownActionError({ action, known: BATON_ACTIONS });
  if (resource?.kind !== resourceKindOf(action)) {
    throw new UnknownActionError({
      action,
      known: BATON_ACTIONS,
      reason: `${action} acts on a ${resourceKindOf(action)}, but the request names ${
        resource ? `a ${String(resource.kind)} (${describeResource(resource)})` : 'no resource'
      }.`,
    });
  }
  parsePrincipal(chain.actor, chain.tenant);
  for (const identity of chain.onBehalfOf) parsePrincipal(identity, chain.tenant);
}
