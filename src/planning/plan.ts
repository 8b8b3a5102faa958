import type { WorkflowContext } from '../engine/context.ts';
import { defineWorkflow, type WorkflowDefinition, type WorkflowOptions } from '../engine/workflow.ts';
import { InvalidArgumentError } from '../errors.ts';
import { resolveRankOptions } from '../routing/capability-registry.ts';
import { runPlan } from './plan-run.ts';
import type { CodeWorker, Plan, PlanOptions, PlanResult } from './plan-types.ts';

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

export {
  planSchema,
  type PlanTask,
  type PlanSpec,
  type TaskRequest,
  type CodeWorker,
  type PlanWorker,
  type PlanRequest,
  type Planner,
  type PlanOptions,
  type PlanResult,
  type Plan,
} from './plan-types.ts';

/**
 * Defines how goals become plans at run time: a planner (an agent with `output: planSchema`, or a
 * function) proposes a task graph; Baton checks it as data, journals it, routes each task to a
 * worker by capability or name under a grant narrowed to the task, runs it level by level in
 * parallel, and re-plans after a failure, keeping what completed.
 *
 * @example
 * const research = plan('research', {
 *   planner,                                   // agent({ …, output: planSchema })
 *   workers: { web: webAgent, stats: statsAgent, writer: writerAgent },
 *   routing: { costBias: 0.3 },
 *   maxRevisions: 2,
 * });
 * const flow = defineWorkflow('research', (ctx, input: { question: string }) => research.run(ctx, input.question));
 */
export function plan<Context extends WorkflowContext = WorkflowContext>(
  name: string,
  options: PlanOptions<Context>,
): Plan<Context> {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new InvalidArgumentError(
      `Plan name '${String(name)}' must be 1–100 characters of letters, digits, '_', '.', ':' or '-'.`,
    );
  if (typeof options?.planner !== 'function' && (options?.planner as { kind?: unknown })?.kind !== 'agent')
    throw new InvalidArgumentError(
      `Plan '${name}' needs a planner: an agent with output: planSchema, or a function.`,
    );
  const workers = options.workers;
  if (typeof workers !== 'object' || workers === null || Object.keys(workers).length === 0)
    throw new InvalidArgumentError(
      `Plan '${name}' needs at least one worker ({ name: agent or { description, run } }).`,
    );
  for (const [key, worker] of Object.entries(workers)) {
    if (!NAME.test(key))
      throw new InvalidArgumentError(`Plan '${name}': worker name '${key}' is not a valid name.`);
    const isAgent = (worker as { kind?: unknown }).kind === 'agent';
    if (!isAgent && typeof (worker as CodeWorker).run !== 'function')
      throw new InvalidArgumentError(
        `Plan '${name}': worker '${key}' is neither an agent nor { description, run }.`,
      );
    if (!isAgent && typeof (worker as CodeWorker).description !== 'string')
      throw new InvalidArgumentError(
        `Plan '${name}': worker '${key}' needs a description (routing reads it).`,
      );
  }
  const count = (value: number | undefined, fallback: number, what: string, min: number): number => {
    const resolved = value ?? fallback;
    if (!Number.isInteger(resolved) || resolved < min)
      throw new InvalidArgumentError(`Plan '${name}': ${what} must be a whole number of at least ${min}.`);
    return resolved;
  };
  const resolved = Object.freeze({
    ...options,
    maxTasks: count(options.maxTasks, 20, 'maxTasks', 1),
    maxAttempts: count(options.maxAttempts, 3, 'maxAttempts', 1),
    maxRevisions: count(options.maxRevisions, 2, 'maxRevisions', 0),
  });
  if (options.routing) {
    try {
      resolveRankOptions(options.routing, {}); // checks the options; the embedder is chosen at run time
    } catch (error) {
      throw new InvalidArgumentError(`Plan '${name}': ${(error as Error).message}`);
    }
  }
  if (resolved.approval && !['irreversible', 'always'].includes(resolved.approval.when))
    throw new InvalidArgumentError(`Plan '${name}': approval.when is 'irreversible' or 'always'.`);
  const defined: Plan<Context> = Object.freeze({
    kind: 'plan' as const,
    name,
    options: resolved,
    run: (ctx: Context, goal: string) => runPlan(defined, ctx, goal),
  });
  return defined;
}

/** A workflow whose input is `{ goal }` and whose body is this plan. */
export function planWorkflow<Context extends WorkflowContext = WorkflowContext>(
  defined: Plan<Context>,
  options: WorkflowOptions & { name?: string } = {},
): WorkflowDefinition<{ goal: string }, PlanResult, Context> {
  const { name, ...workflowOptions } = options;
  return defineWorkflow<{ goal: string }, PlanResult, Context>(
    name ?? defined.name,
    (ctx, input) => defined.run(ctx, input.goal),
    {
      ...(defined.options.description === undefined ? {} : { description: defined.options.description }),
      ...workflowOptions,
    },
  );
}
