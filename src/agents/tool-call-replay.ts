import { settled, type Replayed } from '../engine/intercepted-operation.ts';
import type { JournalEvent, JournalEventPayloads } from '../journal/events.ts';
import { foldVerdict } from './call-decision.ts';
import type { ToolOutcome } from './interceptors.ts';
import {
  outcomeOfMessage,
  recordedMessage,
  toolResultMessage,
  tripwireError,
  denialText,
} from './tool-call-journal.ts';
import { runToolAfter, type ToolCall, type ToolCallState } from './tool-call-state.ts';
import type { ToolCallResult } from './tool-call-types.ts';

/**
 * The replay phase of a tool call: a recorded result (`tool.called`, `tool.failed`, a skip in
 * `tool.resolved`) or denial answers it, its `after` interceptors told, as replayed; otherwise the
 * recorded events say where the call stands (its arguments, decision and attempts) for the phases
 * that follow. A start (`tool.started`) adds nothing: the intent or retry committed with it says
 * the attempt was running.
 */
export function replayToolCall(call: ToolCall): Replayed<ToolCall, ToolCallResult> {
  const { state } = call;
  for (const event of call.op.recorded) {
    const result = foldEvent(call, event);
    if (result) return settled(replayedResult(call, result.outcome, result.message));
  }
  if (state.requested && state.decision === 'denied') {
    const denial = state.denial!;
    if (denial.tripwire) throw tripwireError(denial, call.request.tool.name);
    const outcome: ToolOutcome = {
      ok: false,
      error: `The call was denied by ${denialText(denial)}`,
      kind: 'denied',
    };
    return settled(
      replayedResult(call, outcome, toolResultMessage(call.request.callId, call.request.wireName, outcome)),
    );
  }
  return { state: call };
}

async function replayedResult(
  call: ToolCall,
  outcome: ToolOutcome,
  message: ToolCallResult['message'],
): Promise<ToolCallResult> {
  await runToolAfter(call, outcome, true);
  return { outcome, message };
}

/** Folds one recorded event into the call's state; returns the result it settles, if it does. */
function foldEvent(call: ToolCall, event: JournalEvent): ToolCallResult | undefined {
  const { state, ledger } = call;
  switch (event.type) {
    case 'tool.requested':
      state.requested = true;
      takeArgs(call, call.redacting ? undefined : event.payload.args);
      state.phase = 'running';
      state.attempt = 1;
      return undefined;
    case 'tool.verdict':
      foldToolVerdict(call, event.payload);
      return undefined;
    case 'tool.attempt.failed': {
      const payload = event.payload;
      state.phase = 'failedAttempt';
      state.attempt = payload.attempt;
      state.retryAt = Date.parse(payload.retryAt);
      return undefined;
    }
    case 'tool.retried':
      state.phase = 'running';
      state.attempt = event.payload.attempt;
      return undefined;
    case 'tool.inDoubt':
      foldInDoubt(state, event.payload);
      return undefined;
    case 'tool.resolved': {
      const payload = event.payload;
      if (payload.action === 'retry') {
        state.phase = 'running';
        state.attempt = payload.attempt;
        return undefined;
      }
      const message = recordedMessage(event);
      ledger.noteStored([message]);
      return { outcome: outcomeOfMessage(message, 'skipped'), message };
    }
    case 'tool.called':
    case 'tool.failed': {
      const message = recordedMessage(event);
      ledger.noteStored([message]);
      return { outcome: outcomeOfMessage(message), message };
    }
    default:
      return undefined;
  }
}

function foldToolVerdict(call: ToolCall, verdict: JournalEventPayloads['tool.verdict']): void {
  const { state } = call;
  const approved = foldVerdict(state, verdict, call.op.op);
  if (verdict.phase === 'after') return;
  if (verdict.verdict === 'deny' || verdict.verdict === 'park') {
    state.phase = 'none';
    return;
  }
  if (verdict.verdict === 'rewrite') takeArgs(call, verdict.args);
  if (approved) {
    state.phase = 'running';
    state.attempt = 1;
  }
}

function foldInDoubt(state: ToolCallState, payload: JournalEventPayloads['tool.inDoubt']): void {
  if (payload.resolution === 'rerun') {
    state.phase = 'running';
    state.attempt = payload.attempt + 1;
  } else {
    state.phase = 'awaitingResolution';
    state.resolutionSignal = payload.signal ?? state.resolutionSignal;
  }
}

/** A tool with `redact` journals its arguments redacted: the real ones are the caller's, if known. */
function takeArgs(call: ToolCall, recorded: unknown): void {
  if (!call.redacting) call.state.args = recorded;
  else if (recorded !== undefined) call.state.argsKnown = false;
}
