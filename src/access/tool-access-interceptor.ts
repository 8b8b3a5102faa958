import type {
  InterceptorContext,
  ToolCallInfo,
  ToolCallInterceptor,
  ToolVerdict,
} from '../agents/interceptors.ts';
import type { EventDraft } from '../journal/events.ts';
import type { AccessDecision } from './access-request.ts';
import type { Grant } from './grant.ts';
import { identityChain } from './identity-chain.ts';
import type { PolicyEngine } from './policy-engine.ts';

export interface ToolAccessOptions {
  /**
   * The grant the calling identity holds (the run's root grant narrowed by delegation), or
   * undefined for none (Cedar alone decides). Must be deterministic for a given call.
   */
  grantFor?: (call: ToolCallInfo, context: InterceptorContext) => Grant | undefined;
  /** The clock for grant expiry. Default Date.now(). */
  clock?: () => number;
}

/**
 * Authorizes every tool call an agent makes, before it runs, as the agents layer's first tool
 * interceptor: the call's actor and chain, its tool (name, effect, arguments) and the actor's grant
 * go to the policy engine; the decision is journaled with the call's intent as a `tool.verdict` and
 * a `tool.authorized` event (actor, chain, grant, decision, determining policies, errors). A denied
 * call goes back to the model as a refusal and does not run; on replay the journaled verdict stands.
 *
 * @example
 * Baton.open({ agents: { interceptors: { tools: [toolAccessInterceptor(policies, { grantFor })] } } });
 */
export function toolAccessInterceptor(
  policies: PolicyEngine,
  options: ToolAccessOptions = {},
): ToolCallInterceptor {
  const clock = options.clock ?? Date.now;
  return {
    name: 'access',
    before(call: ToolCallInfo, context: InterceptorContext): ToolVerdict {
      const chain = identityChain(context.tenant, call.actor, call.onBehalfOf);
      const grant = options.grantFor?.(call, context);
      const decision = policies.authorize({
        chain,
        action: 'InvokeTool',
        resource: { kind: 'tool', name: call.tool.name, effect: call.tool.effect, args: call.args },
        ...(grant ? { grant } : {}),
        now: clock(),
      });
      const event: EventDraft<'tool.authorized'> = {
        type: 'tool.authorized',
        payload: {
          op: call.op,
          name: call.tool.name,
          action: decision.action,
          resource: decision.resource,
          decision: decision.decision,
          reason: decision.reason,
          policies: decision.policies,
          errors: decision.errors,
          grantAction: decision.grantAction,
          ...(decision.grantId === undefined ? {} : { grantId: decision.grantId }),
        },
        actor: chain.actor,
        onBehalfOf: [...chain.onBehalfOf],
      };
      const data = {
        policies: decision.policies,
        ...(decision.grantId === undefined ? {} : { grantId: decision.grantId }),
        ...(decision.errors.length ? { errors: decision.errors } : {}),
      };
      return decision.decision === 'allow'
        ? { type: 'allow', reason: explain(decision), data, events: [event] }
        : { type: 'deny', reason: explain(decision), data, events: [event] };
    },
  };
}

/** `policy support-agents-read`, `outside grant grant_…`, `default deny (no policy permits it)` */
export function explain(decision: AccessDecision): string {
  switch (decision.reason) {
    case 'policy':
      return `${decision.decision === 'allow' ? 'permitted' : 'forbidden'} by policy ${decision.policies.join(', ')}`;
    case 'default deny':
      return 'no policy permits it (default deny)';
    case 'outside grant':
      return `${decision.grantAction} is outside grant ${decision.grantId ?? '(none)'}`;
    case 'grant expired':
      return `grant ${decision.grantId ?? ''} has expired`;
    case 'other tenant':
      return `it belongs to another tenant`;
    case 'evaluation error':
      return `the request could not be evaluated: ${decision.errors.join('; ')}`;
  }
}
