import type { SerializedError } from '../errors.ts';
import type { JournalEvent, JournalEventPayloads, JournalEventType } from '../journal/events.ts';
import { brief, formatDateTime, truncate } from './output.ts';

type Summaries = {
  [T in JournalEventType]?: (payload: JournalEventPayloads[T], event: JournalEvent<T>) => string;
};

const error = (e: SerializedError): string => `${e.name}: ${e.message}`;
const at = (iso: string): string => formatDateTime(iso);

/**
 * One line per event type for `baton history` and live progress. Event types not listed here are
 * summarised generically (their `name`, then the rest of the payload as compact JSON), so a layer
 * that adds event types reads fine at once; add a line here when it deserves better.
 */
const summaries: Summaries = {
  'run.started': (p) => `${p.workflow} input=${brief(p.input, 50)}`,
  'run.completed': (p) => `result=${brief(p.result, 60)}`,
  'run.failed': (p) => error(p.error),
  'run.cancelled': (p) => [p.by && `by ${p.by}`, p.reason].filter(Boolean).join(': '),
  'run.cancelRequested': (p) =>
    [p.by && `by ${p.by}`, p.reason, p.children === 'abandon' && '(children abandoned)']
      .filter(Boolean)
      .join(': '),
  'run.timedOut': (p) => `after ${p.timeoutMs} ms`,
  'run.resumed': (p) =>
    `by ${p.by} from ${p.from}${p.reason ? `: ${p.reason}` : ''} (seq ${p.voidFromSeq}… voided)`,
  'op.cancelled': (p) =>
    `${p.describe} (${p.scope === 'run' ? 'run cancelled' : 'scope cancelled'})${p.reason ? `: ${p.reason}` : ''}`,
  'step.completed': (p) =>
    `${p.name}${p.attempt > 1 ? ` (attempt ${p.attempt})` : ''}${p.result === undefined ? '' : ` → ${brief(p.result, 50)}`}`,
  'step.attempt.failed': (p) =>
    `${p.name} attempt ${p.attempt}: ${error(p.error)}; retry at ${at(p.retryAt)}`,
  'step.failed': (p) => `${p.name} after ${p.attempt} attempt(s): ${error(p.error)}`,
  'timer.set': (p) => `${p.name} until ${at(p.fireAt)}`,
  'timer.fired': (p) => `op ${p.op}`,
  'signal.awaited': (p) => `${p.name}${p.deadline ? ` until ${at(p.deadline)}` : ''}`,
  'signal.received': (p) => `${p.name} ${brief(p.payload, 50)}`.trimEnd(),
  'signal.timedOut': (p) => p.name,
  'child.started': (p) => `${p.workflow} ${p.childRunId}${p.parentClose === 'abandon' ? ' (detached)' : ''}`,
  'child.completed': (p) => `${p.childRunId} → ${brief(p.result, 40)}`,
  'child.failed': (p) => `${p.childRunId} ${p.status}: ${error(p.error)}`,
  'clock.read': (p) => p.value,
  'patch.marked': (p) => p.patchId,
};

/** A one-line summary of an event's payload. */
export function summarizeEvent(event: JournalEvent, max = 80): string {
  const summarize = summaries[event.type] as ((payload: unknown, event: JournalEvent) => string) | undefined;
  let text: string;
  try {
    text = summarize ? summarize(event.payload, event) : genericSummary(event.payload);
  } catch {
    // A payload written by another version may lack a field the summary expects.
    text = genericSummary(event.payload);
  }
  return truncate(text, max);
}

function genericSummary(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return brief(payload);
  const { op: _op, name, ...rest } = payload as Record<string, unknown>;
  const tail = Object.keys(rest).length > 0 ? brief(rest, 70) : '';
  return typeof name === 'string' ? `${name} ${tail}`.trimEnd() : tail;
}
