import { zod } from '../lazy-module.ts';
import type { ToolDefinition } from '../agents/tool.ts';
import type { PolicyEngine } from '../access/policy-engine.ts';
import { InvalidArgumentError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEvent, JournalEventPayloads } from '../journal/events.ts';
import type { ApprovalQuery } from '../store/approval-query.ts';
import {
  isTerminal,
  type NewSignal,
  type RunFilter,
  type RunRecord,
  type SignalRecord,
  type TenantScope,
} from '../store/store.ts';
import { approvalRight } from './approval-rights.ts';
import {
  finalDeadline,
  openStage,
  type ApprovalKind,
  type ApprovalSignalPayload,
} from './approval-assignment.ts';
import {
  ApprovalAlreadyDecidedError,
  ApprovalClosedError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  ApprovalNotFoundError,
  InvalidApprovalArgumentsError,
} from './approval-errors.ts';

/** What the desk needs from Baton (the door): runs, journals, signals. */
export interface ApprovalDeskDeps {
  /** The run, or RunNotFoundError (scoped to the tenant when given). */
  getRun(runId: string, scope?: TenantScope): Promise<RunRecord>;
  readEvents(runId: string): Promise<JournalEvent[]>;
  pendingSignals(runId: string): Promise<SignalRecord[]>;
  sendSignal(signal: NewSignal, scope?: TenantScope): Promise<void>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /** The store's approval inbox query, when it has one (else the desk reads unfinished runs' journals). */
  pendingApprovals?: (query: ApprovalQuery) => Promise<JournalEvent<'approval.requested'>[]>;
  clock(): number;
  policies: PolicyEngine | undefined;
  /** Tools gated in this process: their real schema checks edited arguments. */
  tools: ReadonlyMap<string, ToolDefinition>;
}

export interface ApproveOptions {
  /** Who decides (`user:bob`). */
  as: string;
  comment?: string;
  /** Edited arguments for a gated tool call (checked against the tool's schema), or edited data for ctx.approval. */
  args?: unknown;
  /** The caller's tenant: a run of another tenant is not found. */
  tenant?: string;
}

export type DenyOptions = Omit<ApproveOptions, 'args'>;

/** A decision sent to a run; the run journals it (`approval.decided`) when it takes it. */
export interface ApprovalReceipt {
  runId: string;
  approvalId: string;
  decision: 'approved' | 'denied';
  by: string;
}

/** An approval waiting for a person, as the inbox lists it. */
export interface PendingApproval {
  runId: string;
  workflow: string;
  tenant: string;
  approvalId: string;
  kind: ApprovalKind;
  /** The action (`refund.large`), the gated tool's name, `budget.extend` or `loop.continue`. */
  action: string;
  summary: string;
  data?: unknown;
  requestedBy: string;
  requestedAt: string;
  /** Who may decide now (as named) and the principals that resolved to; empty: the default rule. */
  approvers: string[];
  members: string[];
  /** 0 for the first stage; higher after escalations. */
  stage: number;
  /** When the open stage ends. */
  until?: string;
  tool?: { name: string; effect: string; args: unknown };
}

export interface ApprovalsQuery {
  /** Only approvals `as` may decide. */
  mine?: boolean;
  as?: string;
  tenant?: string;
  runId?: string;
  limit?: number;
}

/**
 * Where people decide approvals: `approve`, `deny` and the inbox (`list`). Every check happens
 * before anything is sent — the approval exists and is open, the run has not finished, the time
 * has not run out, the approver has the right (see approval-rights.ts), edited arguments pass the
 * tool's schema — and a failed check sends nothing. The decision travels as the signal
 * `baton.approval:<id>` with a fixed id, so a second decision can never replace the first.
 */
export class ApprovalDesk {
  readonly #deps: ApprovalDeskDeps;

  constructor(deps: ApprovalDeskDeps) {
    this.#deps = deps;
  }

  approve(runId: string, approvalId: string, options: ApproveOptions): Promise<ApprovalReceipt> {
    return this.#decide(runId, approvalId, true, options);
  }

  deny(runId: string, approvalId: string, options: DenyOptions): Promise<ApprovalReceipt> {
    if ((options as ApproveOptions).args !== undefined) {
      return Promise.reject(
        new InvalidArgumentError('A denial takes no arguments: give --args only when approving.'),
      );
    }
    return this.#decide(runId, approvalId, false, options);
  }

