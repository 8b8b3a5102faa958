import type { ParkDecision } from '../agents/interceptors.ts';
import type { Baton } from '../baton.ts';
import type { JournalEvent, VerdictRecord } from '../journal/events.ts';
import type { RunRecord } from '../store/store.ts';
import type { AccessGate } from './access-gate.ts';
import type { Caller } from './authenticate.ts';
import { HttpError } from './http-error.ts';

/** A call waiting for a person (or decided by one), as the approvals inbox shows it. */
export interface ApprovalView {
  runId: string;
  /** The signal that decides it (`baton.approve:<op>`), unique in the run. */
  approvalId: string;
  workflow: string;
  kind: 'tool' | 'model';
  /** The tool, or the agent whose model call waits. */
  name: string;
  status: 'pending' | 'approved' | 'denied';
  reason?: string;
  args?: unknown;
  effect?: string;
  requestedAt: string;
  requestedBy: string;
  onBehalfOf: string[];
  decidedAt?: string;
  decidedBy?: string;
  decisionReason?: string;
  /** Args the approver gave instead of the model's. */
  approvedArgs?: unknown;
  seq: number;
  op: number;
}

export interface ApprovalDecision {
  decision: 'approve' | 'deny';
  reason?: string;
  /** With approve: run the tool with these arguments instead (checked against its schema by the run). */
  args?: unknown;
}

/**
 * The approvals inbox over the journal: a tool or model call parked by an interceptor (a
 * `tool.verdict` / `llm.verdict` with verdict `park`) waits for its signal; the `decided` verdict
 * the run journals when the signal arrives closes it. Deciding sends that signal with a
 * {@link ParkDecision}, as the caller, after the Approve policy allows it.
 */
export class ApprovalDesk {
  readonly #baton: Baton;
  readonly #gate: AccessGate;

  constructor(baton: Baton, gate: AccessGate) {
    this.#baton = baton;
    this.#gate = gate;
  }

  /** Approvals in the caller's tenant: pending ones (of waiting runs), or also decided ones of recent runs. */
  async list(caller: Caller, options: { status: 'pending' | 'decided' | 'all'; runId?: string; limit: number }): Promise<ApprovalView[]> {
    let runs: RunRecord[];
    if (options.runId !== undefined) {
      runs = [await this.#baton.getRun(options.runId, { tenant: caller.tenant })];
    } else {
      runs = await this.#baton.listRuns(
        { ...(options.status === 'pending' ? { status: ['waiting', 'running', 'pending'] } : {}), limit: options.limit },
        { tenant: caller.tenant },
      );
    }
    const out: ApprovalView[] = [];
    for (const run of runs) {
      if (!this.#gate.allowsRun(caller, 'ReadRun', run)) continue;
      const approvals = approvalsIn(run, await this.#baton.store.readEvents(run.runId, 1, { tenant: caller.tenant }));
      for (const approval of approvals) {
        const wanted = options.status === 'all' || (options.status === 'pending') === (approval.status === 'pending');
        if (wanted) out.push(approval);
      }
    }
    return out.sort((a, b) => (a.status === b.status ? b.requestedAt.localeCompare(a.requestedAt) : a.status === 'pending' ? -1 : 1));
  }

  /**
   * Decides a pending approval. APPROVAL_NOT_FOUND (404) when the run has no such approval,
   * APPROVAL_DECIDED (409) when it was decided already (or a decision is on its way to the run).
   */
  async decide(caller: Caller, runId: string, approvalId: string, decision: ApprovalDecision): Promise<ApprovalView> {
    const run = await this.#baton.getRun(runId, { tenant: caller.tenant });
    this.#gate.checkRun(caller, 'ReadRun', run);
    const events = await this.#baton.store.readEvents(runId, 1, { tenant: caller.tenant });
    const approval = approvalsIn(run, events).find((candidate) => candidate.approvalId === approvalId);
    if (!approval) throw new HttpError('APPROVAL_NOT_FOUND', `Run ${runId} has no approval '${approvalId}'.`);
    this.#gate.checkRun(caller, 'Approve', run, approval.name);
    const decidedBy = approval.decidedBy === undefined ? '' : ` by ${approval.decidedBy}`;
    if (approval.status !== 'pending') throw new HttpError('APPROVAL_DECIDED', `Approval '${approvalId}' of run ${runId} was already ${approval.status}${decidedBy}.`);
    const sent = (await this.#baton.store.pendingSignals(runId)).find((signal) => signal.name === approvalId && !signal.consumed);
    if (sent) throw new HttpError('APPROVAL_DECIDED', `Approval '${approvalId}' of run ${runId} was already decided by ${sent.sentBy}; the run has not taken the decision yet.`);
    if (decision.decision === 'deny' && decision.args !== undefined) {
      throw new HttpError('INVALID_REQUEST', 'args: only an approval may carry arguments.');
    }
    const payload: ParkDecision = {
      approved: decision.decision === 'approve',
      by: caller.principal,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(decision.args === undefined ? {} : { args: decision.args }),
    };
    await this.#baton.signal(runId, approvalId, payload, { as: caller.principal, tenant: caller.tenant });
    return { ...approval, decidedBy: caller.principal };
  }
}

/** The approvals a run's journal holds, oldest first. */
export function approvalsIn(run: RunRecord, events: readonly JournalEvent[]): ApprovalView[] {
  const byKey = new Map<string, ApprovalView>();
  const requested = new Map<string, JournalEvent>();
  for (const event of events) {
    if (event.type === 'tool.requested') {
      const payload = event.payload as { op: number; callId: string };
      requested.set(`${payload.op}:${payload.callId}`, event);
    }
    if (event.type !== 'tool.verdict' && event.type !== 'llm.verdict') continue;
    const verdict = event.payload as VerdictRecord & { op: number; name: string; callId?: string };
    const key = `${event.type}:${verdict.op}:${verdict.callId ?? ''}`;
    if (verdict.verdict === 'park' && verdict.phase !== 'decided') {
      const intent = requested.get(`${verdict.op}:${verdict.callId ?? ''}`)?.payload as { args?: unknown; effect?: string } | undefined;
      byKey.set(key, {
        runId: run.runId,
        approvalId: verdict.signal ?? `baton.approve:${verdict.op}`,
        workflow: run.workflow,
        kind: event.type === 'tool.verdict' ? 'tool' : 'model',
        name: verdict.name,
        status: 'pending',
        ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
        ...(intent && 'args' in intent ? { args: intent.args } : {}),
        ...(intent?.effect === undefined ? {} : { effect: intent.effect }),
        requestedAt: event.at,
        requestedBy: event.actor,
        onBehalfOf: [...event.onBehalfOf],
        seq: event.seq,
        op: verdict.op,
      });
      continue;
    }
    const open = byKey.get(key);
    if (!open || open.status !== 'pending' || verdict.phase !== 'decided') continue;
    const by = verdict.data?.by;
    open.status = verdict.verdict === 'deny' ? 'denied' : 'approved';
    open.decidedAt = event.at;
    if (typeof by === 'string') open.decidedBy = by;
    if (verdict.reason !== undefined) open.decisionReason = verdict.reason;
    if (verdict.verdict === 'rewrite') open.approvedArgs = verdict.args;
  }
  return [...byKey.values()];
}
