import type { StepInfo, StepOptions, WorkflowContext } from '../engine/context.ts';
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
   * @example const answer = await ctx.runAgent(billing, { task: input.ticket, context: facts });
   */
  runAgent<Output>(
    agent: AgentDefinition<Output>,
    input: AgentInput,
    options?: RunAgentOptions,
  ): Promise<Output>;
  /**
   * A durable step, as `ctx.step` (the engine's `ctx.run`): its result is journaled and, after a
   * crash, returned instead of running `fn` again.
   *
   * @example const user = await ctx.run('load-user', () => db.users.find(id));
   */
  run<T>(name: string, fn: (info: StepInfo) => T | Promise<T>, options?: StepOptions): Promise<T>;
  /**
   * Runs an agent.
   *
   * @deprecated Use `ctx.runAgent(agent, input, options)`: `ctx.run(name, fn)` is a durable step.
   * This form (an agent as the first argument) keeps working, with the same journal.
   */
  run<Output>(agent: AgentDefinition<Output>, input: AgentInput, options?: RunAgentOptions): Promise<Output>;
  /**
   * The agents layer of this activation: the runtime (interceptors, models, prices, secrets) that
   * `runAgent(ctx, …)` and `callTool(ctx, …)` run under, and the conversations journaled so far.
   */
  readonly agents: AgentsActivation;
}

/**
 * `ctx.run` of a context with agents: a durable step when the first argument is a step's name, and
 * (deprecated) an agent's run otherwise.
 */
export function runStepOrAgent(
  step: WorkflowContext['run'],
  agent: AgentsContext['runAgent'],
): AgentsContext['run'] {
  function run<T>(name: string, fn: (info: StepInfo) => T | Promise<T>, options?: StepOptions): Promise<T>;
  function run<Output>(
    definition: AgentDefinition<Output>,
    input: AgentInput,
    options?: RunAgentOptions,
  ): Promise<Output>;
  function run(
    first: string | AgentDefinition<unknown>,
    second: ((info: StepInfo) => unknown) | AgentInput,
    options?: StepOptions | RunAgentOptions,
  ): Promise<unknown> {
    if (typeof first === 'string') {
      return step(first, second as (info: StepInfo) => unknown, options as StepOptions | undefined);
    }
    return agent(first, second as AgentInput, options as RunAgentOptions | undefined);
  }
  return run;
}

/**
 * The agents layer: `ctx.runAgent`, `ctx.run` (a durable step; the deprecated agent form too), and
 * `ctx.agents` for `runAgent(ctx, …)` and `callTool(ctx, …)`.
 */
export function agentsLayer(runtime: AgentRuntime): ContextLayer<WorkflowContext, AgentsContext> {
  return {
    name: 'agents',
    extend: (ctx) => {
      const runOne: AgentsContext['runAgent'] = (agent, input, options) =>
        runAgent(ctx, agent, input, options).then((result) => result.output);
      return {
        agents: new AgentsActivation(runtime),
        runAgent: runOne,
        run: runStepOrAgent(ctx.run.bind(ctx), runOne),
      };
    },
  };
}
