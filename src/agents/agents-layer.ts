import type { WorkflowContext } from '../engine/context.ts';
import type { ContextLayer } from '../engine/context-layer.ts';
import type { AgentDefinition } from './agent.ts';
import { runAgent, type AgentInput, type RunAgentOptions } from './run-agent.ts';
import { AgentsActivation, type AgentRuntime } from './runtime.ts';

/** What the agents layer gives a workflow's ctx. */
export interface AgentsContext {
  /**
   * Runs an agent's loop (reason → act → observe), journaled turn by turn, and returns its final
   * answer: text, or the parsed structured output of an agent with an `output` schema. See
   * {@link runAgent} for failure semantics and the full result (usage, cost, turns).
   *
   * @example const answer = await ctx.run(billing, { task: input.ticket, context: facts });
   */
  run<Output>(agent: AgentDefinition<Output>, input: AgentInput, options?: RunAgentOptions): Promise<Output>;
  /**
   * The agents layer of this activation: the runtime (interceptors, models, prices, secrets) that
   * `runAgent(ctx, …)` and `callTool(ctx, …)` run under, and the conversations journaled so far.
   */
  readonly agents: AgentsActivation;
}

/** The agents layer: `ctx.run`, and `ctx.agents` for `runAgent(ctx, …)` and `callTool(ctx, …)`. */
export function agentsLayer(runtime: AgentRuntime): ContextLayer<WorkflowContext, AgentsContext> {
  return {
    name: 'agents',
    extend: (ctx) => ({
      agents: new AgentsActivation(runtime),
      run: (agent, input, options) => runAgent(ctx, agent, input, options).then((result) => result.output),
    }),
  };
}
