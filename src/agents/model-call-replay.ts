import { settled, type Replayed } from '../engine/intercepted-operation.ts';
import type { JournalEvent, JournalEventPayloads, VerdictRecord } from '../journal/events.ts';
import { foldVerdict } from './call-decision.ts';
import { ModelCallDeniedError, ModelCallFailedError } from './errors.ts';
import type { ModelCallSummary } from './interceptors.ts';
import { conversationHash } from './messages.ts';
import type { ModelCall } from './model-call-state.ts';
import { turnFromJournal } from './model-reply.ts';
import type { ModelTurn } from './model-types.ts';
import { selectedTurn } from './turn-model-selection.ts';

/**
 * The replay phase of a model call: a recorded `llm.called` answers it (its `after` interceptors
 * told, as replayed), a recorded `llm.failed` or denial throws again; failed attempts and verdicts
 * are folded for the phases that follow. A start (`llm.started`) with no outcome is a call in
 * flight at a crash: it is sent again.
 */
export function replayModelCall(call: ModelCall): Replayed<ModelCall, ModelTurn> {
  const { op, state, modelName, request } = call;
  for (const event of op.recorded) {
    switch (event.type) {
      case 'llm.called':
        return settled(settleRecorded(call, event.payload));
      case 'llm.failed': {
        const payload = event.payload;
        throw new ModelCallFailedError({
          agent: request.agent,
          model: payload.model ?? modelName,
          attempts: payload.attempt,
          error: payload.error,
        });
      }
      case 'llm.attempt.failed': {
        const payload = event.payload;
        state.failed.set(payload.model ?? modelName, {
          attempt: payload.attempt,
          retryAt: Date.parse(payload.retryAt),
        });
        state.decided = true;
        break;
      }
      case 'llm.verdict': {
        const record = event.payload;
        foldVerdict(state, record, op.op);
        if (state.decision === 'denied') throw modelCallDenied(request.agent, record);
        break;
      }
    }
  }
  return { state: call };
}

/** The error a denied model call throws, from the verdict that denied it. */
export function modelCallDenied(
  agent: string,
  record: VerdictRecord,
  reason = 'denied',
): ModelCallDeniedError {
  return new ModelCallDeniedError({
    agent,
    interceptor: record.interceptor,
    reason: record.reason ?? reason,
    ...(record.data === undefined ? {} : { data: record.data }),
  });
}

async function settleRecorded(
  call: ModelCall,
  payload: JournalEventPayloads['llm.called'],
): Promise<ModelTurn> {
  const { ledger, op } = call;
  ledger.noteStored(payload.messages);
  ledger.noteHashes(payload.request.append);
  ledger.noteConversation(conversationHash(payload.request));
  const turn = recordedTurn(op.recorded, payload);
  await runModelAfter(call, turn, true);
  return turn;
}

/** A recorded turn: its `llm.called`, with the totals of a routed turn when the op holds a routing decision. */
function recordedTurn(
  recorded: readonly JournalEvent[],
  payload: JournalEventPayloads['llm.called'],
): ModelTurn {
  const turn = turnFromJournal(payload);
  const routed = recorded.find((event) => event.type === 'model.routed')?.payload;
  if (!routed) return turn;
  const rejected = recorded.filter((event) => event.type === 'model.attempted').map((event) => event.payload);
  const totals = selectedTurn(rejected, turn.usage, turn.cost, undefined);
  return { ...turn, usage: totals.usage, cost: { usd: routed.costUsd, priced: turn.cost.priced } };
}

/** Tells the model interceptors' `after` the turn (live or replayed). */
export async function runModelAfter(call: ModelCall, turn: ModelTurn, replayed: boolean): Promise<void> {
  const summary: ModelCallSummary = {
    text: turn.text,
    toolCalls: turn.toolCalls.map((toolCall) => ({ callId: toolCall.callId, name: toolCall.name })),
    finishReason: turn.finishReason,
    usage: turn.usage,
    cost: turn.cost,
  };
  const info = call.info();
  const context = call.context(replayed);
  for (const interceptor of call.runtime.modelInterceptors) await interceptor.after?.(info, summary, context);
}
