import { settled, type Settled } from '../engine/intercepted-operation.ts';
import type { VerdictRecord } from '../journal/events.ts';
import { awaitPark, decideBefore, decidedRecord, parkOf, type Park } from './call-decision.ts';
import { verdictEvents } from './intercepted-call.ts';
import { decidedEvents, runBefore, type BeforeDecision, type ToolCallInfo } from './interceptors.ts';
import {
  checkArgs,
  denialText,
  journalArgs,
  redactedRecord,
  toolCallHash,
  tripwireError,
} from './tool-call-journal.ts';
import type { ToolCall } from './tool-call-state.ts';
import type { ToolCallResult } from './tool-call-types.ts';
import { resolveInDoubt, settleInDoubt } from './tool-in-doubt.ts';

/**
 * The decide phase of a tool call: the tool interceptors decide a new call (its intent and verdicts
 * committed with its first attempt's start, or at once when it is denied or parked); a call whose
 * attempt was running at a crash is in doubt (src/agents/tool-in-doubt.ts); a park is waited out
 * and its decision committed. A call that ends here (denied, skipped) answers without running.
 */
export async function decideToolCall(call: ToolCall): Promise<Settled<ToolCallResult> | undefined> {
  const { state } = call;
  if (!state.requested) {
    const refused = await decideNew(call);
    if (refused) return refused;
  } else if (state.decision === 'allowed' && state.phase === 'running') {
    await settleInDoubt(call);
  }
  if (state.decision === 'parked') {
    const refused = await settlePark(call, state.park!);
    if (refused) return refused;
  }
  if (state.phase === 'awaitingResolution') return resolveInDoubt(call);
  return undefined;
}

const withArgs = (call: ToolCall) => (info: ToolCallInfo, next: unknown) => ({
  ...info,
  args: call.request.tool.input.parse(next),
});

/** Runs the interceptors' `before` on a call not yet requested, and journals its intent. */
async function decideNew(call: ToolCall): Promise<Settled<ToolCallResult> | undefined> {
  const { state, request, runtime, op } = call;
  const { tool } = request;
  const decided = await decideBefore(
    op.op,
    runtime.toolInterceptors,
    call.info(state.args),
    call.context(false),
    withArgs(call),
    (next) => checkArgs(tool, next),
  );
  const intent = call.draft('tool.requested', {
    ...call.base,
    ...(request.agent === undefined ? {} : { agent: request.agent }),
    args: journalArgs(tool, state.args),
    effect: tool.effect,
    idempotent: tool.idempotent,
    ...(call.grant === undefined ? {} : { grantId: call.grant.id }),
    ...(call.redacting ? { redacted: [...tool.redact] } : {}),
  });
  // An allowed call's intent is committed with its first attempt's start.
  await call.journal([intent, ...verdictEvents(call, decided.verdicts)], [], decided.final === 'allow');
  state.verdicts.push(...decided.verdicts.map((verdict) => verdict.record));
  for (const verdict of decided.verdicts)
    if (verdict.record.verdict === 'rewrite') state.args = verdict.record.args;
  const last = decided.verdicts.at(-1)?.record;
  if (decided.final === 'deny' && last?.tripwire) {
    await call.flushStart();
    throw tripwireError(last, tool.name);
  }
  if (decided.final === 'deny') return settled(call.denied(denialText(last!)));
  if (decided.final === 'park') {
    state.decision = 'parked';
    state.park = parkOf(last!, op.op);
  } else {
    state.phase = 'none';
    state.attempt = 1;
  }
  return undefined;
}

/**
 * Waits for a parked call's decision. Edited arguments make another call: the interceptors that
 * allowed the one asked for (access policies, guardrails) decide again on the edited one before
 * it may run. Their verdicts go into the decision, their events (tool.authorized) are journaled
 * with it; the decision is committed with the attempt's start when the call runs.
 */
async function settlePark(call: ToolCall, park: Park): Promise<Settled<ToolCallResult> | undefined> {
  const { state, request, ctx, op, runtime } = call;
  const { tool } = request;
  const { answer, timedOut, signal } = await awaitPark(ctx, op, park);
  const nextArgs = answer.args;
  const checked =
    answer.approved === true && nextArgs !== undefined ? checkArgs(tool, nextArgs) : { ok: true as const };
  const recheck =
    answer.approved === true && nextArgs !== undefined && checked.ok
      ? await reauthorize(call, park, nextArgs)
      : undefined;
  const reauthorized = recheck === undefined || recheck.final !== 'deny';
  const approved = answer.approved === true && checked.ok && reauthorized;
  const reason = !checked.ok
    ? `the approver's arguments fail the tool's schema: ${checked.problem}`
    : !reauthorized
      ? `the edited arguments are not authorized: ${recheck.reason ?? denialText(recheck.verdicts.at(-1)!.record)}`
      : answer.reason;
  const record = decidedRecord(park, approved ? (nextArgs === undefined ? 'allow' : 'rewrite') : 'deny', {
    reason,
    args: approved && nextArgs !== undefined ? nextArgs : undefined,
    data: decisionData(call, answer.by, nextArgs, recheck),
  });
  state.verdicts.push(record);
  const extra = await decidedEvents(
    runtime.toolInterceptors,
    park.by,
    call.info(state.args),
    {
      ...answer,
      approved,
      timedOut,
      signal: park.signal,
      ...(recheck === undefined
        ? {}
        : {
            reauthorization: reauthorized
              ? { decision: 'allow' as const }
              : { decision: 'deny' as const, ...(reason === undefined ? {} : { reason }) },
          }),
    },
    call.context(false),
  );
  await call.journal(
    [call.verdictDraft(record), ...(recheck?.verdicts.flatMap((verdict) => verdict.events) ?? []), ...extra],
    signal ? [signal.signalId] : [],
    approved && state.argsKnown,
  );
  if (!approved) return settled(call.denied(denialText(record)));
  if (nextArgs !== undefined) {
    state.args = nextArgs;
    state.argsKnown = true;
  }
  state.phase = 'none';
  state.attempt = 1;
  return undefined;
}

/** The interceptors before the one that parked decide again on the approver's edited arguments. */
function reauthorize(call: ToolCall, park: Park, nextArgs: unknown): Promise<BeforeDecision<ToolCallInfo>> {
  const interceptors = call.runtime.toolInterceptors;
  const parker = interceptors.findIndex((interceptor) => interceptor.name === park.by);
  return runBefore(
    parker < 0 ? [] : interceptors.slice(0, parker),
    call.info(nextArgs),
    call.context(false),
    withArgs(call),
    (next) => checkArgs(call.request.tool, next),
  );
}

/** What the decision records besides its verdict: who decided, the hashes of the call asked for and the one approved, the re-authorization. */
function decisionData(
  call: ToolCall,
  by: string | undefined,
  nextArgs: unknown,
  recheck: BeforeDecision<ToolCallInfo> | undefined,
): Record<string, unknown> | undefined {
  const { tool } = call.request;
  const grantId = call.grant?.id;
  const data = {
    ...(by === undefined ? {} : { by }),
    ...(nextArgs === undefined
      ? {}
      : {
          requestedCall: toolCallHash(tool.name, call.state.args, call.who, grantId),
          editedCall: toolCallHash(tool.name, nextArgs, call.who, grantId),
        }),
    ...(recheck === undefined
      ? {}
      : {
          reauthorized: recheck.verdicts.map((verdict): VerdictRecord =>
            redactedRecord(tool, verdict.record),
          ),
        }),
  };
  return Object.keys(data).length === 0 ? undefined : data;
}
