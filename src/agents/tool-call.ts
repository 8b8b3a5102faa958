import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Grant } from '../access/grant.ts';
import { redact } from '../access/redact.ts';
import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { backoffDelay, isRetryable, resolveRetryPolicy } from '../engine/retry.ts';
import { BatonError, type SerializedError, serializeErrorWithoutStack } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { EventDraft, JournalEvent, JournalEventPayloads, VerdictRecord } from '../journal/events.ts';
import { ToolOutputError, TripwireTriggeredError } from './errors.ts';
import {
  approvalSignalName,
  decidedEvents,
  PARK_TIMEOUT,
  runBefore,
  type BeforeDecision,
  type InterceptorContext,
  type ParkDecision,
  type PendingVerdict,
  type ToolCallInfo,
  type ToolOutcome,
} from './interceptors.ts';
import type { JournalMessage } from './messages.ts';
import type { AgentRuntime } from './runtime.ts';
import type { ToolDefinition } from './tool.ts';

/** Who performs a call: the actor, the chain it acts for, and the grant it holds (if any). */
export interface AgentScope {
  actor: string;
  onBehalfOf: readonly string[];
  grant?: Grant | undefined;
}

export interface ToolCallRequest {
  tool: ToolDefinition;
  /** The model's id for this call. */
  callId: string;
  /** The tool's name as the model sees it. */
  wireName: string;
  /** The arguments as the model (or caller) gave them; already checked against the tool's schema. */
  args: unknown;
  agent: string | undefined;
  scope: AgentScope;
  /**
   * True when `args` were read back from a journal that holds them redacted (a model's call to a
   * tool with `redact`, on replay): the real arguments are not known, so the call does not run again.
   */
  argsRedacted?: boolean;
}

export interface ToolCallResult {
  outcome: ToolOutcome;
  /** The tool-result message for the model. */
  message: JournalMessage;
}

/** The signal that resolves an in-doubt call at op `op`: payload {@link InDoubtResolution}. */
export function inDoubtSignalName(op: number): string {
  return `baton.resolve:${op}`;
}

/** How a person resolves an in-doubt call (`baton.resolveInDoubt`). */
export interface InDoubtResolution {
  /** `retry` runs the tool again; `skip` does not, and gives the model `result` (or says it was skipped). */
  action: 'retry' | 'skip';
  /** With `skip`: the result to give the model, e.g. what the outside system says happened. */
  result?: unknown;
  by?: string;
}

/** The tool-result message the model gets for an outcome. */
export function toolResultMessage(callId: string, wireName: string, outcome: ToolOutcome): JournalMessage {
  const output = outcome.ok
    ? typeof outcome.result === 'string'
      ? { type: 'text' as const, value: outcome.result }
      : { type: 'json' as const, value: (outcome.result ?? null) as never }
    : { type: 'error-text' as const, value: outcome.error };
  return { role: 'tool', content: [{ type: 'tool-result', toolCallId: callId, toolName: wireName, output }] };
}

/** The outcome a tool-result message carries (for replay). */
export function outcomeOfMessage(
  message: JournalMessage,
  kind: 'failed' | 'denied' | 'skipped' = 'failed',
): ToolOutcome {
  const part = (message.content as { type: string; output?: { type: string; value?: unknown } }[])[0];
  const output = part?.output;
  if (!output) return { ok: false, error: 'missing result', kind };
  if (output.type === 'error-text') return { ok: false, error: String(output.value), kind };
  return { ok: true, result: output.value };
}

type Phase = 'none' | 'running' | 'failedAttempt' | 'awaitingResolution';

/** Events that mark an attempt's start, committed just before it runs (while it holds its pool slot). */
interface AttemptStart {
  events: EventDraft[];
  consumeSignals: string[];
}

