import { eventOp, type JournalEvent } from './events.ts';

/** Something a run is waiting on, read from its journal. */
export type RunWait =
  | { kind: 'signal'; name: string; deadline?: string }
  | { kind: 'timer'; name: string; fireAt: string }
  | { kind: 'retry'; step: string; retryAt: string }
  | { kind: 'child'; childRunId: string; workflow: string }
  | { kind: 'approval'; approvalId: string; action: string; approvers: string[] }
  /** A tool call a crash left in doubt, parked until a person resolves it (`baton resolve`). */
  | { kind: 'in-doubt'; op: number; tool: string; callId: string; since: string };

/**
 * The waits still open at the end of a journal: signals awaited and not received, timers set and
 * not fired, child runs started and not finished, failed step attempts not yet retried, approvals
 * not decided, tool calls in doubt not resolved.
 */
export function openWaits(events: readonly JournalEvent[]): RunWait[] {
  const open = new Map<number, RunWait>();
  for (const event of events) {
    const op = eventOp(event);
    if (op === undefined) continue;
    const payload = event.payload as Record<string, unknown>;
    switch (event.type) {
      case 'signal.awaited':
        open.set(op, {
          kind: 'signal',
          name: String(payload.name),
          ...(typeof payload.deadline === 'string' ? { deadline: payload.deadline } : {}),
        });
        break;
      case 'timer.set':
        open.set(op, { kind: 'timer', name: String(payload.name), fireAt: String(payload.fireAt) });
        break;
      case 'step.attempt.failed':
        open.set(op, { kind: 'retry', step: String(payload.name), retryAt: String(payload.retryAt) });
        break;
      case 'approval.requested':
        open.set(op, {
          kind: 'approval',
          approvalId: String(payload.approvalId),
          action: String(payload.name),
          approvers: ((payload.stages as { approvers: string[] }[] | undefined)?.[0]?.approvers ?? []).map(
            String,
          ),
        });
        break;
      case 'approval.decided':
        open.delete(op);
        break;
      case 'tool.inDoubt':
        if (payload.resolution === 'park')
          open.set(op, {
            kind: 'in-doubt',
            op,
            tool: String(payload.name),
            callId: String(payload.callId),
            since: event.at,
          });
        break;
      case 'tool.resolved':
      case 'tool.called':
      case 'tool.failed':
        if (open.get(op)?.kind === 'in-doubt') open.delete(op);
        break;
      case 'child.started':
        open.set(op, {
          kind: 'child',
          childRunId: String(payload.childRunId),
          workflow: String(payload.workflow),
        });
        break;
      case 'signal.received':
      case 'signal.timedOut':
      case 'timer.fired':
      case 'step.completed':
      case 'step.failed':
      case 'child.completed':
      case 'child.failed':
        open.delete(op);
        break;
      default:
        break;
    }
  }
  return [...open.values()];
}

/** `signal 'approve'`, `timer 'sleep' until …`, for people. */
export function describeWait(wait: RunWait, formatTime: (iso: string) => string): string {
  switch (wait.kind) {
    case 'signal':
      return `signal '${wait.name}'${wait.deadline ? ` (times out ${formatTime(wait.deadline)})` : ''}`;
    case 'timer':
      return `timer '${wait.name}' until ${formatTime(wait.fireAt)}`;
    case 'retry':
      return `retry of step '${wait.step}' at ${formatTime(wait.retryAt)}`;
    case 'child':
      return `child run ${wait.childRunId} (${wait.workflow})`;
    case 'approval':
      return `approval '${wait.approvalId}' (${wait.action}${wait.approvers.length ? `, by ${wait.approvers.join(', ')}` : ''})`;
    case 'in-doubt':
      return `in-doubt tool call ${wait.callId} (${wait.tool}, op ${wait.op}) since ${formatTime(wait.since)}: a person decides (baton resolve)`;
  }
}

/** A few words for a table cell: `approval tool-7`, `signal approve`, `in-doubt payments.charge`. */
export function shortWait(wait: RunWait, formatTime: (iso: string) => string): string {
  switch (wait.kind) {
    case 'signal':
      return `signal ${wait.name}`;
    case 'timer':
      return `timer until ${formatTime(wait.fireAt)}`;
    case 'retry':
      return `retry ${wait.step} at ${formatTime(wait.retryAt)}`;
    case 'child':
      return `child ${wait.childRunId}`;
    case 'approval':
      return `approval ${wait.approvalId}`;
    case 'in-doubt':
      return `in-doubt ${wait.tool} (op ${wait.op})`;
  }
}
