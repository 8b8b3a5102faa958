import type { AgentsContext } from '../agents/agents-layer.ts';
import type { WorkflowContext } from '../engine/context.ts';
import type { ContextLayer } from '../engine/context-layer.ts';
import { requestApproval, type ApprovalDecision, type ApprovalRequest } from './approval.ts';
import type { ApproverGroups } from './approval-routing.ts';
import type { GuardStates } from './guard-state.ts';

/** What the guard layer gives a workflow's ctx. */
export interface GuardContext {
  /**
   * Asks a person to approve, durably (see {@link requestApproval}): the run waits holding no
   * worker until `baton approve|deny`, and the decision, approver and comment are journaled.
   */
  approval(request: ApprovalRequest): Promise<ApprovalDecision>;
  /**
   * The agents layer's `ctx.run`; an agent the guard stopped ends with BudgetExceededError or
   * LoopDetectedError instead of the model call it denied.
   */
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

/** The guard layer: `ctx.approval`, a fresh per-run guard state, and `ctx.run` with the guard's errors. */
export function guardLayer(
  parts: GuardLayerParts = {},
): ContextLayer<WorkflowContext & AgentsContext, GuardContext> {
  const groups = parts.groups ?? {};
  const translate = parts.stopError ?? ((error: unknown) => error);
  return {
    name: 'guard',
    extend: (ctx, activation) => {
      if (activation.mode === 'live') parts.states?.begin(ctx.runId, activation.startedAt, ctx);
      const run = ctx.run.bind(ctx);
      return {
        approval: (request) => requestApproval(ctx, request, groups),
        run: async (agent, input, options) => {
          try {
            return await run(agent, input, options);
          } catch (error) {
            throw translate(error);
          }
        },
      };
    },
  };
}
