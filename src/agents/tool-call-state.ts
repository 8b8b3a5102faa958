import type { Grant } from '../access/grant.ts';
import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import type { ResolvedRetryPolicy } from '../engine/retry.ts';
import type { EventDraft } from '../journal/events.ts';
import { undecided, type DecisionState } from './call-decision.ts';
import { interceptedCall, type InterceptedCall } from './intercepted-call.ts';
import type { PendingVerdict, ToolCallInfo, ToolOutcome } from './interceptors.ts';
import type { AgentRuntime } from './runtime.ts';
import { inDoubtSignalName, type ToolCallRequest, type ToolCallResult } from './tool-call-types.ts';
import { redactedRecord, toolResultMessage } from './tool-call-journal.ts';

/**
 * Where a tool call's attempts stand: none started, one running (in doubt after a crash), one
 * failed and waiting to be retried, or an in-doubt call waiting for a person.
 */
export type AttemptPhase = 'none' | 'running' | 'failedAttempt' | 'awaitingResolution';

export interface ToolCallState extends DecisionState {
  /** True once the call's intent (`tool.requested`) is journaled. */
  requested: boolean;
  args: unknown;
  /** False when the arguments the call would run with exist only redacted (see ToolCallRequest.argsRedacted). */
  argsKnown: boolean;
  phase: AttemptPhase;
  attempt: number;
  retryAt: number | undefined;
  resolutionSignal: string;
}

/** One tool call in progress: what every phase needs of it (src/agents/tool-call.ts). */
export interface ToolCall extends InterceptedCall<ToolCallRequest, ToolCallState> {
  readonly grant: Grant | undefined;
  readonly redacting: boolean;
  readonly base: { op: number; name: string; callId: string };
  info(args: unknown): ToolCallInfo;
  /**
   * Journals events (and consumes signals) now, or, with `beforeRun`, with the next attempt's
   * start: an allowed call's intent is committed just before it runs, holding its pool slot.
   */
  journal(events: readonly EventDraft[], signals: readonly string[], beforeRun: boolean): Promise<void>;
  /** Commits what waits for the attempt's start (see `journal`), if anything. */
  flushStart(extra?: readonly EventDraft[]): Promise<void>;
  /** The result of a call that does not run: a denial told to the model as a tool error. */
  denied(reason: string): Promise<ToolCallResult>;
}

export function toolCall(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ToolCallRequest,
  policy: ResolvedRetryPolicy,
  op: OperationHandle,
): ToolCall {
  const { tool, callId, scope } = request;
  const state: ToolCallState = {
    ...undecided(),
    requested: false,
    args: request.args,
    argsKnown: !request.argsRedacted,
    phase: 'none',
    attempt: 0,
    retryAt: undefined,
    resolutionSignal: inDoubtSignalName(op.op),
  };
  const start = { events: [] as EventDraft[], consumeSignals: [] as string[] };
  const common = interceptedCall(ctx, runtime, request, policy, op, state);
  const { who } = common;
  const call: ToolCall = {
    ...common,
    grant: scope.grant,
    redacting: tool.redact.length > 0,
    base: { op: op.op, name: tool.name, callId },
    info: (args) => {
      const parsed = tool.input.safeParse(args);
      return {
        runId: ctx.runId,
        op: op.op,
        callId,
        tool,
        // Replayed arguments of a tool with `redact` may no longer pass its schema.
        args: parsed.success ? parsed.data : args,
        agent: request.agent,
        actor: who.actor,
        onBehalfOf: who.onBehalfOf,
        idempotencyKey: op.idempotencyKey,
        grant: scope.grant,
      };
    },
    verdictDraft: (record) => common.draft('tool.verdict', { ...call.base, ...redactedRecord(tool, record) }),
    journal: async (events, signals, beforeRun) => {
      start.events.push(...events);
      start.consumeSignals.push(...signals);
      if (!beforeRun) await call.flushStart();
    },
    flushStart: async (extra = []) => {
      start.events.push(...extra);
      if (start.events.length === 0 && start.consumeSignals.length === 0) return;
      const { events, consumeSignals } = start;
      start.events = [];
      start.consumeSignals = [];
      await op.append(events, consumeSignals.length > 0 ? { consumeSignals } : {});
    },
    denied: async (reason) => {
      const outcome: ToolOutcome = { ok: false, error: `The call was denied by ${reason}`, kind: 'denied' };
      await runToolAfter(call, outcome, false);
      return { outcome, message: toolResultMessage(callId, request.wireName, outcome) };
    },
  };
  return call;
}

/**
 * Tells the tool interceptors' `after` the outcome (live or replayed). A live success may be
 * rewritten (redaction): the rewrites' verdicts are returned, to journal with the result.
 */
export async function runToolAfter(
  call: ToolCall,
  outcome: ToolOutcome,
  replayed: boolean,
): Promise<{ verdicts: PendingVerdict[]; rewrite?: { result: unknown } }> {
  const verdicts: PendingVerdict[] = [];
  const info = call.info(call.state.args);
  const context = call.context(replayed);
  let rewrite: { result: unknown } | undefined;
  let current = outcome;
  for (const interceptor of call.runtime.toolInterceptors) {
    if (!interceptor.after) continue;
    const answer = await interceptor.after(info, current, context);
    if (!answer || answer.type !== 'rewrite' || !current.ok || context.replayed) continue;
    rewrite = { result: answer.result };
    current = { ok: true, result: answer.result };
    verdicts.push({
      record: {
        interceptor: interceptor.name,
        phase: 'after',
        verdict: 'rewrite',
        reason: answer.reason,
        ...(answer.data === undefined ? {} : { data: answer.data }),
      },
      events: answer.events ?? [],
    });
  }
  return { verdicts, ...(rewrite ? { rewrite } : {}) };
}
