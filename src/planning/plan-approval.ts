import type { WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError, type BatonError } from '../errors.ts';
import type { Plan } from './plan-types.ts';
import { check, type Completed, type Decided } from './plan-decide.ts';
import { PlanInvalidError, PlanNotApprovedError } from './plan-errors.ts';

/** Asks a person to approve the plan when configured; an edited plan is checked again and journaled. */
export async function approve<Context extends WorkflowContext>(
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

function clipText(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
