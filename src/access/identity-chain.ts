import type { WorkflowContext } from '../engine/context.ts';
import { parsePrincipal } from './principal.ts';

/**
 * Who acts and for whom: `agent:writer` for `agent:planner` for `user:alice`. The journal keeps the
 * same two fields on every event (`actor`, `onBehalfOf`), so a chain reads back from any event.
 */
export interface IdentityChain {
  readonly tenant: string;
  /** The identity performing the action. */
  readonly actor: string;
  /** The identities it acts for, nearest first; the last is the principal that started the work. */
  readonly onBehalfOf: readonly string[];
}

/**
 * Builds a chain, checking every identity in it (UnknownPrincipalError otherwise).
 *
 * @example identityChain('acme', 'agent:writer', ['agent:planner', 'user:alice'])
 */
export function identityChain(
  tenant: string,
  actor: string,
  onBehalfOf: readonly string[] = [],
): IdentityChain {
  parsePrincipal(actor, tenant);
  for (const identity of onBehalfOf) parsePrincipal(identity, tenant);
  return Object.freeze({ tenant, actor, onBehalfOf: Object.freeze([...onBehalfOf]) });
}

/** The chain a workflow's own ctx calls run under: `workflow:<name>` for the run's principal. */
export function chainOf(ctx: Pick<WorkflowContext, 'tenant' | 'identity'>): IdentityChain {
  return identityChain(ctx.tenant, ctx.identity.actor, ctx.identity.onBehalfOf);
}

/**
 * The chain after `chain.actor` delegates to `actor` (a sub-agent, a handoff target, a child run):
 * the new actor acts for the old one and everyone it acted for.
 *
 * @example actingFor(identityChain('acme', 'agent:planner', ['user:alice']), 'agent:writer')
 *   // agent:writer for agent:planner for user:alice
 */
export function actingFor(chain: IdentityChain, actor: string): IdentityChain {
  return identityChain(chain.tenant, actor, [chain.actor, ...chain.onBehalfOf]);
}

/** The principal at the root of the chain (who started the work). */
export function chainRoot(chain: IdentityChain): string {
  return chain.onBehalfOf[chain.onBehalfOf.length - 1] ?? chain.actor;
}

/** How many delegations deep the actor is (0 for a principal acting for itself). */
export function chainDepth(chain: IdentityChain): number {
  return chain.onBehalfOf.length;
}

/** `agent:writer for agent:planner for user:alice` */
export function describeChain(chain: Pick<IdentityChain, 'actor' | 'onBehalfOf'>): string {
  return [chain.actor, ...chain.onBehalfOf].join(' for ');
}