  async #decide(
    runId: string,
    approvalId: string,
    approved: boolean,
    options: ApproveOptions,
  ): Promise<ApprovalReceipt> {
    if (typeof options?.as !== 'string' || options.as === '') {
      throw new InvalidArgumentError(`Say who decides: { as: 'user:bob' } (--as on the command line).`);
    }
    if (options.comment !== undefined && typeof options.comment !== 'string')
      throw new InvalidArgumentError('A comment is a string.');
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await this.#deps.getRun(runId, scope);
    const events = await this.#deps.readEvents(run.runId);
    const { requests, decided } = approvalsOf(events);
    const request = requests.get(approvalId);
    if (!request) {
      throw new ApprovalNotFoundError({
        runId: run.runId,
        approvalId,
        pending: [...requests.keys()].filter((id) => !decided.has(id)),
      });
    }
    const decision = decided.get(approvalId);
    if (decision)
      throw new ApprovalAlreadyDecidedError({
        runId: run.runId,
        approvalId,
        decision: decision.decision,
        by: decision.by,
      });
    if (isTerminal(run.status))
      throw new ApprovalClosedError({ runId: run.runId, approvalId, status: run.status });
    const sent = (await this.#deps.pendingSignals(run.runId)).find(
      (signal) => signal.name === request.signal,
    );
    if (sent) throw alreadySent(run.runId, approvalId, sent);
    const now = this.#deps.clock();
    const open = openStage(request.stages, now);
    if (!open)
      throw new ApprovalExpiredError({
        runId: run.runId,
        approvalId,
        until: new Date(finalDeadline(request.stages)!).toISOString(),
      });
    const right = approvalRight({
      approver: options.as,
      run,
      request,
      stage: open.stage,
      policies: this.#deps.policies,
      now,
    });
    if (!right.ok)
      throw new ApprovalForbiddenError({
        approver: options.as,
        runId: run.runId,
        approvalId,
        reason: right.reason,
      });
    if (options.args !== undefined) this.#checkArgs(request, options.args);
    const payload: ApprovalSignalPayload = {
      approved,
      by: options.as,
      ...(options.comment === undefined ? {} : { reason: options.comment, comment: options.comment }),
      ...(options.args === undefined ? {} : { args: options.args }),
      ...(right.policies === undefined ? {} : { policies: right.policies }),
    };
    const signalId = `approval:${run.runId}:${approvalId}`;
    await this.#deps.sendSignal(
      { signalId, runId: run.runId, name: request.signal, payload, sentBy: options.as, sentAt: now },
      scope,
    );
    // Two people deciding at once: the signal id is fixed, so only the first is kept.
    const kept = (await this.#deps.pendingSignals(run.runId)).find((signal) => signal.signalId === signalId);
    if (
      kept &&
      (kept.sentBy !== options.as ||
        (kept.payload as ApprovalSignalPayload | undefined)?.approved !== approved)
    ) {
      throw alreadySent(run.runId, approvalId, kept);
    }
    return { runId: run.runId, approvalId, decision: approved ? 'approved' : 'denied', by: options.as };
  }

  #checkArgs(request: JournalEventPayloads['approval.requested'], args: unknown): void {
    const approvalId = request.approvalId;
    if (request.kind === 'approval') {
      canonicalJson(args, `The edited data of approval '${approvalId}'`);
      return;
    }
    if (request.kind !== 'tool' || !request.tool) {
      throw new InvalidApprovalArgumentsError({
        approvalId,
        problem: `a ${request.kind} approval takes no arguments; only gated tool calls do.`,
      });
    }
    const schema =
      this.#deps.tools.get(request.tool.name)?.input ?? zod().fromJSONSchema(request.tool.inputSchema);
    const parsed = schema.safeParse(args);
    if (!parsed.success)
      throw new InvalidApprovalArgumentsError({
        approvalId,
        tool: request.tool.name,
        problem: zod().prettifyError(parsed.error),
      });
  }

  /** The approvals waiting for a decision, oldest first; with `mine`, only those `as` may decide now. */
  async list(query: ApprovalsQuery = {}): Promise<PendingApproval[]> {
    if (query.mine && (typeof query.as !== 'string' || query.as === '')) {
      throw new InvalidArgumentError(
        `'mine' needs to know who you are: { mine: true, as: 'user:bob' } (--as).`,
      );
    }
    const limit = query.limit ?? 100;
    const requested = await this.#requested(query);
    const now = this.#deps.clock();
    const runs = new Map<string, { run: RunRecord; signals: SignalRecord[] }>();
    const out: PendingApproval[] = [];
    for (const event of requested) {
      if (out.length >= limit) break;
      let entry = runs.get(event.runId);
      if (!entry) {
        const run = await this.#deps.getRun(event.runId);
        entry = { run, signals: await this.#deps.pendingSignals(event.runId) };
        runs.set(event.runId, entry);
      }
      const request = event.payload;
      if (isTerminal(entry.run.status) || entry.signals.some((signal) => signal.name === request.signal))
        continue;
      const open = openStage(request.stages, now);
      if (!open) continue;
      if (query.mine) {
        const right = approvalRight({
          approver: query.as!,
          run: entry.run,
          request,
          stage: open.stage,
          policies: this.#deps.policies,
          now,
        });
        if (!right.ok) continue;
      }
      out.push({
        runId: event.runId,
        workflow: entry.run.workflow,
        tenant: entry.run.tenant,
        approvalId: request.approvalId,
        kind: request.kind,
        action: request.name,
        summary: request.summary,
        ...(request.data === undefined ? {} : { data: request.data }),
        requestedBy: request.requestedBy,
        requestedAt: event.at,
        approvers: open.stage.approvers,
        members: open.stage.members,
        stage: open.index,
        ...(open.stage.until === undefined ? {} : { until: open.stage.until }),
        ...(request.tool
          ? { tool: { name: request.tool.name, effect: request.tool.effect, args: request.tool.args } }
          : {}),
      });
    }
    return out;
  }

  async #requested(query: ApprovalsQuery): Promise<JournalEvent<'approval.requested'>[]> {
    const filter = {
      ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
      ...(query.runId === undefined ? {} : { runId: query.runId }),
    };
    if (this.#deps.pendingApprovals) return this.#deps.pendingApprovals({ ...filter, limit: 1000 });
    // No inbox query in this store: read the journals of unfinished runs.
    const runs = query.runId
      ? [
          await this.#deps.getRun(
            query.runId,
            query.tenant === undefined ? undefined : { tenant: query.tenant },
          ),
        ]
      : await this.#deps.listRuns({
          ...(query.tenant === undefined ? {} : { tenant: query.tenant }),
          status: ['pending', 'running', 'waiting'],
          limit: 1000,
        });
    const out: JournalEvent<'approval.requested'>[] = [];
    for (const run of runs) {
      const events = await this.#deps.readEvents(run.runId);
      const { decided } = approvalsOf(events);
      for (const event of events) {
        if (
          event.type === 'approval.requested' &&
          !decided.has((event.payload as { approvalId: string }).approvalId)
        ) {
          out.push(event);
        }
      }
    }
    return out.sort((a, b) => a.at.localeCompare(b.at) || a.runId.localeCompare(b.runId) || a.seq - b.seq);
  }
}

/** A run's approvals, asked and decided, by id. */
export function approvalsOf(events: readonly JournalEvent[]): {
  requests: Map<string, JournalEventPayloads['approval.requested']>;
  decided: Map<string, JournalEventPayloads['approval.decided']>;
} {
  const requests = new Map<string, JournalEventPayloads['approval.requested']>();
  const decided = new Map<string, JournalEventPayloads['approval.decided']>();
  for (const event of events) {
    if (event.type === 'approval.requested') {
      const payload = event.payload;
      requests.set(payload.approvalId, payload);
    } else if (event.type === 'approval.decided') {
      const payload = event.payload;
      decided.set(payload.approvalId, payload);
    }
  }
  return { requests, decided };
}

function alreadySent(runId: string, approvalId: string, signal: SignalRecord): ApprovalAlreadyDecidedError {
  const payload = signal.payload as Partial<ApprovalSignalPayload> | undefined;
  return new ApprovalAlreadyDecidedError({
    runId,
    approvalId,
    decision: `${payload?.approved === true ? 'approved' : 'denied'} (the run has yet to take the decision)`,
    by: signal.sentBy,
  });
}