/**
 * One tool call as a durable op, effectively once:
 *
 * 1. Before it runs: interceptors decide (allow / deny / rewrite / park); the intent
 *    (`tool.requested`, with the caller's grant id and the tool's `redact` fields replaced) and the
 *    verdicts are committed together, just before the first attempt runs.
 * 2. It runs, holding a slot of the tool's pool when it names one (a long wait for the slot parks
 *    the run; nothing of the attempt is journaled until it has its slot, so a parked call is not in
 *    doubt). Its result (`tool.called`, holding the tool-result message) or failure (`tool.failed`)
 *    is committed; secret values handed to the tool are scrubbed from both, and `redactResult`
 *    fields are replaced. Failed attempts are retried by the tool's policy (`tool.attempt.failed`,
 *    `tool.retried`).
 * 3. After a crash between an attempt's start and its result, the call is in doubt
 *    (`tool.inDoubt`): `read` tools and `idempotent` tools run again with the same idempotency key;
 *    any other tool, and any call whose real arguments were redacted away, parks the run until
 *    `baton.resolveInDoubt` sends `baton.resolve:<op>` (`tool.resolved`). Nothing runs twice silently.
 */
export function callToolOp(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ToolCallRequest,
): Promise<ToolCallResult> {
  const { tool, callId, wireName, scope } = request;
  const who = { actor: scope.actor, onBehalfOf: [...scope.onBehalfOf] };
  const grant = scope.grant;
  const policy = resolveRetryPolicy(tool.retry ?? { maxAttempts: 1 });
  const redacting = tool.redact.length > 0;
  const context = (replayed: boolean, verdicts: readonly VerdictRecord[]): InterceptorContext => ({
    runId: ctx.runId,
    workflow: ctx.workflow,
    tenant: ctx.tenant,
    principal: ctx.principal,
    replayed,
    verdicts,
  });

  const ledger = runtime.ledger(ctx);
  return ctx.operations.run(`tool:${tool.name}`, async (op) => {
    const base = { op: op.op, name: tool.name, callId };
    /** The call's verdicts as journaled, for interceptors' `after` and `decided`. */
    const verdicts: VerdictRecord[] = [];
    const draft = <T extends keyof JournalEventPayloads>(
      type: T,
      payload: JournalEventPayloads[T],
    ): EventDraft => ({ type, payload, ...who });
    const info = (args: unknown): ToolCallInfo => {
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
        grant,
      };
    };
    const finish = async (
      outcome: ToolOutcome,
      message: JournalMessage,
      replayed: boolean,
      args: unknown,
    ): Promise<ToolCallResult> => {
      if (replayed) await runAfter(runtime, info(args), outcome, context(true, verdicts));
      return { outcome, message };
    };

    // ---- what the journal says happened ------------------------------------------------------
    let requested = false;
    let args = request.args;
    /** False when the arguments the call would run with exist only redacted (see ToolCallRequest.argsRedacted). */
    let argsKnown = !request.argsRedacted;
    let decision: 'allowed' | 'denied' | 'parked' = 'allowed';
    let denyReason = '';
    let denyTripwire: VerdictRecord | undefined;
    let parkSignal = '';
    let parkedBy = '';
    let parkDeadline: number | undefined;
    let phase: Phase = 'none';
    let attempt = 0;
    let retryAt: number | undefined;
    let resolutionSignal = inDoubtSignalName(op.op);
    const takeArgs = (recorded: unknown): void => {
      // A tool with `redact` journals its arguments redacted: the real ones are the caller's, if known.
      if (!redacting) args = recorded;
      else if (recorded !== undefined) argsKnown = false;
    };
    for (const event of op.recorded) {
      const payload = event.payload as Record<string, unknown>;
      switch (event.type) {
        case 'tool.requested':
          requested = true;
          takeArgs(redacting ? undefined : payload.args);
          phase = 'running';
          attempt = 1;
          break;
        case 'tool.verdict': {
          const verdict = event.payload as JournalEventPayloads['tool.verdict'];
          verdicts.push(verdict);
          if (verdict.phase === 'after') break;
          if (verdict.verdict === 'deny') {
            decision = 'denied';
            denyReason = denialText(verdict);
            if (verdict.tripwire) denyTripwire = verdict;
            phase = 'none';
          } else if (verdict.verdict === 'park') {
            decision = 'parked';
            parkSignal = verdict.signal ?? approvalSignalName(op.op);
            parkedBy = verdict.interceptor;
            parkDeadline = verdict.deadline === undefined ? undefined : Date.parse(verdict.deadline);
            phase = 'none';
          } else {
            if (verdict.verdict === 'rewrite') takeArgs(verdict.args);
            if (decision === 'parked') {
              decision = 'allowed';
              phase = 'running';
              attempt = 1;
            }
          }
          break;
        }
        case 'tool.attempt.failed':
          phase = 'failedAttempt';
          attempt = payload.attempt as number;
          retryAt = Date.parse(payload.retryAt as string);
          break;
        case 'tool.retried':
          phase = 'running';
          attempt = payload.attempt as number;
          break;
        case 'tool.inDoubt':
          if (payload.resolution === 'rerun') {
            phase = 'running';
            attempt = (payload.attempt as number) + 1;
          } else {
            phase = 'awaitingResolution';
            resolutionSignal = (payload.signal as string | undefined) ?? resolutionSignal;
          }
          break;
        case 'tool.resolved':
          if (payload.action === 'retry') {
            phase = 'running';
            attempt = payload.attempt as number;
          } else {
            const message = recordedMessage(event);
            ledger.noteStored([message]);
            return finish(outcomeOfMessage(message, 'skipped'), message, true, args);
          }
          break;
        case 'tool.called':
        case 'tool.failed': {
          const message = recordedMessage(event);
          ledger.noteStored([message]);
          return finish(outcomeOfMessage(message), message, true, args);
        }
      }
    }
    if (requested && decision === 'denied' && denyTripwire) throw tripwireError(denyTripwire, tool.name);
    if (requested && decision === 'denied') {
      const outcome: ToolOutcome = {
        ok: false,
        error: `The call was denied by ${denyReason}`,
        kind: 'denied',
      };
      return finish(outcome, toolResultMessage(callId, wireName, outcome), true, args);
    }

    // ---- live from here on -------------------------------------------------------------------
    const denied = async (reason: string): Promise<ToolCallResult> => {
      const outcome: ToolOutcome = { ok: false, error: `The call was denied by ${reason}`, kind: 'denied' };
      await runAfter(runtime, info(args), outcome, context(false, verdicts));
      return { outcome, message: toolResultMessage(callId, wireName, outcome) };
    };
    const start: AttemptStart = { events: [], consumeSignals: [] };
    const flushStart = async (): Promise<void> => {
      if (start.events.length === 0 && start.consumeSignals.length === 0) return;
      const { events, consumeSignals } = start;
      start.events = [];
      start.consumeSignals = [];
      await op.append(events, consumeSignals.length > 0 ? { consumeSignals } : {});
    };
    /** Journals now, or with the attempt's start when the call is about to run. */
    const journal = async (events: EventDraft[], signals: string[], beforeRun: boolean): Promise<void> => {
      start.events.push(...events);
      start.consumeSignals.push(...signals);
      if (!beforeRun) await flushStart();
    };

    if (!requested) {
      const decided = await runBefore(
        runtime.toolInterceptors,
        info(args),
        context(false, verdicts),
        (call, next) => ({ ...call, args: tool.input.parse(next) }),
        (next) => checkArgs(tool, next),
      );
      if (decided.final === 'park' && decided.signal === undefined) {
        const last = decided.verdicts[decided.verdicts.length - 1]!;
        last.record.signal = approvalSignalName(op.op);
      }
      const intent = draft('tool.requested', {
        ...base,
        ...(request.agent === undefined ? {} : { agent: request.agent }),
        args: journalArgs(tool, args),
        effect: tool.effect,
        idempotent: tool.idempotent,
        ...(grant === undefined ? {} : { grantId: grant.id }),
        ...(redacting ? { redacted: [...tool.redact] } : {}),
      });
      // An allowed call's intent is committed with its first attempt's start (see AttemptStart).
      await journal(
        [intent, ...verdictEvents(decided.verdicts, base, who, tool)],
        [],
        decided.final === 'allow',
      );
      verdicts.push(...decided.verdicts.map((verdict) => verdict.record));
      for (const verdict of decided.verdicts)
        if (verdict.record.verdict === 'rewrite') args = verdict.record.args;
      const refusal = decided.verdicts.at(-1)?.record;
      if (decided.final === 'deny' && refusal?.tripwire) {
        await flushStart();
        throw tripwireError(refusal, tool.name);
      }
      if (decided.final === 'deny') return denied(denialText(decided.verdicts.at(-1)!.record));
      if (decided.final === 'park') {
        const parked = decided.verdicts.at(-1)!.record;
        decision = 'parked';
        parkSignal = parked.signal!;
        parkedBy = parked.interceptor;
        parkDeadline = parked.deadline === undefined ? undefined : Date.parse(parked.deadline);
      } else {
        phase = 'none';
        attempt = 1;
      }
    } else if (decision === 'allowed' && phase === 'running') {
      // In doubt: attempt `attempt` was allowed to start and no result was journaled.
      const rerun = (tool.effect === 'read' || tool.idempotent) && argsKnown;
      const inDoubt = draft('tool.inDoubt', {
        ...base,
        attempt,
        effect: tool.effect,
        idempotent: tool.idempotent,
        resolution: rerun ? 'rerun' : 'park',
        ...(rerun ? {} : { signal: resolutionSignal }),
      });
      await journal([inDoubt], [], rerun);
      if (rerun) {
        attempt++;
        phase = 'none';
      } else {
        phase = 'awaitingResolution';
      }
    }

    if (decision === 'parked') {
      const taken = ctx.operations.takeSignal(parkSignal);
      const timedOut = taken === undefined && parkDeadline !== undefined && op.now() >= parkDeadline;
      const signal = taken ?? (timedOut ? undefined : await op.block(parkDeadline));
      const answer = (signal ? (signal.payload ?? {}) : PARK_TIMEOUT) as Partial<ParkDecision>;
      const nextArgs = answer.args;
      const checked =
        answer.approved === true && nextArgs !== undefined
          ? checkArgs(tool, nextArgs)
          : { ok: true as const };
      // Edited arguments make another call: the interceptors that allowed the one asked for (access
      // policies, guardrails) decide again on the edited one before it may run. Their verdicts go
      // into the decision, their events (tool.authorized) are journaled with it.
      let recheck: BeforeDecision<ToolCallInfo> | undefined;
      if (answer.approved === true && nextArgs !== undefined && checked.ok) {
        const parker = runtime.toolInterceptors.findIndex((interceptor) => interceptor.name === parkedBy);
        recheck = await runBefore(
          parker < 0 ? [] : runtime.toolInterceptors.slice(0, parker),
          info(nextArgs),
          context(false, verdicts),
          (call, next) => ({ ...call, args: tool.input.parse(next) }),
          (next) => checkArgs(tool, next),
        );
      }
      const reauthorized = recheck === undefined || recheck.final !== 'deny';
      const approved = answer.approved === true && checked.ok && reauthorized;
      const reason = !checked.ok
        ? `the approver's arguments fail the tool's schema: ${checked.problem}`
        : !reauthorized
          ? `the edited arguments are not authorized: ${recheck!.reason ?? denialText(recheck!.verdicts.at(-1)!.record)}`
          : answer.reason;
      const data = {
        ...(answer.by === undefined ? {} : { by: answer.by }),
        ...(nextArgs === undefined
          ? {}
          : {
              requestedCall: toolCallHash(tool.name, args, who, grant?.id),
              editedCall: toolCallHash(tool.name, nextArgs, who, grant?.id),
            }),
        ...(recheck === undefined
          ? {}
          : { reauthorized: recheck.verdicts.map((verdict) => redactedRecord(tool, verdict.record)) }),
      };
      const record: VerdictRecord = {
        interceptor: `signal:${parkSignal}`,
        phase: 'decided',
        verdict: approved ? (nextArgs === undefined ? 'allow' : 'rewrite') : 'deny',
        ...(reason === undefined ? {} : { reason }),
        ...(approved && nextArgs !== undefined ? { args: nextArgs } : {}),
        ...(Object.keys(data).length === 0 ? {} : { data }),
      };
      verdicts.push(record);
      const extra = await decidedEvents(
        runtime.toolInterceptors,
        parkedBy,
        info(args),
        {
          ...answer,
          approved,
          timedOut,
          signal: parkSignal,
          ...(recheck === undefined
            ? {}
            : {
                reauthorization: reauthorized
                  ? { decision: 'allow' as const }
                  : { decision: 'deny' as const, ...(reason === undefined ? {} : { reason }) },
              }),
        },
        context(false, verdicts),
      );
      await journal(
        [
          draft('tool.verdict', { ...base, ...redactedRecord(tool, record) }),
          ...(recheck?.verdicts.flatMap((verdict) => verdict.events) ?? []),
          ...extra,
        ],
        signal ? [signal.signalId] : [],
        approved && argsKnown,
      );
      if (!approved) return denied(denialText(record));
      if (nextArgs !== undefined) {
        args = nextArgs;
        argsKnown = true;
      }
      phase = 'none';
      attempt = 1;
    }

    if (phase === 'awaitingResolution') {
      const signal = ctx.operations.takeSignal(resolutionSignal) ?? (await op.block());
      const resolution = (signal.payload ?? {}) as Partial<InDoubtResolution>;
      if (resolution.action === 'skip') {
        const outcome: ToolOutcome =
          resolution.result === undefined
            ? {
                ok: false,
                kind: 'skipped',
                error:
                  'This call was interrupted and a person chose not to run it again; it may or may not have taken effect.',
              }
            : { ok: true, result: resolution.result };
        const message = toolResultMessage(callId, wireName, outcome);
        await op.append(
          [
            draft('tool.resolved', {
              ...base,
              action: 'skip',
              attempt,
              ...(resolution.by === undefined ? {} : { by: resolution.by }),
              messages: [message],
            }),
          ],
          { consumeSignals: [signal.signalId] },
        );
        ledger.noteStored([message]);
        await runAfter(runtime, info(args), outcome, context(false, verdicts));
        return { outcome, message };
      }
      attempt++;
      const resolved = draft('tool.resolved', {
        ...base,
        action: 'retry',
        attempt,
        ...(resolution.by === undefined ? {} : { by: resolution.by }),
      });
      await journal([resolved], [signal.signalId], argsKnown);
      phase = 'none';
    }

    const failCall = async (serialized: SerializedError, current: number): Promise<ToolCallResult> => {
      const outcome: ToolOutcome = {
        ok: false,
        error: `${serialized.name}: ${serialized.message}`,
        kind: 'failed',
      };
      const message = toolResultMessage(callId, wireName, outcome);
      start.events.push(
        draft('tool.failed', { ...base, attempt: current, error: serialized, messages: [message] }),
      );
      await flushStart();
      ledger.noteStored([message]);
      await runAfter(runtime, info(args), outcome, context(false, verdicts));
      return { outcome, message };
    };

    // ---- run it ------------------------------------------------------------------------------
    for (;;) {
      if (phase === 'failedAttempt') {
        const wait = (retryAt ?? 0) - op.now();
        if (wait > runtime.inlineRetryMs) await op.block(retryAt);
        else if (wait > 0) await op.active(() => delay(wait, undefined, { signal: op.signal }));
        attempt++;
        await journal([draft('tool.retried', { ...base, attempt })], [], argsKnown);
        phase = 'none';
      }
      const current = attempt;
      if (!argsKnown) {
        // The real arguments were redacted from the journal and this activation never had them.
        const problem = `Tool '${tool.name}' cannot run again: its arguments (${tool.redact.join(', ')}) were redacted from the journal, and this activation of the run never received them.`;
        return failCall(
          { name: 'ToolArgumentsRedactedError', message: problem, code: 'TOOL_ARGUMENTS_REDACTED' },
          current,
        );
      }
      let startFailure: { error: unknown } | undefined;
      const attemptCall = async (): Promise<unknown> => {
        try {
          await flushStart();
        } catch (error) {
          startFailure = { error };
          throw error;
        }
        return execute(ctx, runtime, op, tool, args, who, grant, current);
      };
      const started = performance.now();
      let result: { ok: true; value: unknown } | { ok: false; error: unknown };
      try {
        const value =
          tool.pool === undefined
            ? await op.active(attemptCall)
            : await op.withPool(tool.pool, {}, attemptCall);
        result = { ok: true, value };
      } catch (error) {
        if (startFailure) throw startFailure.error;
        result = { ok: false, error };
      }
      const latencyMs = Math.round(performance.now() - started);
      if (result.ok) {
        let outcome: ToolOutcome = { ok: true, result: resultForModel(runtime, tool, result.value) };
        const after = await runAfter(runtime, info(args), outcome, context(false, verdicts));
        if (after.rewrite) outcome = { ok: true, result: after.rewrite.result };
        let message = toolResultMessage(callId, wireName, outcome);
        const problem = journalProblem(message, ctx.operations.maxPayloadBytes);
        if (problem) {
          outcome = { ok: false, error: problem, kind: 'failed' };
          message = toolResultMessage(callId, wireName, outcome);
        }
        await op.append([
          ...verdictEvents(after.verdicts, base, who, tool),
          outcome.ok
            ? draft('tool.called', { ...base, attempt: current, latencyMs, messages: [message] })
            : draft('tool.failed', {
                ...base,
                attempt: current,
                error: { name: 'ToolOutputError', message: problem!, code: 'TOOL_OUTPUT_INVALID' },
                messages: [message],
              }),
        ]);
        ledger.noteStored([message]);
        return { outcome, message };
      }
      if (op.signal.aborted) throw op.signal.reason;
      const error = result.error;
      const serialized = runtime.scrub(serializeErrorWithoutStack(error));
      if (isRetryable(error, policy) && current < policy.maxAttempts) {
        const retryAfterMs = BatonError.isInstance(error) ? error.retryAfterMs : undefined;
        retryAt = op.now() + backoffDelay(policy, current, retryAfterMs);
        await op.append([
          draft('tool.attempt.failed', {
            ...base,
            attempt: current,
            error: serialized,
            retryAt: new Date(retryAt).toISOString(),
          }),
        ]);
        phase = 'failedAttempt';
        continue;
      }
      return failCall(serialized, current);
    }
  });
}

