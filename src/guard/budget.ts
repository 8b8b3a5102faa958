import { toMilliseconds, type Duration } from '../engine/duration.ts';
import type { BudgetMetric } from '../journal/events.ts';
import { BudgetConfigError } from './guard-errors.ts';
import type { ApproverAssignment } from '../approvals/approval-assignment.ts';
import { roundUsd } from '../rounding.ts';

/** Limits of one budget; a measure left out is not limited. Money is in US dollars, from the agents layer's price table. */
export interface BudgetLimits {
  tokens?: number;
  usd?: number;
  modelCalls?: number;
  toolCalls?: number;
  /** Time since the run started (run budgets only). */
  wallTime?: Duration;
}

/** A budget shared by every run of a tenant, per calendar period (UTC). Needs a store with `budgets`. */
export interface TenantBudget extends Omit<BudgetLimits, 'wallTime'> {
  /** Default `month`. */
  period?: 'day' | 'month' | 'total';
}

/**
 * Budgets (`guard.budgets`): per run, per agent (by name, within a run) and per tenant. Before each
 * model or tool call its use is estimated and reserved; after it, the reservation is replaced by the
 * real use (tokens, cost, calls). When a call would go over: stop the agent with
 * BudgetExceededError, or (`onExceeded: { ask }`) ask a person to extend the budget.
 */
export interface BudgetOptions {
  run?:
    | BudgetLimits
    | ((run: { workflow: string; tenant: string; principal: string }) => BudgetLimits | undefined);
  /** Every agent's budget (within a run), unless `agents` names it. */
  agent?: BudgetLimits;
  agents?: Readonly<Record<string, BudgetLimits>>;
  tenant?: TenantBudget | ((tenant: string) => TenantBudget | undefined);
  /** Default `stop`. With `ask`, an approval extends the exceeded budget by `extendBy` (default: its limits again). */
  onExceeded?: 'stop' | { ask: ApproverAssignment & { extendBy?: Omit<BudgetLimits, 'wallTime'> } };
  /** Output tokens a model call is assumed to produce when reserving, when it sets no maxOutputTokens. Default 1024. */
  outputTokensEstimate?: number;
}

/** A budget's limits as numbers (wall time in ms). */
export type Limits = Partial<Record<BudgetMetric, number>>;

/** Use counted by a meter. */
export interface Amounts {
  tokens: number;
  usd: number;
  modelCalls: number;
  toolCalls: number;
}

export const COUNTED: readonly (keyof Amounts)[] = ['tokens', 'usd', 'modelCalls', 'toolCalls'];

export function zero(): Amounts {
  return { tokens: 0, usd: 0, modelCalls: 0, toolCalls: 0 };
}

/**
 * Checks limits at the door and turns them into numbers: a measure below zero, or not a finite
 * number, is a BudgetConfigError naming where it is.
 */
export function resolveLimits(
  limits: BudgetLimits | TenantBudget | undefined,
  where: string,
): Limits | undefined {
  if (limits === undefined) return undefined;
  if (typeof limits !== 'object' || limits === null) {
    throw new BudgetConfigError({
      where,
      value: limits,
      problem: 'a budget is an object of limits ({ usd, tokens, modelCalls, toolCalls, wallTime })',
    });
  }
  const out: Limits = {};
  for (const metric of COUNTED) {
    const value = (limits as Record<string, unknown>)[metric];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new BudgetConfigError({
        where: `${where}.${metric}`,
        value,
        problem: 'it must be a finite number',
      });
    }
    if (value < 0)
      throw new BudgetConfigError({
        where: `${where}.${metric}`,
        value,
        problem: 'a budget cannot be below zero',
      });
    out[metric] = value;
  }
  const wallTime = (limits as BudgetLimits).wallTime;
  if (wallTime !== undefined) {
    let ms: number;
    try {
      ms = toMilliseconds(wallTime, `${where}.wallTime`);
    } catch (error) {
      throw new BudgetConfigError({
        where: `${where}.wallTime`,
        value: wallTime,
        problem: (error as Error).message,
      });
    }
    if (ms < 0)
      throw new BudgetConfigError({
        where: `${where}.wallTime`,
        value: wallTime,
        problem: 'a budget cannot be below zero',
      });
    out.wallTimeMs = ms;
  }
  const period = (limits as TenantBudget).period;
  if (period !== undefined && !['day', 'month', 'total'].includes(period)) {
    throw new BudgetConfigError({
      where: `${where}.period`,
      value: period,
      problem: "the period is 'day', 'month' or 'total'",
    });
  }
  return out;
}

