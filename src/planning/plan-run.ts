import { delegate } from '../access/delegate.ts';
import { grantOf } from '../access/run-grant.ts';
import { isAgentDefinition } from '../agents/agent.ts';
import { runAgent } from '../agents/run-agent.ts';
import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { BatonError, InvalidArgumentError } from '../errors.ts';
import type { JournalEventPayloads, PlanTaskRecord } from '../journal/events.ts';
import { graph } from '../patterns/graph.ts';
import type { GraphFailedError } from '../patterns/pattern-errors.ts';
import { recordedEvent, reserveOperation } from '../patterns/runnable.ts';
import { capabilityOf } from '../routing/agent-capabilities.ts';
import { CapabilityRegistry } from '../routing/capability-registry.ts';
import { LexicalEmbedder } from '../routing/lexical-embedder.ts';
import type { CodeWorker, Plan, PlanRequest, PlanResult } from './plan.ts';
import { checkPlan } from './plan-check.ts';
import { PlanInvalidError, PlanNotApprovedError, PlanRevisionsExhaustedError } from './plan-errors.ts';

type Decided = JournalEventPayloads['plan.decided'] & { seq: number; at: string };
type Completed = Map<string, { description: string; output: unknown }>;

/** Planner failures that count as a rejected proposal (the planner is asked again), not a failed run. */
const PLANNER_ERRORS = new Set([
  'STRUCTURED_OUTPUT_INVALID',
  'MAX_TURNS_EXCEEDED',
  'STEP_FAILED',
  'GUARDRAIL_BLOCKED',
]);

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
      if (!(BatonError.isInstance(error) && error.code === 'GRAPH_FAILED')) throw error;
      const [task, serialized] = Object.entries((error as GraphFailedError).failures)[0]!;
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

/** Asks the planner until a proposal passes the checks, or `maxAttempts` are spent. */
async function decide<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  goal: string,
  revision: number,
  completed: Completed,
  previous: { decided: Decided; failure: NonNullable<PlanRequest['failure']> } | undefined,
  fail: (revision: number, error: BatonError) => Promise<never>,
): Promise<Decided> {
  const { options } = definition;
  let problems: string[] = [];
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const request: PlanRequest = {
      goal,
      revision,
      attempt,
      workers: Object.entries(options.workers).map(([name, worker]) => ({
        name,
        description: worker.description,
      })),
      maxTasks: options.maxTasks,
      problems,
      completed: [...completed].map(([id, done]) => ({
        id,
        description: done.description,
        output: done.output,
      })),
      ...(previous
        ? {
            failure: previous.failure,
            previous: {
              tasks: previous.decided.tasks.map((task) => ({
                id: task.id,
                description: task.description,
                deps: task.deps,
                ...(task.worker ? { worker: task.worker } : { capability: task.capability! }),
              })),
            },
          }
        : {}),
    };
    let proposal: unknown;
    let plannerError: string | undefined;
    try {
      proposal = await propose(definition, ctx, request);
    } catch (error) {
      if (!(BatonError.isInstance(error) && PLANNER_ERRORS.has(error.code))) throw error;
      plannerError = error.message;
    }
    const verdict = await check(definition, ctx, {
      goal,
      revision,
      attempt,
      planner: plannerName(options.planner),
      proposal,
      plannerError,
      completed,
      ...(previous
        ? {
            replaces: {
              revision: previous.decided.revision,
              seq: previous.decided.seq,
              reason: `task '${previous.failure.task}' failed: ${previous.failure.message}`,
            },
          }
        : {}),
    });
    if (verdict.ok) return verdict.decided;
    problems = verdict.problems;
  }
  return fail(
    revision,
    new PlanInvalidError({ plan: definition.name, attempts: options.maxAttempts, problems }),
  );
}

/** One proposal: the planner agent's answer, or the planner function's result as a journaled step. */
async function propose<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  request: PlanRequest,
): Promise<unknown> {
  const planner = definition.options.planner;
  if (typeof planner === 'function')
    return ctx.step(`plan:${definition.name}/propose`, () => planner(request), { retry: { maxAttempts: 1 } });
  const result = await runAgent(ctx, planner, { task: plannerTask(request), context: request });
  return result.output;
}

