import { BatonError } from '../errors.ts';

/** The planner kept proposing plans that fail the checks; nothing of them ran. */
export class PlanInvalidError extends BatonError {
  readonly plan: string;
  readonly problems: readonly string[];
  constructor(args: { plan: string; attempts: number; problems: readonly string[] }) {
    const list = args.problems.map((problem) => `\n  - ${problem}`).join('');
    super(
      'PLAN_INVALID',
      `Plan '${args.plan}': the planner proposed ${args.attempts} plan(s) and none passed the checks; ` +
        `nothing of them ran. The last one's problems:${list}\nGive the planner clearer instructions, ` +
        `more workers, a wider grant, or more attempts (maxAttempts).`,
    );
    this.plan = args.plan;
    this.problems = args.problems;
  }
}

/** A plan failed again after its last allowed revision. */
export class PlanRevisionsExhaustedError extends BatonError {
  readonly plan: string;
  constructor(args: { plan: string; revisions: number; task: string; message: string; cause?: unknown }) {
    super(
      'PLAN_REVISIONS_EXHAUSTED',
      `Plan '${args.plan}' failed at task '${args.task}' (${args.message}) after ${args.revisions} ` +
        `revision(s), its limit (maxRevisions). Completed tasks stay in the journal; raise maxRevisions ` +
        `or fix the failing worker.`,
      { cause: args.cause },
    );
    this.plan = args.plan;
  }
}

/** The person asked to approve a plan denied it. */
export class PlanNotApprovedError extends BatonError {
  readonly plan: string;
  constructor(args: { plan: string; by: string; comment?: string }) {
    super(
      'PLAN_NOT_APPROVED',
      `Plan '${args.plan}' was not approved by ${args.by}${args.comment ? `: ${args.comment}` : ''}; none of its tasks ran.`,
    );
    this.plan = args.plan;
  }
}
