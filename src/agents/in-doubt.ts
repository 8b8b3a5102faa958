import { InvalidArgumentError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import { inDoubtSignalName, type InDoubtResolution } from './tool-call.ts';

/** A tool call parked because a crash left it in doubt, waiting for a person. */
export interface InDoubtCall {
  runId: string;
  op: number;
  tool: string;
  callId: string;
  effect: 'read' | 'write' | 'irreversible';
  /** The attempt that may or may not have taken effect. */
  attempt: number;
  /** The arguments it ran with (after any rewrite). */
  args: unknown;
  idempotencyKey: string;
  actor: string;
  onBehalfOf: string[];
  /** When the call was found in doubt. */
  since: string;
  /** The signal that resolves it. */
  signal: string;
}

/** The calls of a run that are parked in doubt and not yet resolved, from its journal. */
export function inDoubtCalls(events: readonly JournalEvent[]): InDoubtCall[] {
  const open = new Map<number, InDoubtCall>();
  const args = new Map<number, { args: unknown }>();
  for (const event of events) {
    switch (event.type) {
      case 'tool.requested': {
        const payload = event.payload;
        args.set(payload.op, { args: payload.args });
        break;
      }
      case 'tool.verdict': {
        const payload = event.payload;
        const entry = args.get(payload.op);
        if (entry && payload.verdict === 'rewrite') entry.args = payload.args;
        break;
      }
      case 'tool.inDoubt': {
        const payload = event.payload;
        if (payload.resolution !== 'park') break;
        const entry = args.get(payload.op);
        open.set(payload.op, {
          runId: event.runId,
          op: payload.op,
          tool: payload.name,
          callId: payload.callId,
          effect: payload.effect,
          attempt: payload.attempt,
          args: entry?.args,
          idempotencyKey: `${event.runId}:${payload.op}`,
          actor: event.actor,
          onBehalfOf: event.onBehalfOf,
          since: event.at,
          signal: payload.signal ?? inDoubtSignalName(payload.op),
        });
        break;
      }
      case 'tool.resolved':
      case 'tool.called':
      case 'tool.failed':
        open.delete((event.payload as { op: number }).op);
        break;
    }
  }
  return [...open.values()];
}

/** Picks the call a resolution is for (by op or the model's call id, or the only one) and checks the resolution. */
export function chooseInDoubt(
  runId: string,
  calls: readonly InDoubtCall[],
  resolution: InDoubtResolution & { op?: number; callId?: string },
): InDoubtCall {
  if (resolution.action !== 'retry' && resolution.action !== 'skip') {
    throw new InvalidArgumentError(
      `An in-doubt call is resolved with action 'retry' or 'skip', got '${String(resolution.action)}'.`,
    );
  }
  if (resolution.action === 'retry' && resolution.result !== undefined) {
    throw new InvalidArgumentError(`A 'retry' runs the tool again; give a result only with 'skip'.`);
  }
  const list = calls.map((call) => `op ${call.op} (${call.tool}, call ${call.callId})`).join(', ');
  if (resolution.callId !== undefined) {
    const call = calls.find((candidate) => candidate.callId === resolution.callId);
    if (!call) {
      throw new InvalidArgumentError(
        `Run ${runId} has no tool call ${resolution.callId} in doubt${calls.length ? `; in doubt: ${list}` : ''}.`,
      );
    }
    return call;
  }
  if (resolution.op === undefined) {
    if (calls.length === 1) return calls[0]!;
    if (calls.length === 0) throw new InvalidArgumentError(`Run ${runId} has no tool call in doubt.`);
    throw new InvalidArgumentError(
      `Run ${runId} has ${calls.length} tool calls in doubt (${list}); say which with { op }.`,
    );
  }
  const call = calls.find((candidate) => candidate.op === resolution.op);
  if (!call) {
    throw new InvalidArgumentError(
      `Run ${runId} has no tool call in doubt at op ${resolution.op}${calls.length ? `; in doubt: ${list}` : ''}.`,
    );
  }
  return call;
}
