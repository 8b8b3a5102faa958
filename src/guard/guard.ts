import { ModelCallDeniedError } from '../agents/errors.ts';
import type { ModelCallInterceptor, ToolCallInterceptor } from '../agents/interceptors.ts';
import type { AgentRuntime } from '../agents/runtime.ts';
import type { PolicyEngine } from '../access/policy-engine.ts';
import { parsePrincipal } from '../access/principal.ts';
import type { AgentsContext } from '../agents/agents-layer.ts';
import type { WorkflowContext } from '../engine/context.ts';
import type { ContextLayer } from '../engine/context-layer.ts';
import { ConfigError } from '../errors.ts';
import type { GuardVerdictRecord } from '../journal/events.ts';
import type { BudgetStore } from '../store/budget-store.ts';
import { ApprovalDesk, type ApprovalDeskDeps } from '../approvals/approval-desk.ts';
import { approvalGate, checkGateOptions, type GateOptions } from '../approvals/approval-gate.ts';
import { approvalKindOfInterceptor, type ApproverGroups } from '../approvals/approval-assignment.ts';
import { agentGuardrails } from './agent-guardrails.ts';
import { checkBudgetOptions, type BudgetOptions } from './budget.ts';
import { BUDGET_INTERCEPTOR, budgetInterceptors, type BudgetBreach } from './budget-interceptor.ts';
import { BudgetExceededError, LoopDetectedError } from './guard-errors.ts';
import { guardModels, type GuardCore } from './guard-core.ts';
import { guardLayer, type GuardContext } from './guard-layer.ts';
import { GuardStates } from './guard-state.ts';
import { toGuardrail, type Guardrail, type GuardrailLike } from './guardrail.ts';
import { checkLoopOptions, LOOP_INTERCEPTOR, loopInterceptors, type LoopOptions } from './loop-detector.ts';
import { blockedError, runGuardrails } from './run-guardrails.ts';
import { toolGuardrails, toolStage, type ToolGuardrails } from './tool-guardrails.ts';

/**
 * Baton's guard layer (`Baton.open({ guard })`): guardrails on run and agent input, agent output
 * and tool calls; budgets per run, agent and tenant; loop detection; approvals (ctx.approval, and
 * gates before tool calls). Everything is off until configured, except `ctx.approval` and the
 * approval desk (`baton.approve`, `baton.deny`, `baton.approvals`).
 */
export interface GuardOptions {
  guardrails?: {
    /** Checked at `baton.start`, before anything is written: a block refuses the run (GuardrailBlockedError). */
    runInput?: readonly GuardrailLike[];
    /** Every agent's task, before its own `guardrails.input`. */
    agentInput?: readonly GuardrailLike[];
    /** Every agent's final answer, before its own `guardrails.output`. */
    agentOutput?: readonly GuardrailLike[];
    /** Every tool call: a list checks arguments and results; `{ before, after }` one each. */
    tools?: ToolGuardrails;
  };
  budgets?: BudgetOptions;
  /** Loop detection; `{}` turns it on with its defaults. Off when left out. */
  loops?: LoopOptions;
  approvals?: {
    /** Approver groups by name, named `group:<name>` in approvers. */
    groups?: ApproverGroups;
    /**
     * Who may approve: Cedar decides the action `Approve` on the run (and `@approval("…")` on a permit
     * gates the tool calls it allows). Without it: any user or service of the run's tenant other
     * than the run's principal.
     */
    policies?: PolicyEngine;
    /** Tool calls that wait for approval. */
    gates?: GateOptions;
  };
}

/** What the guard needs from Baton. */
export interface GuardDeps {
  agents: AgentRuntime;
  clock: () => number;
  storeLocation: string;
  budgetStore: BudgetStore | undefined;
  desk: Omit<ApprovalDeskDeps, 'clock' | 'policies' | 'tools'>;
}

/** The guard of one Baton: installs its interceptors and agent checks, and keeps the approval desk. */
export class Guard {
  readonly desk: ApprovalDesk;
  readonly #core: GuardCore;
  readonly #runInput: readonly Guardrail[];

  constructor(options: GuardOptions = {}, deps: GuardDeps) {
    const groups = checkGroups(options.approvals?.groups ?? {});
    this.#core = {
      states: new GuardStates(),
      clock: deps.clock,
      agents: deps.agents,
      groups,
      budgetStore: deps.budgetStore,
      models: guardModels(deps.agents),
      policies: options.approvals?.policies,
      tools: new Map(),
    };
    const core = this.#core;
    const guardrails = options.guardrails ?? {};
    this.#runInput = (guardrails.runInput ?? []).map(toGuardrail);
    // Checked at the door: every guardrail is one (this throws for anything else).
    toolStage(guardrails.tools, 'before');
    toolStage(guardrails.tools, 'after');
    checkBudgetOptions(options.budgets);
    if (options.budgets?.tenant !== undefined && !deps.budgetStore) {
      throw new ConfigError(
        `Per-tenant budgets need a store that keeps shared budget ledgers (the store capability 'budgets'); the store at ${deps.storeLocation} does not.`,
      );
    }
    if (options.loops) checkLoopOptions(options.loops, core);
    if (options.approvals?.gates) checkGateOptions(options.approvals.gates, core);