/** The arguments as journaled: the tool's `redact` fields replaced. */
export function journalArgs(tool: ToolDefinition, args: unknown): unknown {
  return tool.redact.length === 0 ? args : redact(args, tool.redact);
}

/** A verdict as journaled: rewritten arguments with the tool's `redact` fields replaced. */
function redactedRecord(tool: ToolDefinition, record: VerdictRecord): VerdictRecord {
  return record.args === undefined || tool.redact.length === 0
    ? record
    : { ...record, args: redact(record.args, tool.redact) };
}

/** A tool's value as the model (and the journal) may see it: secrets scrubbed, `redactResult` fields replaced. */
function resultForModel(runtime: AgentRuntime, tool: ToolDefinition, value: unknown): unknown {
  const scrubbed = runtime.scrub(value);
  return tool.redactResult.length === 0 ? scrubbed : redact(scrubbed, tool.redactResult);
}

/** What the model is told about a denial; built from the journaled verdict, so replay says the same. */
/** The error a tripwire deny stops the agent with. */
function tripwireError(record: VerdictRecord, tool: string): TripwireTriggeredError {
  const guardrail = (record.data as { guardrail?: unknown } | undefined)?.guardrail;
  return new TripwireTriggeredError({
    by: typeof guardrail === 'string' ? guardrail : record.interceptor,
    stage: 'tool.before',
    reason: record.reason ?? 'denied',
    target: `tool '${tool}'`,
  });
}

