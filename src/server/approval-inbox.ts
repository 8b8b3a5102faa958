import { approvalContext, type ApprovalContext } from './approval-context.ts';
import type { ParkDecision } from '../agents/interceptors.ts';
import type { Baton } from '../baton.ts';
import type { JournalEvent, VerdictRecord } from '../journal/events.ts';
import { isTerminal, type RunRecord } from '../store/store.ts';
import type { AccessGate } from './access-gate.ts';
import type { Caller } from './authenticate.ts';
import { HttpError } from './http-error.ts';

/** An approval (asked, escalated or decided), as the inbox and the run page show it. */
export interface ApprovalView {
  runId: string;
  approvalId: string;
  workflow: string;
  /**
   * `guard`: asked through the guard (`approval.requested`: gated tool calls, ctx.approval, budgets,
   * loops), decided with baton.approve/deny and their approver rules. `interceptor`: a call parked by
   * any other interceptor, decided by its park signal.
   */
  source: 'guard' | 'interceptor';
  kind: 'tool' | 'model' | 'approval' | 'budget' | 'loop';
  /** The gated tool, the approval's action, or the agent whose model call waits. */
  name: string;
  status: 'pending' | 'approved' | 'denied';
  summary?: string;
  /** The arguments asked for (tool calls) or the data shown to the approver. */
  args?: unknown;
  effect?: string;
  requestedAt: string;
  requestedBy: string;
  onBehalfOf: string[];
  /** Who may decide now, as named (empty: the default rule), and until when. */
  approvers: string[];
  until?: string;
  /** Whether the caller may decide it now (pending approvals only). */
  canDecide?: boolean;
  decidedAt?: string;
  decidedBy?: string;
  comment?: string;
  /** Arguments the approver approved with instead. */
  approvedArgs?: unknown;
  timedOut?: boolean;
  /** For a tool call: the agent that asked for it and what it said when it did (why it wants it). */
  context?: ApprovalContext;
  seq: number;
  op: number;
}

export interface ApprovalDecision {
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
          const open = !isTerminal(run.status) && !sent.has(signalOf(view, events));
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
    decision: ApprovalDecision,
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

/** The signal that decides an approval. */
function signalOf(view: ApprovalView, events: readonly JournalEvent[]): string {
  if (view.source === 'interceptor') return view.approvalId;
  const requested = events.find(
    (event) => event.type === 'approval.requested' && event.payload.approvalId === view.approvalId,
  );
  return requested?.type === 'approval.requested' ? requested.payload.signal : '';
}

/**
 * The approvals a run's journal holds, oldest first: those the guard asked for (`approval.requested`,
 * `approval.escalated`, `approval.decided`), and calls parked by other interceptors (a `park`
 * verdict whose signal no guard approval carries, closed by the `decided` verdict).
 */
export function approvalsIn(run: RunRecord, events: readonly JournalEvent[]): ApprovalView[] {
  const views: ApprovalView[] = [];
  const guard = new Map<string, ApprovalView>();
  // The guard's park verdict comes before its approval.requested: know its signals up front.
  const guardSignals = new Set(
    events.filter((event) => event.type === 'approval.requested').map((event) => event.payload.signal),
  );
  const parks = new Map<string, ApprovalView>();
  const intents = new Map<string, { args?: unknown; effect?: string }>();
  const base = (event: JournalEvent) => ({
    runId: run.runId,
    workflow: run.workflow,
    requestedAt: event.at,
    onBehalfOf: [...event.onBehalfOf],
    seq: event.seq,
  });
  for (const event of events) {
    switch (event.type) {
      case 'approval.requested': {
        const payload = event.payload;
        const stage = payload.stages[0];
        const view: ApprovalView = {
          ...base(event),
          approvalId: payload.approvalId,
          source: 'guard',
          kind: payload.kind === 'approval' ? 'approval' : payload.kind,
          name: payload.name,
          status: 'pending',
          summary: payload.summary,
          ...(payload.tool
            ? { args: payload.tool.args, effect: payload.tool.effect }
            : payload.data === undefined
              ? {}
              : { args: payload.data }),
          requestedBy: payload.requestedBy,
          approvers: stage?.approvers ?? [],
          ...(stage?.until === undefined ? {} : { until: stage.until }),
          ...(payload.tool
            ? { context: approvalContext(events, { seq: event.seq, actor: event.actor, op: payload.op }) }
            : {}),
          op: payload.op,
        };
        guard.set(payload.approvalId, view);
        views.push(view);
        break;
      }
      case 'approval.escalated': {
        const payload = event.payload;
        const view = guard.get(payload.approvalId);
        if (!view) break;
        view.approvers = payload.approvers;
        if (payload.until === undefined) delete view.until;
        else view.until = payload.until;
        break;
      }
      case 'approval.decided': {
        const payload = event.payload;
        const view = guard.get(payload.approvalId);
        if (!view) break;
        view.status = payload.decision;
        view.decidedAt = event.at;
        view.decidedBy = payload.by;
        if (payload.comment !== undefined) view.comment = payload.comment;
        if (payload.args !== undefined) view.approvedArgs = payload.args;
        if (payload.timedOut) view.timedOut = true;
        break;
      }
      case 'tool.requested': {
        const payload = event.payload;
        intents.set(`${payload.op}:${payload.callId}`, { args: payload.args, effect: payload.effect });
        break;
      }
      case 'tool.verdict':
      case 'llm.verdict': {
        const verdict = event.payload as VerdictRecord & { op: number; name: string; callId?: string };
        const key = `${event.type}:${verdict.op}:${verdict.callId ?? ''}`;
        if (verdict.verdict === 'park' && verdict.phase !== 'decided') {
          const signal = verdict.signal ?? `baton.approve:${verdict.op}`;
          if (guardSignals.has(signal)) break;
          const intent = intents.get(`${verdict.op}:${verdict.callId ?? ''}`);
          const view: ApprovalView = {
            ...base(event),
            approvalId: signal,
            source: 'interceptor',
            kind: event.type === 'tool.verdict' ? 'tool' : 'model',
            name: verdict.name,
            status: 'pending',
            ...(verdict.reason === undefined ? {} : { summary: verdict.reason }),
            ...(intent && 'args' in intent ? { args: intent.args } : {}),
            ...(intent?.effect === undefined ? {} : { effect: intent.effect }),
            requestedBy: event.actor,
            approvers: [],
            ...(event.type === 'tool.verdict'
              ? { context: approvalContext(events, { seq: event.seq, actor: event.actor, op: verdict.op }) }
              : {}),
            ...(verdict.deadline === undefined ? {} : { until: verdict.deadline }),
            op: verdict.op,
          };
          parks.set(key, view);
          views.push(view);
          break;
        }
        const open = parks.get(key);
        if (!open || open.status !== 'pending' || verdict.phase !== 'decided') break;
        const by = verdict.data?.by;
        open.status = verdict.verdict === 'deny' ? 'denied' : 'approved';
        open.decidedAt = event.at;
        if (typeof by === 'string') open.decidedBy = by;
        if (verdict.reason !== undefined) open.comment = verdict.reason;
        if (verdict.verdict === 'rewrite') open.approvedArgs = verdict.args;
        break;
      }
    }
  }
  return views;
}
