import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError, NonDeterminismError } from '../errors.ts';
import type { JournalEvent, JournalEventType } from '../journal/events.ts';

/**
 * An agent as the patterns see it: anything `ctx.runAgent(agent, { task, context })` accepts. Agents
 * are defined in src/agents; the patterns only need to recognise one and hand it to `ctx.runAgent`.
 */
export interface AgentLike {
  readonly kind: 'agent';
  readonly name: string;
  readonly description?: string;
}

/**
 * One unit of work in a pattern: a function of the workflow context and an input (workflow code:
 * its ctx calls are journaled and replayed), or an agent, run with `ctx.runAgent(agent, { task, context })`.
 */
export type Runnable<Context extends WorkflowContext, Input, Output> =
  ((ctx: Context, input: Input) => Output | Promise<Output>) | AgentLike;

/** What an agent branch receives: a string input is its task; `{ task, context }` is passed as it is. */
export interface AgentRequest {
  task: string;
  context?: unknown;
}

export function isAgent(value: unknown): value is AgentLike {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'agent';
}

/** Runs a runnable: calls the function, or runs the agent through `ctx.runAgent`. */
export async function runRunnable<Context extends WorkflowContext, Input, Output>(
  ctx: Context,
  runnable: Runnable<Context, Input, Output>,
  input: Input,
): Promise<Output> {
  if (isAgent(runnable)) return (await runAgentBranch(ctx, runnable, agentRequest(input))) as Output;
  return runnable(ctx, input);
}

/** Runs an agent through the agents layer's `ctx.runAgent`, and returns its answer. */
export async function runAgentBranch(
  ctx: WorkflowContext,
  agent: AgentLike,
  request: AgentRequest,
): Promise<unknown> {
  const runAgent = (ctx as { runAgent?: unknown }).runAgent;
  if (typeof runAgent !== 'function') {
    throw new InvalidArgumentError(
      `Agent '${agent.name}' is used in a pattern, but this workflow's ctx has no runAgent(agent, …): ` +
        `open Baton with the agents layer so that ctx.runAgent is available.`,
    );
  }
  return runAgent.call(ctx, agent, request);
}

export function agentRequest(input: unknown): AgentRequest {
  if (typeof input === 'string') return { task: input };
  if (typeof input === 'object' && input !== null && typeof (input as { task?: unknown }).task === 'string') {
    const { task, context } = input as { task: string; context?: unknown };
    return context === undefined ? { task } : { task, context };
  }
  return { task: JSON.stringify(input ?? null), context: input };
}

/** A readable name for a runnable in journal events: the agent's name, the function's, or a fallback. */
export function runnableName(runnable: Runnable<any, any, any>, fallback: string): string {
  if (isAgent(runnable)) return runnable.name;
  return runnable.name && NAME.test(runnable.name) ? runnable.name : fallback;
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Pattern, branch and node names: they become part of journal events and op descriptions. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `${what} name '${String(name)}' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'.`,
    );
  }
  return name;
}

/**
 * Takes the next op now — at call time, so op numbers stay deterministic however long the pattern
 * runs — and returns its handle, through which the pattern journals its decisions later.
 */
export function reserveOperation(ctx: WorkflowContext, describe: string): Promise<OperationHandle> {
  return ctx.operations.run(describe, async (op) => op, { container: true });
}

/** The first recorded event of one of these types at this op, if the op ran before. */
export function recordedEvent<T extends JournalEventType>(
  op: OperationHandle,
  ...types: T[]
): JournalEvent<T> | undefined {
  return op.recorded.find((event): event is JournalEvent<T> => (types as string[]).includes(event.type));
}

/**
 * The replayed code reached a different outcome than the one journaled (for example a branch that
 * completed in the history now fails): the code is no longer deterministic.
 */
export function outcomeDiverged(
  ctx: WorkflowContext,
  event: JournalEvent,
  expected: string,
  actual: string,
): NonDeterminismError {
  return new NonDeterminismError({ runId: ctx.runId, seq: event.seq, expected, actual });
}

export function isNonDeterminism(error: unknown): boolean {
  return NonDeterminismError.isInstance(error);
}
