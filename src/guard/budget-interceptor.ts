import type {
  InterceptorContext,
  ModelCallInfo,
  ModelCallInterceptor,
  ModelVerdict,
  ParkOutcome,
  ToolCallInfo,
  ToolCallInterceptor,
  ToolVerdict,
} from '../agents/interceptors.ts';
import { callCost } from '../routing/prices.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { BudgetMetric, EventDraft, VerdictRecord } from '../journal/events.ts';
import {
  approvalDecided,
  approvalIdOf,
  approvalIdOfSignal,
  approvalRequested,
  approvalSignal,
  finalDeadline,
  planStages,
} from '../approvals/approval-assignment.ts';
import {
  COUNTED,
  resolveLimits,
  zero,
  type Amounts,
  type BudgetOptions,
  type Limits,
  type TenantBudget,
} from './budget.ts';
import type { BudgetScope } from './guard-errors.ts';
import type { GuardCore } from './guard-core.ts';
import type { RunGuardState } from './guard-state.ts';
import { roundUsd } from '../rounding.ts';

export const BUDGET_INTERCEPTOR = 'guard.budget';

/** A budget a call would go over, as journaled (verdict data and `budget.exceeded`). */
export interface BudgetBreach {
  scope: BudgetScope;
  subject: string;
  metric: BudgetMetric;
  limit: number;
  used: number;
  requested: number;
}

interface Scoped {
  scope: BudgetScope;
  subject: string;
  meterKey?: string;
  limits: Limits;
  ledger?: string;
}

/**
 * The budget interceptors: before each model and tool call, the call's use is estimated and checked
 * against the run's, the agent's and the tenant's budgets, and reserved; after it, the reservation
 * is replaced by the real use (`after` runs for replayed calls too, so the meters rebuild on
 * replay). Per-tenant ledgers live in the store (`Store.budgets`) and are charged once per call
 * (keyed `runId:op`); a call that crashed between its result and its settlement stays charged at
 * its estimate.
 *
 * Over a budget: a `budget.exceeded` event and a deny (the agent's model call fails and ctx.runAgent
 * throws BudgetExceededError; a tool call goes back to the model as refused and the agent is
 * stopped at its next model call), or with `onExceeded: { ask }` a park that a person decides
 * (`approval.requested`): approved, the budget grows by `extendBy` and the call goes on.
 */
export function budgetInterceptors(
  core: GuardCore,
  options: BudgetOptions,
): { model: ModelCallInterceptor; tool: ToolCallInterceptor } {
  const ask =
    options.onExceeded !== undefined && options.onExceeded !== 'stop' ? options.onExceeded.ask : undefined;
  const budgets: Budgets = { core, options, ask };

  const model: ModelCallInterceptor = {
    name: BUDGET_INTERCEPTOR,
    async before(call: ModelCallInfo, context): Promise<ModelVerdict | undefined> {
      const state = core.states.of(context.runId, core.clock());
      const stop = state.stopped.get(call.agent);
      if (
        stop?.interceptor === BUDGET_INTERCEPTOR ||
        stop?.interceptor.startsWith('signal:baton.approval:budget-')
      ) {
        return { type: 'deny', reason: stop.reason, data: stop.data };
      }
      const estimate = modelEstimate(call, options, core);
      const breach = await reserve(budgets, state, context, call.op, call.agent, estimate);
      return breach ? exceeded(budgets, { ...call, name: call.agent }, breach, context) : undefined;
    },
    async after(call, response, context) {
      const state = core.states.of(context.runId, core.clock());
      learn(state, call.agent, context.verdicts);
      const used: Amounts = {
        ...zero(),
        tokens: response.usage.inputTokens + response.usage.outputTokens,
        usd: response.cost.usd,
        modelCalls: 1,
      };
      for (const key of ['run', `agent:${call.agent}`]) state.meter(key).settle(call.op, used);
      await settleTenant(core, state, context, call.op, used);
    },
    decided: (call, decision, context) => decided(core, { op: call.op, name: call.agent }, decision, context),
  };

  const tool: ToolCallInterceptor = {
    name: BUDGET_INTERCEPTOR,
    async before(call: ToolCallInfo, context): Promise<ToolVerdict | undefined> {
      const state = core.states.of(context.runId, core.clock());
      const breach = await reserve(budgets, state, context, call.op, call.agent, { ...zero(), toolCalls: 1 });
      return breach ? exceeded(budgets, { ...call, name: call.tool.name }, breach, context) : undefined;
    },
    async after(call, outcome, context) {
      const state = core.states.of(context.runId, core.clock());
      const agent = call.agent ?? '';
      learn(state, agent, context.verdicts);
      const used: Amounts = { ...zero(), toolCalls: outcome.ok || outcome.kind === 'failed' ? 1 : 0 };
      for (const key of ['run', `agent:${agent}`]) state.meter(key).settle(call.op, used);
      await settleTenant(core, state, context, call.op, used);
    },
    decided: (call, decision, context) =>
      decided(core, { op: call.op, name: call.tool.name }, decision, context),
  };
  return { model, tool };
}

