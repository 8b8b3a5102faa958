import type { PolicyEngine } from '../access/policy-engine.ts';
import { identityChain } from '../access/identity-chain.ts';
import { parsePrincipal } from '../access/principal.ts';
import { explainDecision } from '../access/explain-decision.ts';
import type { ApprovalStageRecord, JournalEventPayloads } from '../journal/events.ts';
import type { RunRecord } from '../store/store.ts';

export type ApprovalRight = { ok: true; policies?: string[] } | { ok: false; reason: string };

/**
 * Who may decide an approval now:
 * - when its open stage names approvers, only they (the members of its groups) may;
 * - with a Cedar policy engine (`guard.approvals.policies`), the engine decides the action
 *   `Approve` on the run (context `approval` = the approval's action) for the approver, in the run's
 *   tenant, default deny;
 * - without one, the default rule: any user or service of the run's tenant other than the run's
 *   principal (who asked for it) may.
 */
export function approvalRight(args: {
  approver: string;
  run: RunRecord;
  request: JournalEventPayloads['approval.requested'];
  stage: ApprovalStageRecord;
  policies: PolicyEngine | undefined;
  now: number;
}): ApprovalRight {
  const { approver, run, request, stage, policies } = args;
  let principal;
  try {
    principal = parsePrincipal(approver, run.tenant);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (stage.approvers.length > 0 && !stage.members.includes(approver)) {
    return {
      ok: false,
      reason: `only ${stage.approvers.join(', ')} (${stage.members.join(', ') || 'no one'}) may decide it now`,
    };
  }
  if (policies) {
    const decision = policies.authorize({
      chain: identityChain(run.tenant, approver, []),
      action: 'Approve',
      resource: {
        kind: 'run',
        runId: run.runId,
        workflow: run.workflow,
        tenant: run.tenant,
        principal: run.principal,
        status: run.status,
      },
      approval: request.name,
      now: args.now,
    });
    if (decision.decision === 'deny') return { ok: false, reason: explainDecision(decision) };
    return { ok: true, policies: decision.policies };
  }
  if (principal.kind !== 'user' && principal.kind !== 'service') {
    return { ok: false, reason: `approvers are users or services (a policy may allow ${principal.kind}s)` };
  }
  if (approver === request.requestedBy || approver === run.principal) {
    return {
      ok: false,
      reason: `${approver} asked for it (the run acts for them); someone else must decide`,
    };
  }
  return { ok: true };
}
