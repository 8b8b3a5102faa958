import { useEffect, useState } from 'react';
import { openStream } from '../api.ts';
import { applyLivePart, type LiveCall, type LivePart } from '../model/live-calls.ts';

/** The model calls of a run in flight, from its live stream, while `active` (the run has not finished). */
export function useLiveCalls(runId: string, active: boolean): ReadonlyMap<number, LiveCall> {
  const [calls, setCalls] = useState<ReadonlyMap<number, LiveCall>>(new Map());
  useEffect(() => {
    setCalls(new Map());
    if (!active) return;
    let close: (() => void) | undefined = undefined;
    close = openStream(`/api/runs/${encodeURIComponent(runId)}/live`, {
      onEvent(_name, data) {
        const part = data as LivePart;
        if (part.type === 'end') close?.();
        else setCalls((current) => applyLivePart(current, part));
      },
    });
    return () => close?.();
  }, [runId, active]);
  return calls;
}

/** A model call's text as the model writes it. */
export function LiveCallText({ call }: { call: LiveCall }) {
  return (
    <div className="live-call" data-testid="live-call" data-op={call.op} aria-live="polite">
      <p className="muted">
        {call.agent} · model call (op {call.op}
        {call.attempt > 1 ? `, attempt ${call.attempt}` : ''}){' '}
        {call.interrupted ? (
          <strong>interrupted: the run sends it again when it resumes</strong>
        ) : (
          'streaming…'
        )}
      </p>
      <p className="live-call-text" data-testid="live-call-text">
        {call.text}
      </p>
    </div>
  );
}

/** Every model call of the run in flight, above the execution tree. */
export function LiveCalls({ calls }: { calls: ReadonlyMap<number, LiveCall> }) {
  if (calls.size === 0) return null;
  return (
    <section className="live-calls" aria-label="Model calls in flight">
      {[...calls.values()].map((call) => (
        <LiveCallText key={call.op} call={call} />
      ))}
    </section>
  );
}
