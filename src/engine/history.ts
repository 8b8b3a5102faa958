import { eventOp, type JournalEvent } from '../journal/events.ts';

/**
 * A run's recorded events grouped by the op that wrote them, for replay. Ops are taken as the
 * workflow code makes its ctx calls; at the end, every recorded op must have been taken.
 */
export class History {
  readonly events: readonly JournalEvent[];
  /**
   * The events replay follows: all but those a resume in place voided (`run.resumed`: from its
   * `voidFromSeq` up to itself), which stay in the journal for the record.
   */
  readonly kept: readonly JournalEvent[];
  readonly #byOp = new Map<number, JournalEvent[]>();
  readonly #taken = new Set<number>();
  /** Recorded ops by the seq of their last event: the order in which they finished. */
  readonly #byLastSeq: { op: number; lastSeq: number }[];
  #cursor = 0;
  readonly maxOp: number;

  constructor(events: readonly JournalEvent[]) {
    this.events = events;
    this.kept = keptEvents(events);
    let maxOp = 0;
    for (const event of this.kept) {
      const op = eventOp(event);
      if (op === undefined) continue;
      let list = this.#byOp.get(op);
      if (!list) this.#byOp.set(op, (list = []));
      list.push(event);
      if (op > maxOp) maxOp = op;
    }
    this.maxOp = maxOp;
    this.#byLastSeq = [...this.#byOp].map(([op, list]) => ({ op, lastSeq: list[list.length - 1]!.seq }));
    this.#byLastSeq.sort((a, b) => a.lastSeq - b.lastSeq);
  }

  /** The last seq among recorded ops the code has not asked for yet (Infinity when none is left). */
  minUntakenLastSeq(): number {
    while (this.#cursor < this.#byLastSeq.length && this.#taken.has(this.#byLastSeq[this.#cursor]!.op))
      this.#cursor++;
    return this.#byLastSeq[this.#cursor]?.lastSeq ?? Infinity;
  }

  peek(op: number): readonly JournalEvent[] {
    return this.#byOp.get(op) ?? NO_EVENTS;
  }

  take(op: number): readonly JournalEvent[] {
    const events = this.#byOp.get(op);
    if (!events) return NO_EVENTS;
    // Only recorded ops are looked up as taken: an op past the history needs no entry (one per step).
    this.#taken.add(op);
    return events;
  }

  /** The first recorded event of an op the code never asked for, if any. */
  firstUntaken(): JournalEvent | undefined {
    for (const [op, events] of [...this.#byOp].sort((a, b) => a[0] - b[0])) {
      if (!this.#taken.has(op)) return events[0];
    }
    return undefined;
  }
}

/** What an op past the history has recorded: nothing (one array for all of them). */
const NO_EVENTS: readonly JournalEvent[] = Object.freeze([]);

/** The events of a history that replay follows: without the ranges resumes in place voided. */
export function keptEvents(events: readonly JournalEvent[]): readonly JournalEvent[] {
  const voided: [number, number][] = [];
  for (const event of events) {
    if (event.type === 'run.resumed')
      voided.push([(event.payload as { voidFromSeq: number }).voidFromSeq, event.seq]);
  }
  if (voided.length === 0) return events;
  return events.filter((event) => !voided.some(([from, to]) => event.seq >= from && event.seq < to));
}

/** What an event's op was, as `prefix:name` — compared with what the code asks for on replay. */
export function describeOp(event: JournalEvent): string {
  const payload = event.payload as Record<string, unknown>;
  const prefix = event.type.slice(0, event.type.indexOf('.'));
  if (event.type === 'op.cancelled') return String(payload.describe);
  switch (prefix) {
    case 'clock':
      return 'clock';
    case 'patch':
      return `patch:${String(payload.patchId)}`;
    case 'child':
      return `child:${typeof payload.workflow === 'string' ? payload.workflow : '?'}`;
    default:
      return `${prefix}:${typeof payload.name === 'string' ? payload.name : ''}`;
  }
}

/** A readable form of a `prefix:name` description, for error messages. */
export function readableOp(description: string): string {
  const [prefix, ...rest] = description.split(':');
  const name = rest.join(':');
  switch (prefix) {
    case 'step':
      return `step '${name}'`;
    case 'timer':
      return `sleep '${name}'`;
    case 'signal':
      return `waitFor('${name}')`;
    case 'child':
      return `child run of '${name}'`;
    case 'clock':
      return 'now()';
    case 'patch':
      return `patched('${name}')`;
    default:
      return `${prefix} '${name}'`;
  }
}
