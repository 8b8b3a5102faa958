import { approvalSignalOf, approvalsIn, type ApprovalView } from '../approvals/approval-views.ts';
import type { ParkDecision } from '../agents/interceptors.ts';
import type { Baton } from '../baton.ts';
import { isTerminal } from '../store/store.ts';
import type { AccessGate } from './access-gate.ts';
import type { Caller } from './authenticate.ts';
import { HttpError } from './http-error.ts';

/** A person's decision on an approval, as the HTTP door receives it (`POST …/approvals/{id}`). */
export interface ApprovalDecisionRequest {
  decision: 'approve' | 'deny';
  /** Kept with the decision (the guard's `comment`). */
  reason?: string;
  /** With approve: run the tool with these arguments instead (checked against its schema). */
  args?: unknown;
}

/**
 * The approvals inbox of the API, over the guard's approval desk (baton.approvals, approve, deny)
 * and the journal. Approvals asked through the guard are decided by the guard, which checks that
 * they are open and that the caller has the right (its approvers, its policies, or its default
 * rule: not the run's own principal). A call parked by another interceptor is decided by sending
 * its park signal. Either way the door first checks ReadRun and Approve (with policies).
 */
export class ApprovalInbox {
  readonly #baton: Baton;
  readonly #gate: AccessGate;

  constructor(baton: Baton, gate: AccessGate) {
    this.#baton = baton;
    this.#gate = gate;
  }

  /** Approvals of the caller's tenant: pending ones (of unfinished runs), or also decided ones of recent runs. */
  async list(
    caller: Caller,
    options: { status: 'pending' | 'decided' | 'all'; runId?: string; limit: number; mine?: boolean },
  ): Promise<ApprovalView[]> {
    const scope = { tenant: caller.tenant };
    const runs =
      options.runId !== undefined
        ? [await this.#baton.getRun(options.runId, scope)]
        : await this.#baton.listRuns(
            {
              ...(options.status === 'pending' ? { status: ['waiting', 'running', 'pending'] } : {}),
              limit: options.limit,
            },
            scope,
          );
    const mine = new Set(
      (
        await this.#baton.approvals({
          mine: true,
          as: caller.principal,
          tenant: caller.tenant,
          ...(options.runId ? { runId: options.runId } : {}),
          limit: 1000,
        })
      ).map((approval) => `${approval.runId}/${approval.approvalId}`),
    );
    const out: ApprovalView[] = [];
    for (const run of runs) {
      if (!this.#gate.allowsRun(caller, 'ReadRun', run)) continue;
      const events = await this.#baton.store.readEvents(run.runId, 1, scope);
      const sent = new Set(
        (await this.#baton.store.pendingSignals(run.runId))
          .filter((signal) => !signal.consumed)
          .map((signal) => signal.name),
      );
      for (const view of approvalsIn(run, events)) {
        if (view.status === 'pending') {
          const open = !isTerminal(run.status) && !sent.has(approvalSignalOf(view, events));
          if (!open) continue;
          view.canDecide =
            (view.source === 'guard' ? mine.has(`${run.runId}/${view.approvalId}`) : true) &&
            this.#gate.allowsApproval(caller, run, view.name);
        }
        if (options.mine && !view.canDecide) continue;
        const wanted =
          options.status === 'all' || (options.status === 'pending') === (view.status === 'pending');
        if (wanted) out.push(view);
      }
    }
    return out.sort((a, b) =>
      a.status === b.status ? b.requestedAt.localeCompare(a.requestedAt) : a.status === 'pending' ? -1 : 1,
    );
  }

  /**
   * Decides a pending approval as the caller. APPROVAL_NOT_FOUND (404) when the run has none by
   * that id; APPROVAL_ALREADY_DECIDED (409) when it was decided (or a decision is on its way);
   * APPROVAL_FORBIDDEN / FORBIDDEN (403) when the caller may not decide it.
   */
  async decide(
    caller: Caller,
    runId: string,
    approvalId: string,
    decision: ApprovalDecisionRequest,
  ): Promise<ApprovalView> {
    const scope = { tenant: caller.tenant };
    const run = await this.#baton.getRun(runId, scope);
    this.#gate.checkRun(caller, 'ReadRun', run);
    const events = await this.#baton.store.readEvents(runId, 1, scope);
    const view = approvalsIn(run, events).find((candidate) => candidate.approvalId === approvalId);
    if (!view) throw new HttpError('APPROVAL_NOT_FOUND', `Run ${runId} has no approval '${approvalId}'.`);
    this.#gate.checkRun(caller, 'Approve', run, view.name);
    if (decision.decision === 'deny' && decision.args !== undefined) {
      throw new HttpError('INVALID_REQUEST', 'args: only an approval may carry arguments.');
    }
    const comment = decision.reason === undefined ? {} : { comment: decision.reason };
    if (view.source === 'guard') {
      const options = { as: caller.principal, tenant: caller.tenant, ...comment };
      if (decision.decision === 'approve')
        await this.#baton.approve(runId, approvalId, {
          ...options,
          ...(decision.args === undefined ? {} : { args: decision.args }),
        });
      else await this.#baton.deny(runId, approvalId, options);
      return { ...view, decidedBy: caller.principal };
    }
    if (view.status !== 'pending') {
      throw new HttpError(
        'APPROVAL_ALREADY_DECIDED',
        `Approval '${approvalId}' of run ${runId} was already ${view.status}${view.decidedBy ? ` by ${view.decidedBy}` : ''}.`,
      );
    }
    const sent = (await this.#baton.store.pendingSignals(runId)).find(
      (signal) => signal.name === approvalId && !signal.consumed,
    );
    if (sent) {
      throw new HttpError(
        'APPROVAL_ALREADY_DECIDED',
        `Approval '${approvalId}' of run ${runId} was already decided by ${sent.sentBy}; the run has yet to take the decision.`,
      );
    }
    const payload: ParkDecision = {
      approved: decision.decision === 'approve',
      by: caller.principal,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(decision.args === undefined ? {} : { args: decision.args }),
    };
    await this.#baton.signal(runId, approvalId, payload, { as: caller.principal, tenant: caller.tenant });
    return { ...view, decidedBy: caller.principal };
  }
}

/** @deprecated Renamed {@link ApprovalDecisionRequest}: `ApprovalDecision` is what `ctx.approval` returns (`baton/guard`). */
export type ApprovalDecision = ApprovalDecisionRequest;