function denialText(record: Pick<VerdictRecord, 'interceptor' | 'reason' | 'data'>): string {
  const by = typeof record.data?.by === 'string' ? ` (${record.data.by})` : '';
  return `${record.interceptor}${by}: ${record.reason ?? 'denied'}`;
}

/** Checks arguments against the tool's input schema, with a message a model can act on. */
export function checkArgs(
  tool: ToolDefinition,
  args: unknown,
): { ok: true } | { ok: false; problem: string } {
  const parsed = tool.input.safeParse(args);
  if (parsed.success) return { ok: true };
  return { ok: false, problem: z.prettifyError(parsed.error) };
}

/** Runs one attempt; throws what the tool threw (or ToolOutputError), so a pool can classify it. */
async function execute(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  op: OperationHandle,
  tool: ToolDefinition,
  args: unknown,
  who: { actor: string; onBehalfOf: string[] },
  grant: Grant | undefined,
  attempt: number,
): Promise<unknown> {
  const parsed = tool.input.parse(args);
  const value = await tool.execute(parsed, {
    idempotencyKey: op.idempotencyKey,
    runId: ctx.runId,
    actor: who.actor,
    onBehalfOf: who.onBehalfOf,
    signal: op.signal,
    secrets: runtime.secretsFor({
      runId: ctx.runId,
      tenant: ctx.tenant,
      tool: tool.name,
      actor: who.actor,
      onBehalfOf: who.onBehalfOf,
      ...(grant === undefined ? {} : { grant }),
    }),
    attempt,
  });
  if (tool.output) {
    const checked = tool.output.safeParse(value);
    if (!checked.success)
      throw new ToolOutputError({ tool: tool.name, problem: z.prettifyError(checked.error) });
  }
  return value;
}

