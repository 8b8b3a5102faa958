import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { ConfigError, InvalidArgumentError } from '../errors.ts';
import type { ApprovalStageRecord, EventDraft } from '../journal/events.ts';
import { parsePrincipal } from '../access/principal.ts';

/** What approvals are about: a workflow's own question, a gated tool call, a budget to extend, a loop to let go on. */
export type ApprovalKind = 'approval' | 'tool' | 'budget' | 'loop';

/**
 * Who decides an approval and how long they have: `approvers` are principals (`user:bob`) or
 * groups (`group:finance`, from `guard.approvals.groups`); with a `timeout`, each stage has that
 * long. On timeout the approval is denied, or (`{ escalateTo }`) the next group(s) get a stage of
 * their own, and the last stage's timeout denies it.
 */
export interface ApproverAssignment {
  approvers?: readonly string[];
  timeout?: Duration;
  onTimeout?: 'deny' | { escalateTo: string | readonly string[] };
}

/** @deprecated Renamed {@link ApproverAssignment} ("route" now only means sending a request to one of several handlers). */
export type ApprovalRouting = ApproverAssignment;

/** Named groups of approvers: `{ finance: ['user:bob', 'user:carol'] }`. */
export type ApproverGroups = Readonly<Record<string, readonly string[]>>;

/** The approval id of a park or request at op `op`: `tool-7`, `budget-12`, `approval-3`. Unique within the run. */
export function approvalIdOf(kind: ApprovalKind, op: number): string {
  return `${kind}-${op}`;
}

/** The signal that carries a decision on approval `approvalId`. */
export function approvalSignal(approvalId: string): string {
  return `baton.approval:${approvalId}`;
}

const APPROVAL_SIGNAL = /^signal:baton\.approval:(approval|tool|budget|loop)-\d+$/;

/** The kind of approval a decided verdict's interceptor (`signal:baton.approval:<id>`) names, if any. */
export function approvalKindOfInterceptor(interceptor: string): ApprovalKind | undefined {
  const match = APPROVAL_SIGNAL.exec(interceptor);
  return match ? (match[1] as ApprovalKind) : undefined;
}

/** `finance` and `group:finance` name a group; `user:bob` a principal. */
function normalizeApprover(entry: string, where: string): string {
  if (typeof entry !== 'string' || entry.trim() === '')
    throw new InvalidArgumentError(`${where}: an approver is a principal or group:<name>.`);
  return entry.includes(':') ? entry : `group:${entry}`;
}

/** Checks an assignment at the door: durations, approvers that are principals or known groups. */
export function checkAssignment(
  assignment: ApproverAssignment | undefined,
  groups: ApproverGroups,
  where: string,
): void {
  if (assignment === undefined) return;
  if (assignment.timeout !== undefined) toMilliseconds(assignment.timeout, `${where} timeout`);
  const escalate = assignment.onTimeout;
  if (escalate !== undefined && escalate !== 'deny') {
    if (typeof escalate !== 'object' || escalate === null || !('escalateTo' in escalate)) {
      throw new InvalidArgumentError(`${where}: onTimeout is 'deny' or { escalateTo: group }.`);
    }
    if (assignment.timeout === undefined)
      throw new InvalidArgumentError(`${where}: onTimeout escalates after a timeout; give one.`);
  }
  const entries = [...(assignment.approvers ?? []), ...escalationTargets(assignment)];
  for (const entry of entries) expand(normalizeApprover(entry, where), groups, where);
}

function escalationTargets(assignment: ApproverAssignment): string[] {
  const escalate = assignment.onTimeout;
  if (escalate === undefined || escalate === 'deny') return [];
  return typeof escalate.escalateTo === 'string' ? [escalate.escalateTo] : [...escalate.escalateTo];
}

function expand(approver: string, groups: ApproverGroups, where: string): string[] {
  if (approver.startsWith('group:')) {
    const name = approver.slice('group:'.length);
    const members = groups[name];
    if (!members) {
      const known = Object.keys(groups);
      throw new ConfigError(
        `${where} names the approver group '${name}', which is not configured (guard.approvals.groups: ${known.length ? known.join(', ') : 'none'}).`,
      );
    }
    for (const member of members) parsePrincipal(member, '');
    return [...members];
  }
  parsePrincipal(approver, '');
  return [approver];
}

/**
 * The stages of an approval asked for at `now`: the approvers, then each escalation group, each
 * with `timeout` more; groups are resolved to their members now, and both are journaled.
 */
