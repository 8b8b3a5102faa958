import type { WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { ApprovalStageRecord, JournalEventPayloads } from '../journal/events.ts';
import {
  approvalRequested,
  approvalIdOf,
  approvalSignal,
  checkAssignment,
  finalDeadline,
  openStage,
  planStages,
  type ApproverAssignment,
  type ApprovalSignalPayload,
  type ApproverGroups,
} from './approval-assignment.ts';

/** What a workflow asks a person to approve. See {@link requestApproval}. */
export interface ApprovalRequest extends ApproverAssignment {
  /** What is to be approved, as a name policies and the inbox read: `refund.large`, `publish`. */
  action: string;
  /** One or two sentences for the approver. */
  summary: string;
  /** Facts the approver sees (JSON), e.g. the amount and the customer. */
  data?: unknown;
}

/** A person's decision (or the timeout's). */
export interface ApprovalDecision {
  approvalId: string;
  approved: boolean;
  /** The approver, or `system:timeout`. */
  by: string;
  comment?: string;
  /** Edited data the approver approved with, when they gave any. */
  args?: unknown;
  timedOut: boolean;
}

const ACTION = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Asks a person to approve, durably: journals `approval.requested` (who may decide, until when),
 * then waits holding no worker — across restarts, for days — for `baton.approve` / `baton.deny`
 * (the CLI's `baton approve|deny`), and journals `approval.decided` with the decision, the approver
 * and the comment. Resolves with the decision; a denial is a decision, not an error.
 *
 * On timeout: denied (`by: 'system:timeout'`), or with `onTimeout: { escalateTo }` the next group may
 * decide (`approval.escalated`) until its own time runs out. After a crash the recorded request and
 * decision are replayed; a decision sent while no worker ran is kept and delivered.
 *
 * @example
 * const decision = await ctx.approval({
 *   action: 'refund.large', summary: `Refund $${cents / 100} to ${customer}`, data: { cents, customer },
 *   approvers: ['group:finance'], timeout: '2d', onTimeout: { escalateTo: 'managers' },
 * });
 * if (!decision.approved) return { refunded: false, reason: decision.comment };
 */
export function requestApproval(
  ctx: WorkflowContext,
  request: ApprovalRequest,
  groups: ApproverGroups,
): Promise<ApprovalDecision> {
  try {
    if (typeof request?.action !== 'string' || !ACTION.test(request.action)) {
      throw new InvalidArgumentError(
        `ctx.approval needs an action of 1–128 letters, digits or . _ - : (got ${JSON.stringify(request?.action)}).`,
      );
    }
    if (typeof request.summary !== 'string' || request.summary.trim() === '') {
      throw new InvalidArgumentError(`ctx.approval('${request.action}') needs a summary for the approver.`);
    }
    if (request.data !== undefined) canonicalJson(request.data, `The data of approval '${request.action}'`);
    checkAssignment(request, groups, `ctx.approval('${request.action}')`);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return ctx.operations.run(`approval:${request.action}`, async (op) => {
    const approvalId = approvalIdOf('approval', op.op);
    const signalName = approvalSignal(approvalId);
    const base = { op: op.op, name: request.action, approvalId };
    let stages: ApprovalStageRecord[] | undefined;
    let escalated = 0;
    for (const event of op.recorded) {
      if (event.type === 'approval.requested') stages = event.payload.stages;
      if (event.type === 'approval.escalated') escalated = event.payload.stage;
      if (event.type === 'approval.decided') return decisionOf(event.payload);
    }
    if (!stages) {
      stages = planStages(request, groups, op.now(), `ctx.approval('${request.action}')`);
      await op.append([
        approvalRequested({
          op: op.op,
          name: request.action,
          kind: 'approval',
          summary: request.summary,
          ...(request.data === undefined ? {} : { data: request.data }),
          requestedBy: ctx.principal,
          stages,
        }),
      ]);
    }
    const signal = ctx.operations.takeSignal(signalName);
    if (signal) {
      const answer = (signal.payload ?? {}) as Partial<ApprovalSignalPayload>;
      const decided: JournalEventPayloads['approval.decided'] = {
        ...base,
        decision: answer.approved === true ? 'approved' : 'denied',
        by: typeof answer.by === 'string' ? answer.by : 'unknown',
        ...(typeof (answer.comment ?? answer.reason) === 'string'
          ? { comment: (answer.comment ?? answer.reason)! }
          : {}),
        ...(answer.approved === true && answer.args !== undefined ? { args: answer.args } : {}),
        ...(Array.isArray(answer.policies) ? { policies: answer.policies } : {}),
      };
      await op.append([{ type: 'approval.decided', payload: decided }], {
        consumeSignals: [signal.signalId],
      });
      return decisionOf(decided);
    }
    const now = op.now();
    const deadline = finalDeadline(stages);
    if (deadline !== undefined && now >= deadline) {
      const decided: JournalEventPayloads['approval.decided'] = {
        ...base,
        decision: 'denied',
        by: 'system:timeout',
        comment: 'no decision before the deadline',
        timedOut: true,
      };
      await op.append([{ type: 'approval.decided', payload: decided }]);
      return decisionOf(decided);
    }
    const open = openStage(stages, now)!;
    for (let stage = escalated + 1; stage <= open.index; stage++) {
      const next = stages[stage]!;
      op.buffer({
        type: 'approval.escalated',
        payload: {
          ...base,
          stage,
          approvers: next.approvers,
          ...(next.until === undefined ? {} : { until: next.until }),
        },
      });
    }
    return op.block(open.stage.until === undefined ? undefined : Date.parse(open.stage.until));
  });
}

function decisionOf(payload: JournalEventPayloads['approval.decided']): ApprovalDecision {
  return {
    approvalId: payload.approvalId,
    approved: payload.decision === 'approved',
    by: payload.by,
    ...(payload.comment === undefined ? {} : { comment: payload.comment }),
    ...(payload.args === undefined ? {} : { args: payload.args }),
    timedOut: payload.timedOut === true,
  };
}
