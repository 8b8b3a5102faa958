// The errors of deciding an approval (`baton.approve`, `baton approve|deny`, the HTTP door).
import { BatonError } from '../errors.ts';

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
