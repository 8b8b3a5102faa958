import { runStepOrAgent, type AgentsContext } from '../agents/agents-layer.ts';
import type { WorkflowContext } from '../engine/context.ts';
import type { ContextLayer } from '../engine/context-layer.ts';
import { requestApproval, type ApprovalDecision, type ApprovalRequest } from '../approvals/approval.ts';
import type { ApproverGroups } from '../approvals/approval-assignment.ts';
import type { GuardStates } from './guard-state.ts';

/** What the guard layer gives a workflow's ctx. */
export interface GuardContext {
  /**
   * Asks a person to approve, durably (see {@link requestApproval}): the run waits holding no
   * worker until `baton approve|deny`, and the decision, approver and comment are journaled.
   */
  approval(request: ApprovalRequest): Promise<ApprovalDecision>;
  /**
   * The agents layer's `ctx.runAgent`; an agent the guard stopped ends with BudgetExceededError or
   * LoopDetectedError instead of the model call it denied.
   */
  runAgent: AgentsContext['runAgent'];
  /** The agents layer's `ctx.run`: a durable step, or (deprecated) `ctx.runAgent` as above. */
  run: AgentsContext['run'];
}

/** What the guard layer works with: a Guard's approver groups and per-run states (none without a guard). */
export interface GuardLayerParts {
  groups?: ApproverGroups;
  /** Live activations start a fresh per-run state here; replays leave live states alone. */
  states?: GuardStates;
  /** Translates the error of an agent the guard stopped. */
  stopError?: (error: unknown) => unknown;
}

/** The guard layer: `ctx.approval`, a fresh per-run guard state, and `ctx.runAgent` with the guard's errors. */
export function guardLayer(
  parts: GuardLayerParts = {},
): ContextLayer<WorkflowContext & AgentsContext, GuardContext> {
  const groups = parts.groups ?? {};
  const translate = parts.stopError ?? ((error: unknown) => error);
  return {
    name: 'guard',
    extend: (ctx, activation) => {
      if (activation.mode === 'live') parts.states?.begin(ctx.runId, activation.startedAt, ctx);
      const runAgent = ctx.runAgent.bind(ctx);
      const guarded: AgentsContext['runAgent'] = async (agent, input, options) => {
        try {
          return await runAgent(agent, input, options);
        } catch (error) {
          throw translate(error);
        }
      };
      // The step form of the layer below, taken now: `ctx` gets this layer's own `run` next.
      const below = ctx.run.bind(ctx) as WorkflowContext['run'];
      const step: WorkflowContext['run'] = (name, fn, options) => below(name, fn, options);
      return {
        approval: (request) => requestApproval(ctx, request, groups),
        runAgent: guarded,
        run: runStepOrAgent(step, guarded),
      };
    },
  };
}
