// The one list of context layers: the layers above the engine, composed in one place. The worker's
// executor and replay apply it to every run's context (a fork's run goes through the worker).
import { accessLayer } from './access/access-layer.ts';
import type { AccessControl } from './access/access-control.ts';
import { agentsLayer, type AgentsContext } from './agents/agents-layer.ts';
import type { AgentRuntime } from './agents/runtime.ts';
import { toolAccessInterceptor } from './agents/tool-access-interceptor.ts';
import type { WorkflowContext } from './engine/context.ts';
import { ContextLayers, type ContextLayer } from './engine/context-layer.ts';
import { guardLayer, type GuardContext } from './guard/guard-layer.ts';
import { routingLayer, type RoutingSetup } from './routing/routing-context.ts';
import type { AgentContext } from './workflow.ts';

// Defined beside `workflow()`, which a program may import without the layers.
export { workflow, type AgentContext } from './workflow.ts';

/** The parts the layers are made of: one Baton's, or a replay's outside any Baton. */
export interface ContextParts {
  access: AccessControl;
  agents: AgentRuntime;
  /** The guard's layer (`baton.guard.layer`); without it, approvals route to no groups. */
  guard?: ContextLayer<WorkflowContext & AgentsContext, GuardContext>;
  /** What `ctx.route` and `ctx.memory` use; without it, they say how to set them up. */
  routing?: RoutingSetup;
  /** Layers of the application's own, on top (`Baton.open({ layers })`). */
  extra?: readonly ContextLayer<AgentContext, object>[];
}

/**
 * The list, bottom first: access (`ctx.grant`, authorized `ctx.child`), agents (`ctx.runAgent`,
 * `ctx.agents`, under the access layer's grant), guard (`ctx.approval`, the guard's errors on
 * `ctx.runAgent`), routing (`ctx.route`, `ctx.memory`), then the application's own layers.
 */
export function contextLayers(parts: ContextParts): ContextLayers<AgentContext> {
  const layers: ContextLayers<AgentContext> = ContextLayers.engine()
    .with(accessLayer(parts.access))
    .with(agentsLayer(parts.agents))
    .with(parts.guard ?? guardLayer())
    .with(routingLayer(parts.routing ?? {}));
  return (parts.extra ?? []).reduce((list, layer) => list.with(layer), layers);
}

/**
 * Plugs access into the agents layer: the `access` tool interceptor first (unless one is there),
 * and the authorizer handoffs and agents called as tools are decided by.
 */
export function installAccess(runtime: AgentRuntime, access: AccessControl): void {
  if (!runtime.toolInterceptors.some((interceptor) => interceptor.name === 'access')) {
    runtime.intercept(
      { tools: [toolAccessInterceptor(access.policies, { clock: access.clock })] },
      { first: true },
    );
  }
  runtime.access = { policies: access.policies, maxDelegationDepth: access.maxDelegationDepth };
}
