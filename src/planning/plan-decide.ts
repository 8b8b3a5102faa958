import { grantOf } from '../access/run-grant.ts';
import { runAgent } from '../agents/run-agent.ts';
import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { BatonError } from '../errors.ts';
import type { JournalEventPayloads } from '../journal/events.ts';
import { recordedEvent } from '../patterns/runnable.ts';
import type { Plan, PlanRequest } from './plan-types.ts';
import { checkPlan } from './plan-check.ts';
import { PlanInvalidError } from './plan-errors.ts';
import { router } from './plan-routing.ts';

/** A plan decision as journaled, with where and when it was written. */
export type Decided = JournalEventPayloads['plan.decided'] & { seq: number; at: string };
/** Tasks completed so far, across revisions, by id. */
export type Completed = Map<string, { description: string; output: unknown }>;

/** Planner failures that count as a rejected proposal (the planner is asked again), not a failed run. */
const PLANNER_ERRORS = new Set([
  'STRUCTURED_OUTPUT_INVALID',
  'MAX_TURNS_EXCEEDED',
  'STEP_FAILED',
  'GUARDRAIL_BLOCKED',
]);

/** Asks the planner until a proposal passes the checks, or `maxAttempts` are spent. */
export async function decide<Context extends WorkflowContext>(
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
export function check<Context extends WorkflowContext>(
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

export function plannerName(planner: Plan['options']['planner']): string {
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
