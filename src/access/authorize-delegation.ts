import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import {
  runInterceptedOperation,
  runPhases,
  settled,
  type InterceptedOperation,
} from '../engine/intercepted-operation.ts';
import type { AccessDecisionPayload, JournalEvent } from '../journal/events.ts';
import { definedFields } from '../defined-fields.ts';
import { BatonError } from '../errors.ts';
import { DelegationDepthError, DelegationWidensError, GrantExpiredError } from './access-errors.ts';
import {
  checkRequest,
  type AccessDecision,
  type AccessResource,
  type Authorizer,
  type DecisionReason,
} from './access-request.ts';
import { decisionEvent, decisionName, recordedDecision } from './authorize-durably.ts';
import { delegate } from './delegate.ts';
import { denial } from './grant-authorizer.ts';
import { parseGrant, type Grant } from './grant.ts';
import type { IdentityChain } from './identity-chain.ts';

/**
 * One identity handing work to another under its grant: an agent handing off or calling an agent as
 * a tool (HandOff), a workflow starting a child run (StartChild).
 */
export interface DelegationRequest {
  /** Who delegates, and for whom. */
  chain: IdentityChain;
  action: 'HandOff' | 'StartChild';
  resource: Extract<AccessResource, { kind: 'agent' } | { kind: 'workflow' }>;
  /** The delegating identity's grant; without one there is nothing to narrow (policies alone decide). */
  grant?: Grant;
  /** What the callee needs (grant actions and patterns). */
  needs: readonly string[];
  /**
   * True for needs the callee declared: one the grant does not hold denies the delegation
   * (`delegation widens`). False for needs derived from its tools: the callee gets what the grant
   * holds of them, and is refused the rest when it tries.
   */
  strict: boolean;
  /** The identity that will hold the delegated grant (`agent:billing`, `workflow:report`). */
  holder: string;
  /** The deepest delegation allowed (the root grant is depth 0). Default 8. */
  maxDepth?: number;
}

/** An authorization decision on a delegation, and the grant the callee receives when it is allowed. */
export interface DelegationDecision extends AccessDecision {
  delegated?: Grant;
}

/**
 * Decides a delegation: the delegating identity must be allowed the action (its grant must hold
 * `handoff:<agent>` or `child:<workflow>`, and the authorizer must allow it), then the callee's
 * grant is the delegating grant narrowed to what the callee needs (src/access/delegate.ts). A need
 * that would widen the grant (strict), a chain past the depth limit or an expired grant denies it.
 * Pure: nothing is journaled (see {@link authorizeDelegationDurably}).
 */
export function decideDelegation(
  authorizer: Authorizer,
  request: DelegationRequest,
  now: number,
): DelegationDecision {
  const authorization = {
    chain: request.chain,
    action: request.action,
    resource: request.resource,
    now,
    ...(request.grant ? { grant: request.grant } : {}),
  };
  const decision = authorizer.authorize(authorization);
  if (decision.decision === 'deny' || !request.grant) return decision;
  try {
    const delegated = delegate(
      request.grant,
      { actions: request.needs, holder: request.holder },
      {
        strict: request.strict,
        now,
        ...definedFields({ maxDepth: request.maxDepth }),
      },
    );
    return { ...decision, delegated };
  } catch (error) {
    if (!BatonError.isInstance(error)) throw error;
    const reason = delegationRefusal(error);
    if (reason === undefined) throw error;
    return denial(authorization, reason, [error.message]);
  }
}

/**
 * Authorizes a delegation as a durable operation of its own (`access:<Action>:<resource>`) and
 * journals the decision as `access.decided`, with the callee's grant when allowed. On replay the
 * recorded decision (and grant) is returned: a policy change never changes a run's past.
 *
 * Failure semantics: a request naming an unknown principal throws before anything is journaled; a
 * deny is a decision. The decision is committed before this resolves, so a callee never starts on
 * a decision that was lost.
 *
 * @example
 * const decision = await authorizeDelegationDurably(ctx, policies, {
 *   chain: chainOf(ctx), action: 'StartChild', resource: { kind: 'workflow', name: 'report' },
 *   grant, needs: ['tool:search.*'], strict: true, holder: 'workflow:report',
 * });
 */
export function authorizeDelegationDurably(
  ctx: WorkflowContext,
  authorizer: Authorizer,
  request: DelegationRequest,
): Promise<DelegationDecision> {
  checkRequest(request);
  const name = decisionName(request.action, request.resource);
  return runInterceptedOperation(ctx.operations, {
    describe: `access:${name}`,
    ...delegationOperation(authorizer, request, { commit: true }),
  });
}

/**
 * As {@link authorizeDelegationDurably}, inside an operation someone else took (an agent's loop):
 * the decision is journaled as that op's event, told apart from the op's other decisions by the
 * `callId` of the tool call that asked. Buffered with the op's next write unless `commit`.
 */
export function authorizeDelegationInOperation(
  op: OperationHandle,
  authorizer: Authorizer,
  request: DelegationRequest,
  options: { callId?: string; commit?: boolean } = {},
): Promise<DelegationDecision> {
  return runPhases(op, delegationOperation(authorizer, request, options));
}

/**
 * A delegation as an intercepted operation (src/engine/intercepted-operation.ts): replay answers
 * from the recorded `access.decided`; decide asks the authorizer and narrows the grant; the
 * decision is committed (the callee then starts under it, as its own op or loop).
 */
function delegationOperation(
  authorizer: Authorizer,
  request: DelegationRequest,
  options: { callId?: string; commit?: boolean },
): Omit<InterceptedOperation<{ decision?: DelegationDecision }, DelegationDecision>, 'describe'> {
  return {
    replay: (op) => {
      const recorded = recordedDelegation(op.recorded, options.callId);
      return recorded ? settled(recorded) : { state: {} };
    },
    decide: (op, state) => {
      checkRequest(request);
      state.decision = decideDelegation(authorizer, request, op.now());
      return undefined;
    },
    attempt: async (op, state) => {
      const decision = state.decision!;
      const draft = decisionEvent(
        op.op,
        request.chain,
        decision,
        decisionName(request.action, request.resource),
        {
          ...(decision.delegated ? { delegated: decision.delegated } : {}),
          ...(options.callId === undefined ? {} : { callId: options.callId }),
        },
      );
      if (options.commit) await op.append([draft]);
      else op.buffer(draft);
      return decision;
    },
  };
}

/** The delegation decision an op journaled (for `callId` when given), with the callee's grant. */
export function recordedDelegation(
  events: readonly JournalEvent[],
  callId?: string,
): DelegationDecision | undefined {
  const decision = recordedDecision(events, callId);
  if (!decision) return undefined;
  const event = events.find(
    (candidate) =>
      candidate.type === 'access.decided' &&
      (callId === undefined || (candidate.payload as AccessDecisionPayload).callId === callId),
  );
  const delegated = (event?.payload as AccessDecisionPayload | undefined)?.delegated;
  return delegated === undefined ? decision : { ...decision, delegated: parseGrant(delegated) };
}

/** Why `delegate` refused a delegation, as a denial's reason; undefined for any other error. */
function delegationRefusal(error: BatonError): DecisionReason | undefined {
  if (DelegationWidensError.isInstance(error)) return 'delegation widens';
  if (DelegationDepthError.isInstance(error)) return 'delegation too deep';
  if (GrantExpiredError.isInstance(error)) return 'grant expired';
  return undefined;
}
