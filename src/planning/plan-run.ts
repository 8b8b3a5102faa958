import { delegate } from '../access/delegate.ts';
import { grantOf } from '../access/run-grant.ts';
import { isAgentDefinition } from '../agents/agent.ts';
import { runAgent } from '../agents/run-agent.ts';
import type { WorkflowContext } from '../engine/context.ts';
import { BatonError, InvalidArgumentError } from '../errors.ts';
import type { PlanTaskRecord } from '../journal/events.ts';
import { graph } from '../patterns/graph.ts';
import { GraphFailedError } from '../patterns/pattern-errors.ts';
import { recordedEvent, reserveOperation } from '../patterns/runnable.ts';
import type { Plan, PlanRequest, PlanResult } from './plan-types.ts';
import { approve } from './plan-approval.ts';
import { decide, plannerName, type Completed, type Decided } from './plan-decide.ts';
import { PlanRevisionsExhaustedError } from './plan-errors.ts';

/**
 * Plans a goal and runs the plan, durably.
 *
 * Journal: `plan.started` (goal, planner); per proposal the planner's own ops (its agent loop, or a
 * step `plan:<name>/propose`) then `plan.rejected` (the problems, given back to the planner) or
 * `plan.decided` (the checked graph: tasks routed, grant actions, levels, kept tasks, the revision
 * it replaces and why); an approval when configured; the graph run `<name>.r<revision>` (every
 * task's start, end or failure); finally `plan.completed` or `plan.failed`.
 *
 * Failure: a task that fails (an error, a guardrail block, an access denial) fails the graph once
 * the tasks running beside it are done; the planner is asked again with what completed and why it
 * failed, and tasks completed before are kept, not run again. After `maxRevisions` re-plans the run
 * fails with PlanRevisionsExhaustedError; after `maxAttempts` rejected proposals, PlanInvalidError.
 *
 * Crash and replay: proposals, checks and routing are journaled, so a resumed run takes the same
 * plan without asking the planner or the capability index again; completed tasks answer from the
 * journal and only the tasks in flight run again.
 */
export async function runPlan<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  goal: string,
): Promise<PlanResult> {
  if (typeof goal !== 'string' || goal.trim() === '')
    throw new InvalidArgumentError(`Plan '${definition.name}' needs a goal: a non-empty string.`);
  const { name, options } = definition;
  const planner = plannerName(options.planner);
  const op = await reserveOperation(ctx, `plan:${name}`);
  if (!recordedEvent(op, 'plan.started'))
    op.buffer({
      type: 'plan.started',
      payload: { op: op.op, name, goal, planner, maxRevisions: options.maxRevisions },
    });

  const fail = async (revision: number, error: BatonError): Promise<never> => {
    if (!recordedEvent(op, 'plan.failed', 'plan.completed'))
      await op.append([
        {
          type: 'plan.failed',
          payload: { op: op.op, name, revision, code: error.code, reason: error.message },
        },
      ]);
    throw error;
  };

  const completed: Completed = new Map();
  let previous: { decided: Decided; failure: NonNullable<PlanRequest['failure']> } | undefined;
  for (let revision = 0; ; revision++) {
    let decided = await decide(definition, ctx, goal, revision, completed, previous, fail);
    decided = await approve(definition, ctx, decided, completed, fail);
    try {
      await execute(definition, ctx, goal, decided, completed);
    } catch (error) {
      if (!GraphFailedError.isInstance(error)) throw error;
      const [task, serialized] = Object.entries(error.failures)[0]!;
      if (revision >= options.maxRevisions)
        return fail(
          revision,
          new PlanRevisionsExhaustedError({
            plan: name,
            revisions: revision,
            task,
            message: serialized.message,
            cause: error,
          }),
        );
      previous = {
        decided,
        failure: { task, message: serialized.message, ...(serialized.code ? { code: serialized.code } : {}) },
      };
      continue;
    }
    const outputs = Object.fromEntries([...completed].map(([id, done]) => [id, done.output]));
    if (!recordedEvent(op, 'plan.completed', 'plan.failed'))
      await op.append([
        {
          type: 'plan.completed',
          payload: { op: op.op, name, revisions: revision, completed: [...completed.keys()] },
        },
      ]);
    return {
      outputs,
      revision,
      tasks: decided.tasks.map((task) => ({ id: task.id, assigned: task.assigned, deps: task.deps })),
    };
  }
}

/** Runs the decided plan as a graph: tasks kept from earlier revisions do not run; their outputs are passed on. */
async function execute<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  goal: string,
  decided: Decided,
  completed: Completed,
): Promise<void> {
  if (decided.tasks.length === 0) return;
  const kept = new Set(decided.kept);
  const decidedAt = Date.parse(decided.at);
  const tasks = graph<undefined, Context>(`${definition.name}.r${decided.revision}`, {
    nodes: decided.tasks.map((task) => ({
      id: task.id,
      deps: task.deps.filter((dep) => !kept.has(dep)),
      description: task.description,
      run: async (taskCtx: Context, inputs: Record<string, unknown>) => {
        const given: Record<string, unknown> = {};
        for (const dep of task.deps) given[dep] = kept.has(dep) ? completed.get(dep)?.output : inputs[dep];
        const output = await runTask(definition, taskCtx, task, goal, given, decidedAt);
        completed.set(task.id, { description: task.description, output });
        return output;
      },
    })),
  });
  await tasks.run(ctx, undefined);
}

/** Runs one task on its worker, under the run's grant narrowed to the task. */
async function runTask<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  task: PlanTaskRecord,
  goal: string,
  inputs: Record<string, unknown>,
  decidedAt: number,
): Promise<unknown> {
  const worker = definition.options.workers[task.assigned]!;
  const runGrant = grantOf(ctx);
  const grant = runGrant
    ? delegate(
        runGrant,
        { actions: task.actions, holder: `task:${definition.name}/${task.id}` },
        { strict: false, now: decidedAt },
      )
    : undefined;
  if (isAgentDefinition(worker)) {
    const context = { goal, inputs };
    const result = await runAgent(ctx, worker, { task: task.description, context }, grant ? { grant } : {});
    return result.output;
  }
  return worker.run(ctx, {
    id: task.id,
    task: task.description,
    goal,
    inputs,
    grant,
  });
}