/** Checks every budget given as data at the door (functions are checked each time they answer). */
export function checkBudgetOptions(options: BudgetOptions | undefined): void {
  if (!options) return;
  if (typeof options.run === 'object') resolveLimits(options.run, 'guard.budgets.run');
  resolveLimits(options.agent, 'guard.budgets.agent');
  for (const [name, limits] of Object.entries(options.agents ?? {}))
    resolveLimits(limits, `guard.budgets.agents.${name}`);
  if (typeof options.tenant === 'object') resolveLimits(options.tenant, 'guard.budgets.tenant');
  if (options.outputTokensEstimate !== undefined) {
    const value = options.outputTokensEstimate;
    if (!Number.isInteger(value) || value < 0) {
      throw new BudgetConfigError({
        where: 'guard.budgets.outputTokensEstimate',
        value,
        problem: 'it must be an integer ≥ 0',
      });
    }
  }
  const ask = options.onExceeded;
  if (ask !== undefined && ask !== 'stop') {
    if (typeof ask !== 'object' || ask === null || typeof ask.ask !== 'object') {
      throw new BudgetConfigError({
        where: 'guard.budgets.onExceeded',
        value: ask,
        problem: "it is 'stop' or { ask: { approvers, timeout } }",
      });
    }
    resolveLimits(ask.ask.extendBy, 'guard.budgets.onExceeded.ask.extendBy');
  }
}

/** What one budget has used and holds in reservation. Rebuilt by replay from the calls' `after`. */
export class Meter {
  readonly used = zero();
  readonly #reserved = new Map<number, Amounts>();
  /** Extensions people granted. */
  readonly extra: Limits = {};

  reserve(op: number, amounts: Amounts): void {
    this.#reserved.set(op, amounts);
  }

  /** Replaces the reservation of `op` (if any) with the real use. */
  settle(op: number, amounts: Partial<Amounts>): void {
    this.#reserved.delete(op);
    for (const metric of COUNTED) this.used[metric] += amounts[metric] ?? 0;
  }

  extend(by: Limits): void {
    for (const [metric, value] of Object.entries(by) as [BudgetMetric, number][])
      this.extra[metric] = (this.extra[metric] ?? 0) + value;
  }

  /** Use plus what is reserved for calls in flight. */
  committed(): Amounts {
    const total = { ...this.used };
    for (const amounts of this.#reserved.values())
      for (const metric of COUNTED) total[metric] += amounts[metric];
    return total;
  }

  /** The first measure `estimate` would take over its limit, if any. */
  exceeds(
    limits: Limits,
    estimate: Amounts,
    elapsedMs?: number,
  ): { metric: BudgetMetric; limit: number; used: number; requested: number } | undefined {
    const committed = this.committed();
    for (const metric of COUNTED) {
      const limit = limits[metric];
      if (limit === undefined || estimate[metric] === 0) continue;
      const allowed = limit + (this.extra[metric] ?? 0);
      if (committed[metric] + estimate[metric] > allowed + 1e-12) {
        return {
          metric,
          limit: allowed,
          used: roundUsd(committed[metric]),
          requested: roundUsd(estimate[metric]),
        };
      }
    }
    if (limits.wallTimeMs !== undefined && elapsedMs !== undefined) {
      const allowed = limits.wallTimeMs + (this.extra.wallTimeMs ?? 0);
      if (elapsedMs > allowed) return { metric: 'wallTimeMs', limit: allowed, used: elapsedMs, requested: 0 };
    }
    return undefined;
  }
}
