import type { InterceptorContext, ToolCallInfo, ToolCallInterceptor, ToolVerdict } from './interceptors.ts';
import type { Authorizer } from '../access/access-request.ts';
import { decisionEvent } from '../access/authorize-durably.ts';
import { GRANT_AUTHORIZER } from '../access/grant-authorizer.ts';
import type { Grant } from '../access/grant.ts';
import { explainDecision } from '../access/explain-decision.ts';
import { identityChain } from '../access/identity-chain.ts';

export interface ToolAccessOptions {
  /**
   * Overrides the grant a call is authorized under. By default it is the grant the calling identity
   * holds (`call.grant`: the run's grant narrowed as work was delegated to the calling agent).
   * Must be deterministic for a given call.
   */
  grantFor?: (call: ToolCallInfo, context: InterceptorContext) => Grant | undefined;
  /** The clock for grant expiry. Default Date.now(). */
  clock?: () => number;
}

/**
 * Authorizes every tool call, before it runs, as the agents layer's first tool interceptor: the
 * call's actor and chain, its tool (name, effect, arguments) and the actor's grant go to the
 * policies; the decision is journaled with the call's intent as a `tool.verdict` and a
 * `tool.authorized` event (actor, chain, grant, decision, determining policies, errors). A denied
 * call goes back to the model as a refusal and does not run; on replay the journaled verdict stands.
 *
 * With `policies` (a PolicyEngine), Cedar decides after the grant check: default deny. Without
 * (`undefined`), a call made under a grant is decided by the grant alone (reason `grant`), and a call
 * made under no grant is not looked at (no verdict: as if there were no interceptor). Baton installs
 * one for you when `policies` or grants are configured (`Baton.open({ policies })`).
 *
 * @example
 * Baton.open({ agents: { interceptors: { tools: [toolAccessInterceptor(policies)] } } });
 */
export function toolAccessInterceptor(
  policies: Authorizer | undefined,
  options: ToolAccessOptions = {},
): ToolCallInterceptor {
  const clock = options.clock ?? Date.now;
  return {
    name: 'access',
    before(call: ToolCallInfo, context: InterceptorContext): ToolVerdict | undefined {
      const grant = options.grantFor ? options.grantFor(call, context) : call.grant;
      if (!policies && !grant) return undefined;
      const chain = identityChain(context.tenant, call.actor, call.onBehalfOf);
      const decision = (policies ?? GRANT_AUTHORIZER).authorize({
        chain,
        action: 'InvokeTool',
        resource: { kind: 'tool', name: call.tool.name, effect: call.tool.effect, args: call.args },
        ...(grant ? { grant } : {}),
        now: clock(),
      });
      const event = decisionEvent(call.op, chain, decision, call.tool.name);
      const data = {
        policies: decision.policies,
        ...(decision.grantId === undefined ? {} : { grantId: decision.grantId }),
        ...(decision.errors.length ? { errors: decision.errors } : {}),
      };
      return decision.decision === 'allow'
        ? { type: 'allow', reason: explainDecision(decision), data, events: [event] }
        : { type: 'deny', reason: explainDecision(decision), data, events: [event] };
    },
  };
}
