import type { JournalEvent } from '../../journal/events.ts';
import { payloadJsonOf } from '../../journal/hash-chain.ts';

export { signalValues, toEvent, toRun, toSignal, type Row } from '../store-rows.ts';

/** The columns of `events` as parallel arrays, for one `INSERT … SELECT FROM unnest(…)`. */
export function eventColumns(events: readonly JournalEvent[]): unknown[] {
  return [
    events.map((event) => event.seq),
    events.map((event) => event.type),
    events.map((event) => event.at),
    events.map((event) => event.actor),
    events.map((event) => JSON.stringify(event.onBehalfOf)),
    events.map((event) => payloadJsonOf(event)),
    events.map((event) => event.prevHash),
    events.map((event) => event.hash),
  ];
}
