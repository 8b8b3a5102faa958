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
