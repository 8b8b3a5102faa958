import type { WorkflowContext } from '../engine/context.ts';
import type { RoutingContext } from '../routing/routing-context.ts';
import {
  workflow as engineWorkflow,
  type WorkflowDefinition,
  type WorkflowOptions,
} from '../engine/workflow.ts';
import type { AgentDefinition } from './agent.ts';
import { runAgent, type AgentInput, type RunAgentOptions } from './run-agent.ts';
import type { AgentRuntime } from './runtime.ts';

/**
 * The context every workflow gets: the engine's durable API, `run` for agents, and `route` and
 * `memory` (capability routing and long-term memory, set up by `Baton.open({ routing, agents: { memory } })`).
 */
export interface AgentContext extends WorkflowContext, RoutingContext {
  /**
   * Runs an agent's loop (reason → act → observe), journaled turn by turn, and returns its final
   * answer: text, or the parsed structured output of an agent with an `output` schema. See
   * {@link runAgent} for failure semantics and the full result (usage, cost, turns).
   *
   * @example const answer = await ctx.run(billing, { task: input.ticket, context: facts });
   */
  run<Output>(agent: AgentDefinition<Output>, input: AgentInput, options?: RunAgentOptions): Promise<Output>;
}

/**
 * Defines a durable workflow whose ctx can run agents (`ctx.run`). The engine's `workflow` with the
 * agents layer's context type; see it for the rules of workflow code.
 *
 * @example
 * export const support = workflow('support', async (ctx, input: { ticket: string }) => {
 *   const facts = await ctx.step('load-account', () => loadAccount(input.ticket));
 *   return ctx.run(billing, { task: input.ticket, context: facts });
 * });
 */
export function workflow<Input = unknown, Output = unknown>(
  name: string,
  fn: (ctx: AgentContext, input: Input) => Promise<Output>,
  options: WorkflowOptions = {},
): WorkflowDefinition<Input, Output, AgentContext> {
  return engineWorkflow<Input, Output, AgentContext>(name, fn, options);
}

/** Gives a run's ctx the agents layer: `ctx.run`, and the runtime `runAgent(ctx, …)` uses. */
export function withAgents<C extends WorkflowContext>(ctx: C, runtime: AgentRuntime): C & AgentContext {
  runtime.attach(ctx);
  const run: AgentContext['run'] = (agent, input, options) =>
    runAgent(ctx, agent, input, options).then((result) => result.output);
  Object.defineProperty(ctx, 'run', { value: run, configurable: true });
  return ctx as C & AgentContext;
}
