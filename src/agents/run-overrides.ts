import type { WorkflowContext } from '../engine/context.ts';
import type { AgentDefinition } from './agent.ts';

/**
 * What a fork changed for agents (`baton.fork(runId, { overrides: { model, instructions } })`):
 * one value for every agent, or a value per agent name. Journaled in the fork's `run.forked` and
 * handed to the run's ctx by the engine (`ctx.operations.overrides`), so a fork that parks and
 * resumes on another worker keeps them. Only calls after the fork point see them: the turns before
 * it are answered from the journal.
 */
export interface AgentOverrides {
  /** A model id (`openai:gpt-4.1`, or a prefix registered with the agents layer's `providers`). */
  model?: string | Readonly<Record<string, string>>;
  /** The system prompt. */
  instructions?: string | Readonly<Record<string, string>>;
}

/** The model id and instructions the run's overrides set for this agent, if any. */
export function agentOverrides(
  ctx: WorkflowContext,
  agent: AgentDefinition<any>,
): { model?: string; instructions?: string } {
  const overrides = ctx.operations.overrides as AgentOverrides | undefined;
  const model = pick(overrides?.model, agent.name);
  const instructions = pick(overrides?.instructions, agent.name);
  return {
    ...(model === undefined ? {} : { model }),
    ...(instructions === undefined ? {} : { instructions }),
  };
}

function pick(
  value: string | Readonly<Record<string, string>> | undefined,
  agent: string,
): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return Object.hasOwn(value, agent) ? value[agent] : undefined;
}
