import { settled, type Settled } from '../engine/intercepted-operation.ts';
import type { ToolOutcome } from './interceptors.ts';
import { toolResultMessage } from './tool-call-journal.ts';
import { runToolAfter, type ToolCall } from './tool-call-state.ts';
import type { InDoubtResolution, ToolCallResult } from './tool-call-types.ts';

/**
 * A call whose attempt was allowed to start and has no journaled result is in doubt
 * (`tool.inDoubt`): `read` and `idempotent` tools run again (with the same idempotency key), unless
 * their real arguments were redacted away; any other call waits for a person.
 */
export async function settleInDoubt(call: ToolCall): Promise<void> {
  const { state, request } = call;
  const { tool } = request;
  const rerun = (tool.effect === 'read' || tool.idempotent) && state.argsKnown;
  const inDoubt = call.draft('tool.inDoubt', {
    ...call.base,
    attempt: state.attempt,
    effect: tool.effect,
    idempotent: tool.idempotent,
    resolution: rerun ? 'rerun' : 'park',
    ...(rerun ? {} : { signal: state.resolutionSignal }),
  });
  await call.journal([inDoubt], [], rerun);
  if (rerun) {
    state.attempt++;
    state.phase = 'none';
  } else {
    state.phase = 'awaitingResolution';
  }
}

/**
 * Waits (holding no worker) for `baton.resolveInDoubt` (the signal `baton.resolve:<op>`): `skip`
 * answers the call with the person's result (or says it was skipped); `retry` runs it again.
 */
export async function resolveInDoubt(call: ToolCall): Promise<Settled<ToolCallResult> | undefined> {
  const { state, op, ctx } = call;
  const signal = ctx.operations.takeSignal(state.resolutionSignal) ?? (await op.block());
  const resolution = (signal.payload ?? {}) as Partial<InDoubtResolution>;
  const by = resolution.by === undefined ? {} : { by: resolution.by };
  if (resolution.action === 'skip') return settled(skip(call, resolution, signal.signalId));
  state.attempt++;
  const resolved = call.draft('tool.resolved', {
    ...call.base,
    action: 'retry',
    attempt: state.attempt,
    ...by,
  });
  await call.journal([resolved], [signal.signalId], state.argsKnown);
  state.phase = 'none';
  return undefined;
}

async function skip(
  call: ToolCall,
  resolution: Partial<InDoubtResolution>,
  signalId: string,
): Promise<ToolCallResult> {
  const { state, request, op } = call;
  const outcome: ToolOutcome =
    resolution.result === undefined
      ? {
          ok: false,
          kind: 'skipped',
          error:
            'This call was interrupted and a person chose not to run it again; it may or may not have taken effect.',
        }
      : { ok: true, result: resolution.result };
  const message = toolResultMessage(request.callId, request.wireName, outcome);
  await op.append(
    [
      call.draft('tool.resolved', {
        ...call.base,
        action: 'skip',
        attempt: state.attempt,
        ...(resolution.by === undefined ? {} : { by: resolution.by }),
        messages: [message],
      }),
    ],
    { consumeSignals: [signalId] },
  );
  call.ledger.noteStored([message]);
  await runToolAfter(call, outcome, false);
  return { outcome, message };
}
