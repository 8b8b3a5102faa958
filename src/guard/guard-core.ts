import type { AgentRuntime } from '../agents/runtime.ts';
import type { ToolDefinition } from '../agents/tool.ts';
import type { PolicyEngine } from '../access/policy-engine.ts';
import type { BudgetStore } from '../store/budget-store.ts';
import type { ApproverGroups } from '../approvals/approval-assignment.ts';
import type { GuardrailContext, GuardModels } from './guardrail.ts';
import type { GuardStates } from './guard-state.ts';

/** What the guard's interceptors and checks share: per-run state, the clock, models and prices, approver groups. */
export interface GuardCore {
  readonly states: GuardStates;
  readonly clock: () => number;
  readonly agents: AgentRuntime;
  readonly groups: ApproverGroups;
  /** The store's shared budget ledgers, when it has them (per-tenant budgets). */
  readonly budgetStore: BudgetStore | undefined;
  readonly models: GuardModels;
  /** Who may approve (Cedar `Approve`), and which tool calls a policy gates (`@approval`); none: the default rule. */
  readonly policies: PolicyEngine | undefined;
  /** Tools this process gated, by name: edited arguments are checked against their real schema. */
  readonly tools: Map<string, ToolDefinition>;
}

/** Models for guardrails (judges), as the agents layer resolves and prices them. */
export function guardModels(agents: AgentRuntime): GuardModels {
  return {
    resolve: (spec, who) => agents.resolveModel(spec, who),
    price: (provider, modelId) => agents.price(provider, modelId),
  };
}

export type { GuardrailContext };
