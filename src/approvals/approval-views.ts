import { approvalContext, type ApprovalContext } from './approval-context.ts';
import type { JournalEvent, VerdictRecord } from '../journal/events.ts';
import type { RunRecord } from '../store/store.ts';

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

/** The signal that decides an approval. */
export function approvalSignalOf(view: ApprovalView, events: readonly JournalEvent[]): string {
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
