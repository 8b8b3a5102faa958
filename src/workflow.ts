// `workflow()`, with the context every layer makes (src/context-layers.ts composes the layers). It
// imports the layers' types only, so a program that defines workflows loads none of them.
import type { AccessContext } from './access/access-layer.ts';
import type { AgentsContext } from './agents/agents-layer.ts';
import type { WorkflowContext } from './engine/context.ts';
import { defineWorkflow, type WorkflowDefinition, type WorkflowOptions } from './engine/workflow.ts';
import type { GuardContext } from './guard/guard-layer.ts';
import type { RoutingContext } from './routing/routing-context.ts';

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
