import { awaitPark, decideBefore, decidedRecord, parkOf, type Park } from './call-decision.ts';
import { verdictEvents } from './intercepted-call.ts';
import { decidedEvents } from './interceptors.ts';
import type { ModelCall } from './model-call-state.ts';
import { modelCallDenied } from './model-call-replay.ts';

/**
 * The decide phase of a model call: unless the journal holds its decision, the model interceptors'
 * `before` decide. A deny is committed and thrown (ModelCallDeniedError); a park is committed and
 * waited out; allow verdicts go with the call's next write. A park's decision is committed with
 * the parking interceptor's events.
 */
export async function decideModelCall(call: ModelCall): Promise<undefined> {
  const { state, runtime, op } = call;
  if (!state.decided && runtime.modelInterceptors.length > 0) {
    const decision = await decideBefore(
      op.op,
      runtime.modelInterceptors,
      call.info(),
      call.context(false),
      (info) => info,
      () => ({ ok: true }),
    );
    const events = verdictEvents(call, decision.verdicts);
    state.verdicts.push(...decision.verdicts.map((verdict) => verdict.record));
    const last = decision.verdicts.at(-1)?.record;
    if (decision.final === 'deny') {
      await op.append(events);
      throw modelCallDenied(call.request.agent, last!);
    }
    if (decision.final === 'park') {
      await op.append(events);
      state.park = parkOf(last!, op.op);
    } else {
      for (const event of events) op.buffer(event);
    }
  }
  if (state.park !== undefined) await settlePark(call, state.park);
  return undefined;
}

/** Waits for a parked call's decision and commits it; a denial throws. */
async function settlePark(call: ModelCall, park: Park): Promise<void> {
  const { ctx, op, state, runtime } = call;
  const { answer, timedOut, signal } = await awaitPark(ctx, op, park);
  const approved = answer.approved === true;
  const record = decidedRecord(park, approved ? 'allow' : 'deny', {
    reason: answer.reason,
    data: answer.by === undefined ? undefined : { by: answer.by },
  });
  state.verdicts.push(record);
  const extra = await decidedEvents(
    runtime.modelInterceptors,
    park.by,
    call.info(),
    { ...answer, approved, timedOut, signal: park.signal },
    call.context(false),
  );
  await op.append([call.verdictDraft(record), ...extra], signal ? { consumeSignals: [signal.signalId] } : {});
  if (!approved)
    throw modelCallDenied(call.request.agent, { ...record, reason: answer.reason }, 'not approved');
}
