import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import type { AccessDecisionPayload, EventDraft, GrantRecord, JournalEvent } from '../journal/events.ts';
import { AccessDeniedError } from './access-errors.ts';
import {
  checkRequest,
  describeResource,
  type AccessDecision,
  type AuthorizationRequest,
  type Authorizer,
  type BatonAction,
  type DecisionReason,
} from './access-request.ts';
import { chainOf, type IdentityChain } from './identity-chain.ts';

/** A request made from workflow code: the chain defaults to the workflow's own identity. */
export type DurableAuthorizationRequest = Omit<AuthorizationRequest, 'chain' | 'now'> & {
  chain?: IdentityChain;
};

export interface DurableAuthorizationOptions {
  /**
   * False (default): the decision is journaled with the run's next write (the tool call's intent,
   * the next step), costing no commit of its own; after a crash before that write the request is
   * decided again, and nothing acted on the lost decision. True: resolve only once it is committed.
   */
  commit?: boolean;
}

/**
 * Authorizes an action as a durable operation of its own and journals the decision:
 * `tool.authorized` for InvokeTool (op `tool:<name>`), `access.decided` for every other action
 * (op `access:<Action>:<resource>`). The event's actor and onBehalfOf are the request's chain; its
 * payload carries the decision, the determining policies, evaluation errors and the grant id. On
 * replay the recorded decision is returned and nothing is evaluated again, so a policy change never
 * changes the past of a run.
 *
 * Failure semantics: a request naming an unknown action or principal throws before anything is
 * journaled. A deny is a decision, not an error: check `decision` (or use {@link assertAllowed}).
 *
 * @example
 * const decision = await authorizeDurably(ctx, policies, {
 *   chain: actingFor(chainOf(ctx), 'agent:billing'),
 *   action: 'InvokeTool',
 *   resource: { kind: 'tool', name: 'payments.refund', effect: 'irreversible', args },
 *   grant,
 * });
 * if (decision.decision === 'deny') return refusal(decision);
 */
export async function authorizeDurably(
  ctx: WorkflowContext,
  policies: Authorizer,
  request: DurableAuthorizationRequest,
  options: DurableAuthorizationOptions = {},
): Promise<AccessDecision> {
  // Everything up to ctx.operations.run happens synchronously, so the op is taken when the call is made.
  const full: Omit<AuthorizationRequest, 'now'> = { ...request, chain: request.chain ?? chainOf(ctx) };
  checkRequest(full);
  const name = decisionName(full.action, full.resource);
  const describe = full.action === 'InvokeTool' ? `tool:${name}` : `access:${name}`;
  return ctx.operations.run(describe, (op) => authorizeInOperation(op, policies, full, options));
}

/**
 * Authorizes inside an operation someone else took (the agents layer's tool call), journaling the
 * decision as that op's event, before its other events: for a tool call, `tool.authorized` keeps
 * the op's description `tool:<name>`. Returns the recorded decision when the op already holds one.
 */
export async function authorizeInOperation(
  op: OperationHandle,
  policies: Authorizer,
  request: Omit<AuthorizationRequest, 'now'>,
  options: DurableAuthorizationOptions = {},
): Promise<AccessDecision> {
  const recorded = recordedDecision(op.recorded);
  if (recorded) return recorded;
  checkRequest(request);
  const decision = policies.authorize({ ...request, now: op.now() });
  const draft = decisionEvent(op.op, request.chain, decision, decisionName(request.action, request.resource));
  if (options.commit) await op.append([draft]);
  else op.buffer(draft);
  return decision;
}

/** The decision an op already journaled, if any (with `callId`, the one that tool call asked for). */
export function recordedDecision(
  events: readonly JournalEvent[],
  callId?: string,
): AccessDecision | undefined {
  for (const event of events) {
    if (event.type !== 'tool.authorized' && event.type !== 'access.decided') continue;
    const payload = event.payload as AccessDecisionPayload;
    if (callId !== undefined && payload.callId !== callId) continue;
    return {
      decision: payload.decision,
      reason: payload.reason as DecisionReason,
      policies: [...payload.policies],
      errors: [...payload.errors],
      action: payload.action as BatonAction,
      resource: payload.resource,
      grantAction: payload.grantAction,
      ...(payload.grantId === undefined ? {} : { grantId: payload.grantId }),
    };
  }
  return undefined;
}

/** Throws AccessDeniedError for a deny; returns an allow unchanged. */
export function assertAllowed(decision: AccessDecision, chain: Pick<IdentityChain, 'actor'>): AccessDecision {
  if (decision.decision === 'allow') return decision;
  throw new AccessDeniedError({
    actor: chain.actor,
    action: decision.action,
    resource: decision.resource,
    reason: decision.reason,
    policies: decision.policies,
  });
}

/** The `name` of a decision's event: the tool's name for InvokeTool, `<Action>:<resource>` otherwise. */
export function decisionName(action: BatonAction, resource: AuthorizationRequest['resource']): string {
  return action === 'InvokeTool' && resource.kind === 'tool'
    ? resource.name
    : `${action}:${describeResource(resource)}`;
}

/**
 * A decision as a journal event of op `op`, written under the chain that asked: `tool.authorized`
 * for InvokeTool, `access.decided` otherwise. `extra` adds the grant a delegation gave its callee
 * and the tool call that asked.
 */
export function decisionEvent(
  op: number,
  chain: IdentityChain,
  decision: AccessDecision,
  name: string,
  extra: { delegated?: GrantRecord; callId?: string } = {},
): EventDraft<'tool.authorized'> | EventDraft<'access.decided'> {
  const payload = {
    op,
    name,
    action: decision.action,
    resource: decision.resource,
    decision: decision.decision,
    reason: decision.reason,
    policies: decision.policies,
    errors: decision.errors,
    grantAction: decision.grantAction,
    ...(decision.grantId === undefined ? {} : { grantId: decision.grantId }),
    ...(extra.delegated === undefined
      ? {}
      : { delegated: { ...extra.delegated, actions: [...extra.delegated.actions] } }),
    ...(extra.callId === undefined ? {} : { callId: extra.callId }),
  };
  const identity = { actor: chain.actor, onBehalfOf: [...chain.onBehalfOf] };
  return decision.action === 'InvokeTool'
    ? { type: 'tool.authorized', payload, ...identity }
    : { type: 'access.decided', payload, ...identity };
}
