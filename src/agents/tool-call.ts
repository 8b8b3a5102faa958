import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { backoffDelay, isRetryable, resolveRetryPolicy } from '../engine/retry.ts';
import { BatonError, serializeError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { EventDraft, JournalEvent, JournalEventPayloads, VerdictRecord } from '../journal/events.ts';
import { ToolOutputError } from './errors.ts';
import {
  approvalSignalName,
  decidedEvents,
  PARK_TIMEOUT,
  runBefore,
  type InterceptorContext,
  type ParkDecision,
  type PendingVerdict,
  type ToolCallInfo,
  type ToolOutcome,
} from './interceptors.ts';
import type { JournalMessage } from './messages.ts';
import type { AgentRuntime } from './runtime.ts';
import type { ToolDefinition } from './tool.ts';

/** Who performs a call: the actor and the chain it acts for. */
export interface AgentScope {
  actor: string;
  onBehalfOf: readonly string[];
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

/**
 * One tool call as a durable op, effectively once:
 *
 * 1. Before it runs: interceptors decide (allow / deny / rewrite / park); the intent
 *    (`tool.requested`) and the verdicts are committed together.
 * 2. It runs; its result (`tool.called`, holding the tool-result message) or failure (`tool.failed`)
 *    is committed. Failed attempts are retried by the tool's policy (`tool.attempt.failed`,
 *    `tool.retried`).
 * 3. After a crash between an attempt's start and its result, the call is in doubt
 *    (`tool.inDoubt`): `read` tools and `idempotent` tools run again with the same idempotency key;
 *    any other tool parks the run until `baton.resolveInDoubt` sends `baton.resolve:<op>`
 *    (`tool.resolved`). Nothing runs twice silently.
 */
export function callToolOp(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ToolCallRequest,
): Promise<ToolCallResult> {
  const { tool, callId, wireName, scope } = request;
  const who = { actor: scope.actor, onBehalfOf: [...scope.onBehalfOf] };
  const policy = resolveRetryPolicy(tool.retry ?? { maxAttempts: 1 });
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
    const info = (args: unknown): ToolCallInfo => ({
      runId: ctx.runId,
      op: op.op,
      callId,
      tool,
      args: tool.input.parse(args),
      agent: request.agent,
      actor: who.actor,
      onBehalfOf: who.onBehalfOf,
      idempotencyKey: op.idempotencyKey,
    });
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
    let decision: 'allowed' | 'denied' | 'parked' = 'allowed';
    let denyReason = '';
    let parkSignal = '';
    let parkedBy = '';
    let parkDeadline: number | undefined;
    let phase: Phase = 'none';
    let attempt = 0;
    let retryAt: number | undefined;
    let resolutionSignal = inDoubtSignalName(op.op);
    for (const event of op.recorded) {
      const payload = event.payload as Record<string, unknown>;
      switch (event.type) {
        case 'tool.requested':
          requested = true;
          args = payload.args;
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
            phase = 'none';
          } else if (verdict.verdict === 'park') {
            decision = 'parked';
            parkSignal = verdict.signal ?? approvalSignalName(op.op);
            parkedBy = verdict.interceptor;
            parkDeadline = verdict.deadline === undefined ? undefined : Date.parse(verdict.deadline);
            phase = 'none';
          } else {
            if (verdict.verdict === 'rewrite') args = verdict.args;
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
        args,
        effect: tool.effect,
        idempotent: tool.idempotent,
      });
      await op.append([intent, ...verdictEvents(decided.verdicts, base, who)]);
      verdicts.push(...decided.verdicts.map((verdict) => verdict.record));
      for (const verdict of decided.verdicts)
        if (verdict.record.verdict === 'rewrite') args = verdict.record.args;
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
      const rerun = tool.effect === 'read' || tool.idempotent;
      await op.append([
        draft('tool.inDoubt', {
          ...base,
          attempt,
          effect: tool.effect,
          idempotent: tool.idempotent,
          resolution: rerun ? 'rerun' : 'park',
          ...(rerun ? {} : { signal: resolutionSignal }),
        }),
      ]);
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
      const approved = answer.approved === true && checked.ok;
      const reason = !checked.ok
        ? `the approver's arguments fail the tool's schema: ${checked.problem}`
        : answer.reason;
      const record: VerdictRecord = {
        interceptor: `signal:${parkSignal}`,
        phase: 'decided',
        verdict: approved ? (nextArgs === undefined ? 'allow' : 'rewrite') : 'deny',
        ...(reason === undefined ? {} : { reason }),
        ...(approved && nextArgs !== undefined ? { args: nextArgs } : {}),
        ...(answer.by === undefined ? {} : { data: { by: answer.by } }),
      };
      verdicts.push(record);
      const extra = await decidedEvents(
        runtime.toolInterceptors,
        parkedBy,
        info(args),
        { ...answer, approved, timedOut, signal: parkSignal },
        context(false, verdicts),
      );
      await op.append([draft('tool.verdict', { ...base, ...record }), ...extra], signal ? { consumeSignals: [signal.signalId] } : {});
      if (!approved) return denied(denialText(record));
      if (nextArgs !== undefined) args = nextArgs;
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
      await op.append(
        [
          draft('tool.resolved', {
            ...base,
            action: 'retry',
            attempt,
            ...(resolution.by === undefined ? {} : { by: resolution.by }),
          }),
        ],
        { consumeSignals: [signal.signalId] },
      );
      phase = 'none';
    }

    // ---- run it ------------------------------------------------------------------------------
    for (;;) {
      if (phase === 'failedAttempt') {
        const wait = (retryAt ?? 0) - op.now();
        if (wait > runtime.inlineRetryMs) await op.block(retryAt);
        else if (wait > 0) await op.active(() => delay(wait, undefined, { signal: op.signal }));
        attempt++;
        await op.append([draft('tool.retried', { ...base, attempt })]);
        phase = 'none';
      }
      const current = attempt;
      const started = performance.now();
      const result = await op.active(() => execute(ctx, runtime, op, tool, args, who, current));
      const latencyMs = Math.round(performance.now() - started);
      if (result.ok) {
        let outcome: ToolOutcome = { ok: true, result: result.value };
        const after = await runAfter(runtime, info(args), outcome, context(false, verdicts));
        if (after.rewrite) outcome = { ok: true, result: after.rewrite.result };
        let message = toolResultMessage(callId, wireName, outcome);
        const problem = journalProblem(message, ctx.operations.maxPayloadBytes);
        if (problem) {
          outcome = { ok: false, error: problem, kind: 'failed' };
          message = toolResultMessage(callId, wireName, outcome);
        }
        await op.append([
          ...verdictEvents(after.verdicts, base, who),
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
      const serialized = serializeError(error);
      delete serialized.stack;
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
      const outcome: ToolOutcome = {
        ok: false,
        error: `${serialized.name}: ${serialized.message}`,
        kind: 'failed',
      };
      const message = toolResultMessage(callId, wireName, outcome);
      await op.append([
        draft('tool.failed', { ...base, attempt: current, error: serialized, messages: [message] }),
      ]);
      ledger.noteStored([message]);
      await runAfter(runtime, info(args), outcome, context(false, verdicts));
      return { outcome, message };
    }
  });
}

/** What the model is told about a denial; built from the journaled verdict, so replay says the same. */
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

async function execute(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  op: OperationHandle,
  tool: ToolDefinition,
  args: unknown,
  who: { actor: string; onBehalfOf: string[] },
  attempt: number,
): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    const parsed = tool.input.parse(args);
    const value = await tool.execute(parsed, {
      idempotencyKey: op.idempotencyKey,
      runId: ctx.runId,
      actor: who.actor,
      onBehalfOf: who.onBehalfOf,
      signal: op.signal,
      secrets: runtime.secretsFor({
        runId: ctx.runId,
        tool: tool.name,
        actor: who.actor,
        onBehalfOf: who.onBehalfOf,
      }),
      attempt,
    });
    if (tool.output) {
      const checked = tool.output.safeParse(value);
      if (!checked.success) {
        return {
          ok: false,
          error: new ToolOutputError({ tool: tool.name, problem: z.prettifyError(checked.error) }),
        };
      }
    }
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error };
  }
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
): EventDraft[] {
  return verdicts.flatMap((verdict) => [
    { type: 'tool.verdict', payload: { ...base, ...verdict.record }, ...who },
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
