import { zod } from '../lazy-module.ts';
import { attemptWithRetry, type AttemptOutcome } from '../engine/attempt-with-retry.ts';
import { serializeError, type SerializedError } from '../errors.ts';
import { ToolOutputError } from './errors.ts';
import type { ToolOutcome } from './interceptors.ts';
import { verdictEvents } from './intercepted-call.ts';
import { journalProblem, resultForModel, toolResultMessage } from './tool-call-journal.ts';
import { runToolAfter, type ToolCall } from './tool-call-state.ts';
import type { ToolCallResult } from './tool-call-types.ts';

/** A tool's value and how long its attempt took. */
interface Ran {
  value: unknown;
  latencyMs: number;
}

/**
 * The attempt and commit phases of a tool call: each attempt runs holding a slot of the tool's pool
 * when it names one (a long wait for the slot parks the run; nothing of the attempt is journaled
 * until it has its slot, so a parked call is not in doubt), after committing its start (the intent,
 * a retry, a resolution, with `tool.started` under engine flag 3). Failed attempts are retried by
 * the tool's policy (`tool.attempt.failed`, `tool.retried`); the result (`tool.called`) or
 * failure (`tool.failed`) is committed, secret values scrubbed and `redactResult` fields replaced.
 */
export async function attemptToolCall(call: ToolCall): Promise<ToolCallResult> {
  const { state, op } = call;
  const retried = state.phase === 'failedAttempt';
  const outcome = await attemptWithRetry<Ran, ToolCallResult>(
    op,
    { next: retried ? state.attempt + 1 : state.attempt, retryAt: retried ? state.retryAt : undefined },
    {
      policy: call.policy,
      inlineRetryMs: call.runtime.inlineRetryMs,
      retrying: async (attempt) => {
        state.attempt = attempt;
        await call.journal([call.draft('tool.retried', { ...call.base, attempt })], [], state.argsKnown);
        state.phase = 'none';
      },
      run: (attempt) => runAttempt(call, attempt),
      failedAttempt: async (attempt, error, retryAt) => {
        state.retryAt = retryAt;
        state.phase = 'failedAttempt';
        await op.append([
          call.draft('tool.attempt.failed', {
            ...call.base,
            attempt,
            error: scrubbedError(call, error),
            retryAt: new Date(retryAt).toISOString(),
          }),
        ]);
      },
      failed: (attempt, error) => failCall(call, scrubbedError(call, error), attempt),
    },
  );
  if (outcome.kind === 'final') return outcome.result;
  return commitToolCall(call, outcome.value, outcome.attempt);
}

function scrubbedError(call: ToolCall, error: unknown): SerializedError {
  const serialized = call.runtime.scrub(serializeError(error));
  delete serialized.stack;
  return serialized;
}

/** Runs one attempt, its start committed first; a start that cannot be committed fails the op. */
async function runAttempt(call: ToolCall, attempt: number): Promise<AttemptOutcome<Ran, ToolCallResult>> {
  const { state, request, op } = call;
  const { tool } = request;
  if (!state.argsKnown) {
    // The real arguments were redacted from the journal and this activation never had them.
    const problem = `Tool '${tool.name}' cannot run again: its arguments (${tool.redact.join(', ')}) were redacted from the journal, and this activation of the run never received them.`;
    const result = await failCall(
      call,
      { name: 'ToolArgumentsRedactedError', message: problem, code: 'TOOL_ARGUMENTS_REDACTED' },
      attempt,
    );
    return { kind: 'final', result };
  }
  let startFailure: { error: unknown } | undefined;
  const attemptCall = async (): Promise<unknown> => {
    try {
      await call.flushStart(startEvents(call, attempt));
    } catch (error) {
      startFailure = { error };
      throw error;
    }
    return execute(call, attempt);
  };
  const started = performance.now();
  try {
    const value =
      tool.pool === undefined ? await op.active(attemptCall) : await op.withPool(tool.pool, {}, attemptCall);
    return { kind: 'value', value: { value, latencyMs: Math.round(performance.now() - started) } };
  } catch (error) {
    if (startFailure) throw startFailure.error;
    return { kind: 'error', error };
  }
}

/** The start event of a live attempt, in runs whose engine journals starts (flag 3). */
function startEvents(call: ToolCall, attempt: number) {
  if (!call.runtime.journalsStarts(call.ctx)) return [];
  const agent = call.request.agent;
  return [call.draft('tool.started', { ...call.base, attempt, ...(agent === undefined ? {} : { agent }) })];
}

/** Runs the tool; throws what it threw (or ToolOutputError), so a pool can classify it. */
async function execute(call: ToolCall, attempt: number): Promise<unknown> {
  const { ctx, runtime, op, request, who, grant, state } = call;
  const { tool } = request;
  const parsed = tool.input.parse(state.args);
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
      throw new ToolOutputError({ tool: tool.name, problem: zod().prettifyError(checked.error) });
  }
  return value;
}

/** Commits a call that failed for good (`tool.failed`, with what waits for an attempt's start). */
async function failCall(
  call: ToolCall,
  serialized: SerializedError,
  attempt: number,
): Promise<ToolCallResult> {
  const outcome: ToolOutcome = {
    ok: false,
    error: `${serialized.name}: ${serialized.message}`,
    kind: 'failed',
  };
  const message = toolResultMessage(call.request.callId, call.request.wireName, outcome);
  await call.flushStart([
    call.draft('tool.failed', { ...call.base, attempt, error: serialized, messages: [message] }),
  ]);
  call.ledger.noteStored([message]);
  await runToolAfter(call, outcome, false);
  return { outcome, message };
}

/**
 * The commit phase: the result as the model sees it (secrets scrubbed, `redactResult` replaced,
 * rewritten by `after` interceptors) committed as `tool.called` with the rewrites' verdicts; a
 * result that cannot be journaled (not JSON, too large) is committed as `tool.failed`.
 */
async function commitToolCall(call: ToolCall, ran: Ran, attempt: number): Promise<ToolCallResult> {
  const { request, runtime, ctx, op } = call;
  const { tool, callId, wireName } = request;
  let outcome: ToolOutcome = { ok: true, result: resultForModel(runtime, tool, ran.value) };
  const after = await runToolAfter(call, outcome, false);
  if (after.rewrite) outcome = { ok: true, result: after.rewrite.result };
  let message = toolResultMessage(callId, wireName, outcome);
  const problem = journalProblem(message, ctx.operations.maxPayloadBytes);
  if (problem) {
    outcome = { ok: false, error: problem, kind: 'failed' };
    message = toolResultMessage(callId, wireName, outcome);
  }
  await op.append([
    ...verdictEvents(call, after.verdicts),
    outcome.ok
      ? call.draft('tool.called', { ...call.base, attempt, latencyMs: ran.latencyMs, messages: [message] })
      : call.draft('tool.failed', {
          ...call.base,
          attempt,
          error: { name: 'ToolOutputError', message: problem!, code: 'TOOL_OUTPUT_INVALID' },
          messages: [message],
        }),
  ]);
  call.ledger.noteStored([message]);
  return { outcome, message };
}
