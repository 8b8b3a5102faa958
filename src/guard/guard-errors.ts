import { BatonError } from '../errors.ts';
import type { BudgetMetric, GuardStage } from '../journal/events.ts';

/**
 * A guardrail blocked a value: the run's input (at the door: nothing was written), an agent's task
 * or answer, or a tool call. Terminal; the verdict is journaled as `guard.verdict`. A guardrail
 * that threw blocks too (fail closed), and its error is journaled with the verdict.
 */
export class GuardrailBlockedError extends BatonError {
  readonly stage: GuardStage;
  readonly guardrail: string;
  readonly reason: string;
  constructor(args: {
    stage: GuardStage;
    guardrail: string;
    reason: string;
    target?: string;
    cause?: unknown;
  }) {
    const where = args.target === undefined ? args.stage : `${args.stage} of ${args.target}`;
    super('GUARDRAIL_BLOCKED', `Guardrail '${args.guardrail}' blocked the ${where}: ${args.reason}`, {
      ...(args.cause === undefined ? {} : { cause: args.cause }),
    });
    this.stage = args.stage;
    this.guardrail = args.guardrail;
    this.reason = args.reason;
  }
}

/** Where a budget applies. */
export type BudgetScope = 'run' | 'agent' | 'tenant';

/**
 * A budget ran out: the agent was stopped before the call that would have gone over (journaled as
 * `budget.exceeded`), or a person asked to extend it said no. Terminal for the run unless the
 * workflow catches it.
 */
export class BudgetExceededError extends BatonError {
  readonly scope: BudgetScope | undefined;
  readonly metric: BudgetMetric | undefined;
  readonly limit: number | undefined;
  readonly used: number | undefined;
  constructor(
    args:
      | {
          scope: BudgetScope;
          subject: string;
          metric: BudgetMetric;
          limit: number;
          used: number;
          requested: number;
        }
      | { refusedBy: string; comment?: string },
  ) {
    const message =
      'refusedBy' in args
        ? `The budget was exhausted and ${args.refusedBy === 'system:timeout' ? 'no one extended it in time' : `${args.refusedBy} did not extend it`}` +
          `${args.comment ? `: ${args.comment}` : ''}.`
        : `The ${args.scope} budget of ${args.subject} is exhausted: ${describeMetric(args.metric, args.used)} used of ` +
          `${describeMetric(args.metric, args.limit)}, and the next call needs about ${describeMetric(args.metric, args.requested)} more. ` +
          `Raise the limit (guard.budgets) or configure onExceeded: { ask } to let a person extend it.`;
    super('BUDGET_EXCEEDED', message);
    const breach = 'refusedBy' in args ? undefined : args;
    this.scope = breach?.scope;
    this.metric = breach?.metric;
    this.limit = breach?.limit;
    this.used = breach?.used;
  }
}

function describeMetric(metric: BudgetMetric, value: number): string {
  switch (metric) {
    case 'usd':
      return `$${Number(value.toFixed(6))}`;
    case 'wallTimeMs':
      return `${Math.round(value)} ms`;
    case 'tokens':
      return `${Math.round(value)} tokens`;
    case 'modelCalls':
      return `${value} model calls`;
    case 'toolCalls':
      return `${value} tool calls`;
  }
}

/** A budget is configured wrongly (below zero, not a number): refused when Baton opens. */
export class BudgetConfigError extends BatonError {
  constructor(args: { where: string; value: unknown; problem: string }) {
    super(
      'BUDGET_CONFIG',
      `The budget ${args.where} is ${JSON.stringify(args.value) ?? String(args.value)}: ${args.problem}.`,
    );
  }
}

/**
 * An agent went round in circles: the same tool call again and again, or turns that added nothing
 * new. Journaled as `loop.detected` with the evidence; the agent was stopped (or a person refused
 * to let it go on).
 */
export class LoopDetectedError extends BatonError {
  readonly agent: string;
  constructor(args: { agent: string; reason: string }) {
    super(
      'LOOP_DETECTED',
      `Agent '${args.agent}' was stopped: ${args.reason}. See loop.detected in the run's journal.`,
    );
    this.agent = args.agent;
  }
}

/** No approval with that id in the run (or it is in another run). Lists the ones pending. */
export class ApprovalNotFoundError extends BatonError {
  constructor(args: { runId: string; approvalId: string; pending: readonly string[] }) {
    const pending = args.pending.length
      ? `Pending in this run: ${args.pending.join(', ')}.`
      : 'The run has no pending approvals.';
    super('APPROVAL_NOT_FOUND', `Run ${args.runId} has no approval '${args.approvalId}'. ${pending}`);
  }
}

/** The approval was already decided (or a decision is on its way to the run). Nothing was sent. */
export class ApprovalAlreadyDecidedError extends BatonError {
  constructor(args: { runId: string; approvalId: string; decision: string; by: string }) {
    super(
      'APPROVAL_ALREADY_DECIDED',
      `Approval '${args.approvalId}' of run ${args.runId} was already ${args.decision} by ${args.by}; a decision is final.`,
    );
  }
}

/** The run finished (completed, failed, cancelled) with the approval undecided; there is nothing left to approve. */
export class ApprovalClosedError extends BatonError {
  constructor(args: { runId: string; approvalId: string; status: string }) {
    super(
      'APPROVAL_CLOSED',
      `Approval '${args.approvalId}' cannot be decided: run ${args.runId} has ${args.status}.`,
    );
  }
}

/** The approval's time is up: the run denies it when it wakes. Nothing was sent. */
export class ApprovalExpiredError extends BatonError {
  constructor(args: { runId: string; approvalId: string; until: string }) {
    super(
      'APPROVAL_EXPIRED',
      `Approval '${args.approvalId}' of run ${args.runId} expired at ${args.until}; the run denies it.`,
    );
  }
}

/** The principal may not decide this approval (not an approver now, the requester, or a policy said no). */
export class ApprovalForbiddenError extends BatonError {
  readonly approver: string;
  constructor(args: { approver: string; runId: string; approvalId: string; reason: string }) {
    super(
      'APPROVAL_FORBIDDEN',
      `${args.approver} may not decide approval '${args.approvalId}' of run ${args.runId}: ${args.reason}.`,
    );
    this.approver = args.approver;
  }
}

/** Edited arguments fail the gated tool's schema (or were given where there is no tool). Nothing was sent. */
export class InvalidApprovalArgumentsError extends BatonError {
  constructor(args: { approvalId: string; tool?: string; problem: string }) {
    const what =
      args.tool === undefined
        ? `approval '${args.approvalId}'`
        : `tool '${args.tool}' (approval '${args.approvalId}')`;
    super('INVALID_APPROVAL_ARGUMENTS', `The edited arguments for ${what} are not valid:\n${args.problem}`);
  }
}