export function planStages(
  assignment: ApproverAssignment | undefined,
  groups: ApproverGroups,
  now: number,
  where: string,
): ApprovalStageRecord[] {
  checkAssignment(assignment, groups, where);
  const timeoutMs =
    assignment?.timeout === undefined ? undefined : toMilliseconds(assignment.timeout, `${where} timeout`);
  const first = (assignment?.approvers ?? []).map((entry) => normalizeApprover(entry, where));
  const lists = [
    first,
    ...escalationTargets(assignment ?? {}).map((entry) => [normalizeApprover(entry, where)]),
  ];
  return lists.map((approvers, index) => ({
    approvers,
    members: [...new Set(approvers.flatMap((approver) => expand(approver, groups, where)))],
    ...(timeoutMs === undefined ? {} : { until: new Date(now + (index + 1) * timeoutMs).toISOString() }),
  }));
}

/** The stage open at `now` (its index), or undefined when the last one's time has passed. */
export function openStage(
  stages: readonly ApprovalStageRecord[],
  now: number,
): { index: number; stage: ApprovalStageRecord } | undefined {
  for (const [index, stage] of stages.entries()) {
    if (stage.until === undefined || now < Date.parse(stage.until)) return { index, stage };
  }
  return undefined;
}

/** When the approval is denied for want of a decision (the last stage's end), if ever. */
export function finalDeadline(stages: readonly ApprovalStageRecord[]): number | undefined {
  const until = stages.at(-1)?.until;
  return until === undefined ? undefined : Date.parse(until);
}

/** The `approval.requested` event of an approval. */
export function approvalRequested(request: {
  op: number;
  name: string;
  kind: ApprovalKind;
  summary: string;
  data?: unknown;
  requestedBy: string;
  stages: ApprovalStageRecord[];
  tool?: {
    name: string;
    effect: 'read' | 'write' | 'irreversible';
    args: unknown;
    inputSchema: Record<string, unknown>;
  };
  actor?: string;
  onBehalfOf?: string[];
  callHash?: string;
}): EventDraft<'approval.requested'> {
  const approvalId = approvalIdOf(request.kind, request.op);
  return {
    type: 'approval.requested',
    payload: {
      op: request.op,
      name: request.name,
      approvalId,
      kind: request.kind,
      summary: request.summary,
      ...(request.data === undefined ? {} : { data: request.data }),
      requestedBy: request.requestedBy,
      stages: request.stages,
      onTimeout: 'deny',
      signal: approvalSignal(approvalId),
      ...(request.callHash === undefined ? {} : { callHash: request.callHash }),
      ...(request.tool === undefined ? {} : { tool: request.tool }),
    },
    ...(request.actor === undefined ? {} : { actor: request.actor }),
    ...(request.onBehalfOf === undefined ? {} : { onBehalfOf: request.onBehalfOf }),
  };
}

/** The payload a decision signal carries (a ParkDecision the agents layer understands, plus the comment). */
export interface ApprovalSignalPayload {
  approved: boolean;
  by: string;
  /** The comment, as the verdict's reason. */
  reason?: string;
  comment?: string;
  args?: unknown;
  policies?: string[];
}

/** The `approval.decided` event for a park's decision (a gated tool, a budget, a loop). */
export function approvalDecided(
  op: number,
  name: string,
  approvalId: string,
  decision: {
    approved: boolean;
    by?: string;
    reason?: string;
    args?: unknown;
    timedOut: boolean;
    reauthorization?: { decision: 'allow' | 'deny'; reason?: string };
  },
  calls: { requested?: string; approved?: string } = {},
): EventDraft<'approval.decided'> {
  const extra = decision as { comment?: unknown; policies?: unknown };
  const comment = typeof extra.comment === 'string' ? extra.comment : decision.reason;
  return {
    type: 'approval.decided',
    payload: {
      op,
      name,
      approvalId,
      decision: decision.approved ? 'approved' : 'denied',
      by: decision.by ?? 'unknown',
      ...(comment === undefined ? {} : { comment }),
      ...(decision.approved && decision.args !== undefined ? { args: decision.args } : {}),
      ...(decision.timedOut ? { timedOut: true } : {}),
      ...(Array.isArray(extra.policies) ? { policies: extra.policies as string[] } : {}),
      // Approving as asked approves the call approval.requested names (its callHash); edited
      // arguments make another call, named here with the one asked for.
      ...(calls.approved !== undefined && calls.requested !== undefined && calls.approved !== calls.requested
        ? { callHash: calls.approved, requestedCallHash: calls.requested }
        : {}),
      ...(decision.reauthorization === undefined ? {} : { reauthorization: decision.reauthorization }),
    },
  };
}

/** The approval id a park's signal (`baton.approval:<id>`) carries. */
export function approvalIdOfSignal(signal: string): string {
  return signal.slice('baton.approval:'.length);
}