async function runAfter(
  runtime: AgentRuntime,
  call: ToolCallInfo,
  outcome: ToolOutcome,
  context: InterceptorContext,
): Promise<{ verdicts: PendingVerdict[]; rewrite?: { result: unknown } }> {
  const verdicts: PendingVerdict[] = [];
  let rewrite: { result: unknown } | undefined;
  let current = outcome;
  for (const interceptor of runtime.toolInterceptors) {
    if (!interceptor.after) continue;
    const answer = await interceptor.after(call, current, context);
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

function verdictEvents(
  verdicts: readonly PendingVerdict[],
  base: { op: number; name: string; callId: string },
  who: { actor: string; onBehalfOf: string[] },
  tool: ToolDefinition,
): EventDraft[] {
  return verdicts.flatMap((verdict) => [
    { type: 'tool.verdict', payload: { ...base, ...redactedRecord(tool, verdict.record) }, ...who },
    ...verdict.events,
  ]);
}

function recordedMessage(event: JournalEvent): JournalMessage {
  const message = (event.payload as { messages?: JournalMessage[] }).messages?.[0];
  if (!message) throw new Error(`Event seq ${event.seq} (${event.type}) holds no result message.`);
  return message;
}

/** Why a tool-result message cannot be journaled (not JSON, too large), or undefined. */
function journalProblem(message: JournalMessage, limit: number): string | undefined {
  try {
    const bytes = Buffer.byteLength(canonicalJson(message, 'The tool result'));
    if (bytes > limit) {
      return `The tool's result is ${bytes} bytes, over the journal's limit of ${limit} bytes; return a reference to large data instead.`;
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The canonical hash of a tool call: the tool, its arguments, who calls it (actor and the chain it
 * acts for) and the grant it holds. An approval names the hash of the call it was asked for, and of
 * the call it approved when the approver edited the arguments, so the decision binds one exact call.
 */
export function toolCallHash(
  tool: string,
  args: unknown,
  who: { actor: string; onBehalfOf: readonly string[] },
  grantId: string | undefined,
): string {
  const call = {
    tool,
    args: args ?? null,
    actor: who.actor,
    onBehalfOf: who.onBehalfOf,
    grant: grantId ?? null,
  };
  return createHash('sha256')
    .update(canonicalJson(call, `The call of tool '${tool}'`))
    .digest('hex');
}