/** What the budget interceptors share: the guard's core, the budgets, and who decides an extension. */
interface Budgets {
  core: GuardCore;
  options: BudgetOptions;
  ask: Extract<BudgetOptions['onExceeded'], { ask: unknown }>['ask'] | undefined;
}

/** The budgets a call counts against: its run's, its agent's, its tenant's (for this period). */
function budgetScopes(
  budgets: Budgets,
  context: InterceptorContext,
  agent: string | undefined,
  now: number,
): Scoped[] {
  const { options } = budgets;
  const out: Scoped[] = [];
  const runLimits =
    typeof options.run === 'function'
      ? options.run({ workflow: context.workflow, tenant: context.tenant, principal: context.principal })
      : options.run;
  const run = resolveLimits(runLimits, 'guard.budgets.run');
  if (run) out.push({ scope: 'run', subject: `run ${context.runId}`, meterKey: 'run', limits: run });
  if (agent !== undefined) {
    const limits = resolveLimits(options.agents?.[agent] ?? options.agent, `guard.budgets.agents.${agent}`);
    if (limits) out.push({ scope: 'agent', subject: `agent '${agent}'`, meterKey: `agent:${agent}`, limits });
  }
  const tenantBudget: TenantBudget | undefined =
    typeof options.tenant === 'function' ? options.tenant(context.tenant) : options.tenant;
  const tenant = resolveLimits(tenantBudget, 'guard.budgets.tenant');
  if (tenant) {
    const period = periodKey(tenantBudget?.period ?? 'month', now);
    out.push({
      scope: 'tenant',
      subject: `tenant '${context.tenant}' (${period})`,
      limits: tenant,
      ledger: `tenant:${context.tenant}:${period}`,
    });
  }
  return out;
}

/** Checks and reserves; answers the first breach, if any. */
async function reserve(
  budgets: Budgets,
  state: RunGuardState,
  context: InterceptorContext,
  op: number,
  agent: string | undefined,
  estimate: Amounts,
): Promise<BudgetBreach | undefined> {
  const { core } = budgets;
  const now = core.clock();
  const list = budgetScopes(budgets, context, agent, now);
  for (const scoped of list) {
    if (!scoped.meterKey) continue;
    const breach = state
      .meter(scoped.meterKey)
      .exceeds(scoped.limits, estimate, scoped.scope === 'run' ? now - state.startedAt : undefined);
    if (breach) return { scope: scoped.scope, subject: scoped.subject, ...breach };
  }
  for (const scoped of list) {
    if (scoped.ledger === undefined) continue;
    const answer = await core.budgetStore!.reserve({
      ledger: scoped.ledger,
      key: `${context.runId}:${op}`,
      amounts: estimate,
      limits: scoped.limits,
      now,
    });
    if (!answer.ok) {
      return {
        scope: 'tenant',
        subject: scoped.subject,
        metric: answer.metric,
        limit: answer.limit,
        used: roundUsd(answer.used[answer.metric]),
        requested: roundUsd(estimate[answer.metric]),
      };
    }
    state.tenantLedgers.set(op, scoped.ledger);
  }
  for (const scoped of list) if (scoped.meterKey) state.meter(scoped.meterKey).reserve(op, estimate);
  return undefined;
}

function exceeded(
  budgets: Budgets,
  call: { op: number; name: string; actor: string; onBehalfOf: readonly string[] },
  breach: BudgetBreach,
  context: InterceptorContext,
) {
  const { core, ask } = budgets;
  const action = ask ? 'ask' : 'stop';
  const event: EventDraft<'budget.exceeded'> = {
    type: 'budget.exceeded',
    payload: { op: call.op, name: call.name, ...breach, action },
    actor: call.actor,
    onBehalfOf: [...call.onBehalfOf],
  };
  const reason = `the ${breach.scope} budget of ${breach.subject} is exhausted (${breach.metric}: ${breach.used} used of ${breach.limit}, ${breach.requested} more needed)`;
  const data = { budget: breach };
  if (!ask) return { type: 'deny' as const, reason, data, events: [event] };
  const now = core.clock();
  const stages = planStages(ask, core.groups, now, 'guard.budgets.onExceeded.ask');
  const deadline = finalDeadline(stages);
  const extendBy = extension(ask, breach);
  const request = approvalRequested({
    op: call.op,
    name: 'budget.extend',
    kind: 'budget',
    summary: `${call.name} has run out of its ${breach.scope} budget (${breach.metric}: ${breach.used} of ${breach.limit}). Extend it by ${describe(extendBy)}?`,
    data: { ...breach, extendBy },
    requestedBy: context.principal,
    stages,
    actor: call.actor,
    onBehalfOf: [...call.onBehalfOf],
  });
  return {
    type: 'park' as const,
    reason,
    signal: approvalSignal(approvalIdOf('budget', call.op)),
    ...(deadline === undefined ? {} : { deadline }),
    data: { budget: breach, extendBy },
    events: [event, request],
  };
}

