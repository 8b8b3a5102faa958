// The one list of context layers: the layers above the engine, composed in one place. The worker's
// executor and replay apply it to every run's context (a fork's run goes through the worker).
import { accessLayer, type AccessContext } from './access/access-layer.ts';
import type { AccessControl } from './access/access-control.ts';
import { agentsLayer, type AgentsContext } from './agents/agents-layer.ts';
import type { AgentRuntime } from './agents/runtime.ts';
import { toolAccessInterceptor } from './agents/tool-access-interceptor.ts';
import type { WorkflowContext } from './engine/context.ts';
import { ContextLayers, type ContextLayer } from './engine/context-layer.ts';
import { defineWorkflow, type WorkflowDefinition, type WorkflowOptions } from './engine/workflow.ts';
import { guardLayer, type GuardContext } from './guard/guard-layer.ts';
import { routingLayer, type RoutingContext, type RoutingSetup } from './routing/routing-context.ts';

/**
 * The context every workflow gets: the engine's durable API (`ctx.step`, `sleep`, `waitFor`, …),
 * and what the layers above it add: `ctx.grant` and an authorized `ctx.child` (access),
 * `ctx.runAgent`, `ctx.run` and `ctx.agents` (agents), `ctx.approval` (guard), `ctx.route` and `ctx.memory` (routing).
 */
export interface AgentContext
  extends
    Omit<WorkflowContext, keyof AccessContext | keyof AgentsContext>,
    AccessContext,
    Omit<AgentsContext, keyof GuardContext>,
    GuardContext,
    RoutingContext {}

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

/**
 * Defines a durable workflow whose ctx has every layer (`ctx.runAgent`, `ctx.approval`, `ctx.route`…).
 * The engine's `workflow` with the whole context's type; see it for the rules of workflow code.
 *
 * @example
 * export const support = workflow('support', async (ctx, input: { ticket: string }) => {
 *   const facts = await ctx.step('load-account', () => loadAccount(input.ticket));
 *   return ctx.runAgent(billing, { task: input.ticket, context: facts });
 * });
 */
export function workflow<Input = unknown, Output = unknown>(
  name: string,
  fn: (ctx: AgentContext, input: Input) => Promise<Output>,
  options: WorkflowOptions = {},
): WorkflowDefinition<Input, Output, AgentContext> {
  return defineWorkflow<Input, Output, AgentContext>(name, fn, options);
}
