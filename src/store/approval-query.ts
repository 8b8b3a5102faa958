/**
 * A filter for the approval inbox (`Store.pendingApprovals`, optional): approvals asked for by runs
 * that have not finished and not yet decided.
 */
export interface ApprovalQuery {
  /** Only approvals of runs in this tenant. */
  tenant?: string;
  /** Only approvals of this run. */
  runId?: string;
  /** Default 1000. */
  limit?: number;
}
