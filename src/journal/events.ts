import type { SerializedError } from '../errors.ts';

/**
 * Every journal event type and its payload, in one place. Tags read noun-then-verb.
 *
 * `op` is the position of the ctx call that wrote the event, in the order the workflow code made
 * its ctx calls. It is deterministic (assigned when the call is made), so replay matches events
 * to calls by `op`, while `seq` is the event's position in the append-only journal.
 *
 * Journal format 1. Add a type or an optional field freely; change the meaning of an existing one
 * only with a new format number and an engine flag (src/engine/engine-flags.ts).
 */
export interface JournalEventPayloads {
  'run.started': {
    workflow: string;
    input: unknown;
    format: number;
    flags: number[];
    parentRunId?: string;
    idempotencyKey?: string;
    timeoutMs?: number;
  };
  'run.completed': { result?: unknown };
  'run.failed': { error: SerializedError };
  'run.cancelled': { reason?: string };

  'step.completed': { op: number; name: string; attempt: number; result?: unknown };
  'step.attempt.failed': { op: number; name: string; attempt: number; error: SerializedError; retryAt: string };
  'step.failed': { op: number; name: string; attempt: number; error: SerializedError };

  'timer.set': { op: number; name: string; fireAt: string };
  'timer.fired': { op: number };

  'signal.awaited': { op: number; name: string; deadline?: string };
  'signal.received': { op: number; name: string; signalId: string; payload?: unknown };
  'signal.timedOut': { op: number; name: string };

  'child.started': { op: number; childRunId: string; workflow: string };
  'child.completed': { op: number; childRunId: string; result?: unknown };
  'child.failed': { op: number; childRunId: string; status: 'failed' | 'cancelled'; error: SerializedError };

  'clock.read': { op: number; value: string };
  'patch.marked': { op: number; patchId: string };
}

export type JournalEventType = keyof JournalEventPayloads;

/** An event as written: hashed, chained, in order. */
export interface JournalEvent<T extends JournalEventType = JournalEventType> {
  runId: string;
  seq: number;
  type: T;
  /** ISO-8601 time of writing. */
  at: string;
  /** Who performed the action: an agent, a workflow or a person. */
  actor: string;
  /** The chain of principals the actor acts for, nearest first. */
  onBehalfOf: string[];
  payload: JournalEventPayloads[T];
  prevHash: string;
  hash: string;
}

/** Any event, narrowed by its `type`. */
export type AnyJournalEvent = { [T in JournalEventType]: JournalEvent<T> }[JournalEventType];

/** An event before the journal gives it a seq and a hash. */
export interface EventDraft<T extends JournalEventType = JournalEventType> {
  type: T;
  payload: JournalEventPayloads[T];
  actor?: string;
  onBehalfOf?: string[];
}

export const JOURNAL_FORMAT = 1;

/** The op an event belongs to, when it was written by a ctx call. */
export function eventOp(event: JournalEvent): number | undefined {
  const op = (event.payload as { op?: unknown }).op;
  return typeof op === 'number' ? op : undefined;
}

export function isEventOfType<T extends JournalEventType>(event: JournalEvent, type: T): event is JournalEvent<T> {
  return event.type === type;
}