    // Order matters: a park skips the interceptors after it, so the gate comes last.
    const tools: ToolCallInterceptor[] = [toolGuardrails(core, guardrails.tools)];
    const models: ModelCallInterceptor[] = [];
    if (options.loops) {
      const loops = loopInterceptors(core, options.loops);
      tools.push(loops.tool);
      models.push(loops.model);
    }
    if (options.budgets) {
      const budgets = budgetInterceptors(core, options.budgets);
      tools.push(budgets.tool);
      models.push(budgets.model);
    }
    if (options.approvals?.gates) tools.push(approvalGate(core, options.approvals.gates));
    deps.agents.intercept({ tools, models });
    deps.agents.agentChecks = agentGuardrails(core, {
      ...(guardrails.agentInput ? { input: guardrails.agentInput } : {}),
      ...(guardrails.agentOutput ? { output: guardrails.agentOutput } : {}),
    });
    this.desk = new ApprovalDesk({
      ...deps.desk,
      clock: deps.clock,
      policies: core.policies,
      tools: core.tools,
    });
  }

  /**
   * The guard's context layer: `ctx.approval` (routed to this guard's approver groups), a fresh
   * per-run state for each live activation, and `ctx.runAgent` throwing BudgetExceededError /
   * LoopDetectedError when the guard stopped the agent.
   */
  get layer(): ContextLayer<WorkflowContext & AgentsContext, GuardContext> {
    return guardLayer({ groups: this.#core.groups, states: this.#core.states, stopError });
  }

  /**
   * The run-input guardrails, at `baton.start`, before anything is written: throws
   * GuardrailBlockedError for a block; returns the input they let through and their verdicts
   * (journaled in `run.started`).
   */
  async checkRunInput(request: {
    runId: string;
    workflow: string;
    input: unknown;
    tenant: string;
    principal: string;
  }): Promise<{
    input: unknown;
    verdicts: GuardVerdictRecord[];
  }> {
    if (this.#runInput.length === 0) return { input: request.input, verdicts: [] };
    const outcome = await runGuardrails(this.#runInput, request.input, {
      stage: 'run.input',
      runId: request.runId,
      workflow: request.workflow,
      tenant: request.tenant,
      principal: request.principal,
      models: this.#core.models,
    });
    if (outcome.blocked) throw blockedError(outcome.blocked, `workflow '${request.workflow}'`);
    return { input: outcome.value, verdicts: outcome.records };
  }
}

/** The error an agent stopped by the guard ends with: its ModelCallDeniedError, translated. */
export function stopError(error: unknown): unknown {
  // Anything else is passed through unchanged.
  if (!ModelCallDeniedError.isInstance(error)) return error;
  const denied = error;
  if (typeof denied.interceptor !== 'string') return error;
  const data = denied.data ?? {};
  if (denied.interceptor === BUDGET_INTERCEPTOR && data.budget)
    return new BudgetExceededError(data.budget as BudgetBreach);
  if (denied.interceptor === LOOP_INTERCEPTOR)
    return new LoopDetectedError({ agent: agentOf(denied), reason: denied.reason });
  const by = typeof data.by === 'string' ? data.by : 'system:timeout';
  switch (approvalKindOfInterceptor(denied.interceptor)) {
    case 'budget':
      return new BudgetExceededError({ refusedBy: by, ...(denied.reason ? { comment: denied.reason } : {}) });
    case 'loop':
      return new LoopDetectedError({
        agent: agentOf(denied),
        reason: `it went round in circles and ${by} did not let it go on (${denied.reason})`,
      });
    default:
      return error;
  }
}

function agentOf(error: ModelCallDeniedError): string {
  return /of agent '([^']+)'/.exec(error.message)?.[1] ?? 'unknown';
}

function checkGroups(groups: ApproverGroups): ApproverGroups {
  for (const [name, members] of Object.entries(groups)) {
    if (!Array.isArray(members))
      throw new ConfigError(`guard.approvals.groups.${name} is a list of principals.`);
    for (const member of members) {
      try {
        parsePrincipal(member, '');
      } catch (error) {
        throw new ConfigError(`guard.approvals.groups.${name}: ${(error as Error).message}`);
      }
    }
  }
  return groups;
}