/** The check of one proposal, as an op: journaled `plan.decided` or `plan.rejected`, replayed as journaled. */
function check<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  args: {
    goal: string;
    revision: number;
    attempt: number;
    planner: string;
    proposal: unknown;
    plannerError: string | undefined;
    completed: Completed;
    replaces?: { revision: number; seq: number; reason: string };
    editedBy?: string;
  },
): Promise<{ ok: true; decided: Decided } | { ok: false; problems: string[] }> {
  const { name, options } = definition;
  return ctx.operations.run(`plan:${name}`, async (op: OperationHandle) => {
    const decided = recordedEvent(op, 'plan.decided');
    if (decided) return { ok: true, decided: { ...decided.payload, seq: decided.seq, at: decided.at } };
    const rejected = recordedEvent(op, 'plan.rejected');
    if (rejected) return { ok: false, problems: rejected.payload.problems };

    const base = { op: op.op, name, revision: args.revision, attempt: args.attempt, planner: args.planner };
    const grant = grantOf(ctx);
    const verdict = args.plannerError
      ? { ok: false as const, problems: [`the planner gave no plan: ${args.plannerError}`] }
      : await op.active(async () =>
          checkPlan(args.proposal, {
            workers: options.workers,
            maxTasks: options.maxTasks,
            grant,
            now: op.now(),
            completed: new Set(args.completed.keys()),
            route: await router(definition),
          }),
        );
    if (!verdict.ok) {
      await op.append([
        {
          type: 'plan.rejected',
          payload: {
            ...base,
            problems: verdict.problems,
            ...(args.proposal === undefined ? {} : { proposal: clip(args.proposal) }),
          },
        },
      ]);
      return { ok: false, problems: verdict.problems };
    }
    const payload: JournalEventPayloads['plan.decided'] = {
      ...base,
      goal: args.goal,
      tasks: verdict.tasks,
      levels: verdict.levels,
      kept: verdict.kept,
      ...(args.replaces ? { replaces: args.replaces } : {}),
      ...(args.editedBy ? { editedBy: args.editedBy } : {}),
    };
    const [written] = await op.append([{ type: 'plan.decided', payload }]);
    return { ok: true, decided: { ...payload, seq: written!.seq, at: written!.at } };
  });
}

