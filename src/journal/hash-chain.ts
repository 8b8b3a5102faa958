import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { JournalEvent, JournalEventType } from './events.ts';

/** The prevHash of a run's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** sha256 over the canonical encoding of every field of the event except `hash`. */
export function hashEvent(event: Omit<JournalEvent, 'hash'>): string {
  const { runId, seq, type, at, actor, onBehalfOf, payload, prevHash } = event;
  return createHash('sha256')
    .update(canonicalJson({ runId, seq, type, at, actor, onBehalfOf, payload, prevHash }, 'Journal event'))
    .digest('hex');
}

export function sealEvent<T extends JournalEventType>(event: Omit<JournalEvent<T>, 'hash'>): JournalEvent<T> {
  return { ...event, hash: hashEvent(event) };
}

export type ChainBreak =
  | { kind: 'seq'; seq: number; expected: number; found: number }
  | { kind: 'prevHash'; seq: number; expected: string; found: string }
  | { kind: 'hash'; seq: number; expected: string; found: string }
  | { kind: 'runId'; seq: number; expected: string; found: string };

export interface ChainVerification {
  ok: boolean;
  events: number;
  head: string;
  /** The first broken link, if any. */
  broken?: ChainBreak;
}

/**
 * Checks a run's events from the first: seq 1, 2, 3… with no gap, each prevHash equal to the
 * previous hash, each hash equal to the hash of the event's content. Editing any byte, deleting,
 * inserting or reordering an event breaks a link; the first broken one is reported.
 */
export function verifyChain(events: readonly JournalEvent[], runId?: string): ChainVerification {
  let prev = GENESIS_HASH;
  const expectedRun = runId ?? events[0]?.runId;
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    const expectedSeq = index + 1;
    if (event.runId !== expectedRun) {
      return fail(index, { kind: 'runId', seq: event.seq, expected: expectedRun ?? '', found: event.runId });
    }
    if (event.seq !== expectedSeq) {
      return fail(index, { kind: 'seq', seq: event.seq, expected: expectedSeq, found: event.seq });
    }
    if (event.prevHash !== prev) {
      return fail(index, { kind: 'prevHash', seq: event.seq, expected: prev, found: event.prevHash });
    }
    const actual = hashEvent(event);
    if (actual !== event.hash) return fail(index, { kind: 'hash', seq: event.seq, expected: actual, found: event.hash });
    prev = event.hash;
  }
  return { ok: true, events: events.length, head: prev };

  function fail(index: number, broken: ChainBreak): ChainVerification {
    return { ok: false, events: index, head: prev, broken };
  }
}