function extension(ask: Budgets['ask'], breach: BudgetBreach): Limits {
  const configured = resolveLimits(ask?.extendBy, 'guard.budgets.onExceeded.ask.extendBy');
  if (configured && Object.keys(configured).length > 0) return configured;
  return { [breach.metric]: breach.limit };
}

/** Applies a person's extension (rebuilt from the call's verdicts on replay too), or notes a refusal. */
function learn(state: RunGuardState, agent: string, verdicts: readonly VerdictRecord[] | undefined): void {
  const parked = verdicts?.find(
    (verdict) => verdict.interceptor === BUDGET_INTERCEPTOR && verdict.verdict === 'park',
  );
  const denied = verdicts?.find(
    (verdict) => verdict.interceptor === BUDGET_INTERCEPTOR && verdict.verdict === 'deny',
  );
  if (denied)
    state.stopped.set(agent, {
      interceptor: BUDGET_INTERCEPTOR,
      reason: denied.reason ?? 'budget exhausted',
      data: denied.data ?? {},
    });
  if (!parked) return;
  const decision = verdicts!.find((verdict) => verdict.phase === 'decided');
  const breach = parked.data?.budget as BudgetBreach | undefined;
  if (!decision || !breach) return;
  if (decision.verdict === 'deny') {
    state.stopped.set(agent, {
      interceptor: decision.interceptor,
      reason: decision.reason ?? 'not extended',
      data: { ...(decision.data ?? {}), budget: breach },
    });
    return;
  }
  if (breach.scope === 'tenant') return; // credited in the shared ledger when decided
  const key = breach.scope === 'run' ? 'run' : `agent:${agent}`;
  state.meter(key).extend((parked.data?.extendBy as Limits | undefined) ?? {});
}

async function decided(
  core: GuardCore,
  call: { op: number; name: string },
  decision: ParkOutcome,
  context: InterceptorContext,
): Promise<EventDraft[]> {
  const parked = context.verdicts?.find(
    (verdict) => verdict.interceptor === BUDGET_INTERCEPTOR && verdict.verdict === 'park',
  );
  const breach = parked?.data?.budget as BudgetBreach | undefined;
  if (decision.approved && breach?.scope === 'tenant' && core.budgetStore) {
    const state = core.states.of(context.runId, core.clock());
    const ledger = state.tenantLedgers.get(call.op) ?? ledgerOf(breach, context.tenant);
    const by = (parked!.data?.extendBy as Limits | undefined) ?? {};
    const credit: Partial<Amounts> = {};
    for (const metric of COUNTED) if (by[metric] !== undefined) credit[metric] = -by[metric];
    await core.budgetStore.settle({
      ledger,
      key: `extend:${context.runId}:${call.op}`,
      amounts: credit,
      now: core.clock(),
    });
  }
  return [approvalDecided(call.op, 'budget.extend', approvalIdOfSignal(decision.signal), decision)];
}

async function settleTenant(
  core: GuardCore,
  state: RunGuardState,
  context: InterceptorContext,
  op: number,
  used: Amounts,
): Promise<void> {
  const ledger = state.tenantLedgers.get(op);
  if (ledger === undefined || context.replayed || !core.budgetStore) return;
  state.tenantLedgers.delete(op);
  await core.budgetStore.settle({
    ledger,
    key: `${context.runId}:${op}`,
    amounts: used,
    now: core.clock(),
  });
}

/** What a model call is expected to use: its prompt's tokens (about 4 characters each), its output allowance, their price. */
function modelEstimate(call: ModelCallInfo, options: BudgetOptions, core: GuardCore): Amounts {
  const inputTokens = Math.ceil(canonicalJson(call.messages, 'The request').length / 4);
  const maxOutput = call.parameters.maxOutputTokens;
  const outputTokens = typeof maxOutput === 'number' ? maxOutput : (options.outputTokensEstimate ?? 1024);
  const cost = callCost(core.agents.price(call.provider, call.modelId), { inputTokens, outputTokens });
  return { tokens: inputTokens + outputTokens, usd: cost.usd, modelCalls: 1, toolCalls: 0 };
}

function periodKey(period: 'day' | 'month' | 'total', now: number): string {
  const iso = new Date(now).toISOString();
  return period === 'day' ? iso.slice(0, 10) : period === 'month' ? iso.slice(0, 7) : 'total';
}

function ledgerOf(breach: BudgetBreach, tenant: string): string {
  const period = /\(([^)]+)\)$/.exec(breach.subject)?.[1] ?? 'total';
  return `tenant:${tenant}:${period}`;
}

function describe(limits: Limits): string {
  return Object.entries(limits)
    .map(([metric, value]) => (metric === 'usd' ? `$${value}` : `${value} ${metric}`))
    .join(' and ');
}
