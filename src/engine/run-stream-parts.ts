import type { JournalEvent } from '../journal/events.ts';
import type { StreamPartRecord } from '../store/run-streams.ts';
import { StreamCursorError } from './stream-errors.ts';

/**
 * What a run's live stream carries, in order, each with the `cursor` to resume after it: the
 * run's journal events (durable, hash-chained) interleaved with the ephemeral parts of work in
 * flight (docs/decisions/0018-live-run-streams.md).
 */
export type RunStreamPart = { cursor: string } & (
  | { type: 'event'; event: JournalEvent }
  /** A model call began sending (one per attempt). */
  | { type: 'model-start'; op: number; agent: string; attempt: number; at: number }
  | { type: 'text-delta'; op: number; agent: string; delta: string; at: number }
  | { type: 'reasoning-delta'; op: number; agent: string; delta: string; at: number }
  /** The model began writing a tool call's arguments. */
  | { type: 'tool-input-start'; op: number; agent: string; callId: string; toolName: string; at: number }
  | { type: 'tool-input-delta'; op: number; agent: string; callId: string; delta: string; at: number }
  /** The model finished a tool call (its arguments are complete). */
  | { type: 'tool-call'; op: number; agent: string; callId: string; toolName: string; at: number }
  | { type: 'model-finish'; op: number; agent: string; finishReason: string; at: number }
  | { type: 'model-error'; op: number; agent: string; error: string; at: number }
  /** A step's attempt began running (not journaled: its end is). */
  | { type: 'step-started'; op: number; name: string; attempt: number; at: number }
  /** What the workflow wrote with `ctx.stream.write(data)`. */
  | { type: 'progress'; data: unknown; at: number }
  /** The worker writing these model calls stopped before they finished; the run resumes them by replay. */
  | { type: 'interrupted'; ops: number[]; reason: string; at: number }
  /** The worker's stream buffer was full: this many parts were not kept. */
  | { type: 'dropped'; count: number; at: number }
  /** Parts this reader had not read were pruned (retention): the journal events are all there. */
  | { type: 'pruned'; missed: number }
  /** The run parked (waiting for time, a signal, a child or a person) and everything it wrote so far was delivered. */
  | { type: 'waiting' }
  /** The run finished and everything it wrote was delivered. */
  | { type: 'end'; status: string; lastSeq: number }
);

/** Where a reader is in a run's stream: the last journal seq and the last part it was given. */
export interface StreamPosition {
  seq: number;
  part: number;
}

/** A short tag of the run a cursor belongs to (FNV-1a of its id), so a cursor cannot cross runs. */
export function runTag(runId: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < runId.length; index++) {
    hash ^= runId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/** `12-340-k3x9a1`: journal seq 12, part 340, of the run tagged k3x9a1. */
export function formatCursor(runId: string, position: StreamPosition): string {
  return `${position.seq}-${position.part}-${runTag(runId)}`;
}

/** The position a cursor names in this run's stream; throws StreamCursorError (malformed, other-run). */
export function parseCursor(runId: string, cursor: string | undefined): StreamPosition {
  if (cursor === undefined || cursor === '' || cursor === '0') return { seq: 0, part: 0 };
  const match = /^(\d{1,15})-(\d{1,15})-([0-9a-z]{1,8})$/.exec(cursor);
  if (!match) throw new StreamCursorError({ runId, cursor, reason: 'malformed' });
  if (match[3] !== runTag(runId)) throw new StreamCursorError({ runId, cursor, reason: 'other-run' });
  return { seq: Number(match[1]), part: Number(match[2]) };
}

/** The part a reader is given for a kept part record. */
export function partOf(record: StreamPartRecord, cursor: string): RunStreamPart {
  return {
    ...record.data,
    ...(record.op === undefined ? {} : { op: record.op }),
    type: record.type,
    at: record.at,
    cursor,
  } as RunStreamPart;
}