/** Asks a person to approve the plan when configured; an edited plan is checked again and journaled. */
async function approve<Context extends WorkflowContext>(
  definition: Plan<Context>,
  ctx: Context,
  decided: Decided,
  completed: Completed,
  fail: (revision: number, error: BatonError) => Promise<never>,
): Promise<Decided> {
  const approval = definition.options.approval;
  if (!approval) return decided;
  const irreversible = decided.tasks.filter((task) => task.irreversible).map((task) => task.id);
  if (approval.when === 'irreversible' && irreversible.length === 0) return decided;
  const ask = (ctx as { approval?: unknown }).approval;
  if (typeof ask !== 'function')
    throw new InvalidArgumentError(
      `Plan '${definition.name}' asks for approval, but this workflow's ctx has no approval(…): open Baton with the guard layer.`,
    );
  const answer = (await ask.call(ctx, {
    action: `plan:${definition.name}`,
    summary:
      `Plan for "${clipText(decided.goal, 120)}": ${decided.tasks.length} task(s) in ${decided.levels.length} level(s)` +
      (irreversible.length > 0 ? `; irreversible: ${irreversible.join(', ')}` : '') +
      '. Approve it, approve it edited ({ tasks }), or deny it.',
    data: {
      goal: decided.goal,
      revision: decided.revision,
      tasks: decided.tasks,
      levels: decided.levels,
      kept: decided.kept,
    },
    ...(approval.approvers ? { approvers: approval.approvers } : {}),
    ...(approval.timeout === undefined ? {} : { timeout: approval.timeout }),
  })) as { approved: boolean; by: string; comment?: string; args?: unknown };
  if (!answer.approved)
    return fail(
      decided.revision,
      new PlanNotApprovedError({
        plan: definition.name,
        by: answer.by,
        ...(answer.comment ? { comment: answer.comment } : {}),
      }),
    );
  if (answer.args === undefined) return decided;
  const edited = await check(definition, ctx, {
    goal: decided.goal,
    revision: decided.revision,
    attempt: decided.attempt + 1,
    planner: answer.by,
    proposal: answer.args,
    plannerError: undefined,
    completed,
    ...(decided.replaces ? { replaces: decided.replaces } : {}),
    editedBy: answer.by,
  });
  if (!edited.ok)
    return fail(
      decided.revision,
      new PlanInvalidError({ plan: definition.name, attempts: 1, problems: edited.problems }),
    );
  return edited.decided;
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

const registries = new WeakMap<object, Promise<CapabilityRegistry>>();

/** Routes a capability among the plan's workers through the capability index, with the plan's cost bias. */
async function router<Context extends WorkflowContext>(definition: Plan<Context>) {
  const { workers, routing } = definition.options;
  let opened = definition.options.registry
    ? Promise.resolve(definition.options.registry)
    : registries.get(definition);
  if (!opened) {
    const capabilities = Object.entries(workers).map(([name, worker]) =>
      isAgentDefinition(worker)
        ? { ...capabilityOf(worker), name }
        : { name, description: worker.description, cost: (worker as CodeWorker).cost ?? 1, kind: 'code' },
    );
    opened = CapabilityRegistry.open({
      embedder: new LexicalEmbedder().fit(capabilities.map((capability) => capability.description)),
      capabilities,
    });
    registries.set(definition, opened);
  }
  const registry = await opened;
  const candidates = Object.keys(workers).filter((name) => registry.has(name));
  return async (capability: string) => {
    if (candidates.length === 0)
      return { candidates: [], reason: 'no worker of this plan is in the capability index' };
    const ranking = await registry.rank(capability, {
      k: Math.min(3, candidates.length),
      candidates,
      ...(routing?.costBias === undefined ? {} : { costBias: routing.costBias }),
      ...(routing?.minScore === undefined ? {} : { minScore: routing.minScore }),
    });
    return {
      ...(ranking.chosen ? { chosen: ranking.chosen.name } : {}),
      candidates: ranking.candidates.map(({ name, similarity, cost, score, eligible }) => ({
        name,
        similarity,
        cost,
        score,
        eligible,
      })),
      reason: ranking.reason,
    };
  };
}

function plannerName(planner: Plan['options']['planner']): string {
  if (typeof planner === 'function') return `code:${planner.name || 'planner'}`;
  return `agent:${planner.name}`;
}

function plannerTask(request: PlanRequest): string {
  const lines = [
    `Plan how to reach this goal: ${request.goal}`,
    `Answer with a plan: { tasks: [{ id, description, deps, worker or capability, tools? }] }, at most ${request.maxTasks} tasks.`,
    'Tasks with no dependency between them run at the same time; a task receives the outputs of its deps.',
    `Workers: ${request.workers.map((worker) => `${worker.name} (${worker.description})`).join('; ')}.`,
  ];
  if (request.completed.length > 0)
    lines.push(
      `Already done (depend on them by id, do not plan them again): ${request.completed.map((task) => task.id).join(', ')}.`,
    );
  if (request.failure)
    lines.push(
      `The previous plan stopped: task '${request.failure.task}' failed: ${request.failure.message}. Plan around it.`,
    );
  if (request.problems.length > 0)
    lines.push(`Your previous answer was rejected. Fix these problems:\n- ${request.problems.join('\n- ')}`);
  return lines.join('\n');
}

function clip(value: unknown): unknown {
  const text = JSON.stringify(value ?? null);
  return text.length <= 4000 ? value : `${text.slice(0, 3997)}…`;
}

function clipText(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
