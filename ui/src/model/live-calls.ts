/** A model call in flight, as its run's live stream shows it: the text so far. */
export interface LiveCall {
  op: number;
  agent: string;
  attempt: number;
  text: string;
  /** The worker writing it stopped; the run sends the call again when it resumes. */
  interrupted: boolean;
}

/** One part of a run's live stream (`/api/runs/{runId}/live`), as far as the UI reads it. */
export interface LivePart {
  type: string;
  op?: number;
  ops?: number[];
  agent?: string;
  attempt?: number;
  delta?: string;
  event?: { type: string; payload?: { op?: number } };
}

/**
 * The model calls in flight after `part`: a call appears at its `model-start`, grows with each
 * `text-delta`, is marked at `interrupted`, and leaves when its stream ends or its `llm.called` is
 * committed (the journaled reply takes its place).
 */
export function applyLivePart(
  calls: ReadonlyMap<number, LiveCall>,
  part: LivePart,
): ReadonlyMap<number, LiveCall> {
  const next = new Map(calls);
  switch (part.type) {
    case 'model-start':
      if (part.op !== undefined)
        next.set(part.op, {
          op: part.op,
          agent: part.agent ?? '',
          attempt: part.attempt ?? 1,
          text: '',
          interrupted: false,
        });
      return next;
    case 'text-delta': {
      const call = part.op === undefined ? undefined : next.get(part.op);
      if (!call) return calls;
      next.set(call.op, { ...call, text: call.text + (part.delta ?? '') });
      return next;
    }
    case 'interrupted':
      for (const op of part.ops ?? []) {
        const call = next.get(op);
        if (call) next.set(op, { ...call, interrupted: true });
      }
      return next;
    case 'model-finish':
    case 'model-error':
      if (part.op === undefined || !next.has(part.op)) return calls;
      next.delete(part.op);
      return next;
    case 'event': {
      const op = part.event?.payload?.op;
      if (part.event?.type !== 'llm.called' || op === undefined || !next.has(op)) return calls;
      next.delete(op);
      return next;
    }
    default:
      return calls;
  }
}
