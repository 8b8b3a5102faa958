import { rejected } from '../argument-checks.ts';
import type { EventDraft, JournalEvent } from '../journal/events.ts';
import { canonicalPayloadJson, hashWithPayload } from '../journal/hash-chain.ts';
import type { JournalWrite, RunTransition } from '../store/store.ts';
import type { Committer } from './committer.ts';

/**
 * One run's end of the journal, held by the worker that leases the run: it numbers and chains new
 * events and sends them to the committer. Events are sealed in the order they are appended, so seq
 * order is append order even when parallel branches append at once.
 */
export class RunJournal {
  readonly runId: string;
  readonly owner: string;
  #lastSeq: number;
  #headHash: string;
  #buffered: JournalEvent[] = [];
  #broken: Error | undefined;
  readonly #committer: Pick<Committer, 'commit'>;
  readonly #clock: () => number;
  readonly #identity: () => { actor: string; onBehalfOf: readonly string[] };
  #chainSource: readonly string[] | undefined;
  #chain: string[] | undefined;

  constructor(args: {
    runId: string;
    owner: string;
    lastSeq: number;
    headHash: string;
    /** The group committer; replay (src/explain/replay.ts) passes one that refuses every write. */
    committer: Pick<Committer, 'commit'>;
    clock: () => number;
    identity: () => { actor: string; onBehalfOf: readonly string[] };
  }) {
    this.runId = args.runId;
    this.owner = args.owner;
    this.#lastSeq = args.lastSeq;
    this.#headHash = args.headHash;
    this.#committer = args.committer;
    this.#clock = args.clock;
    this.#identity = args.identity;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The error that ended this journal's writes (lease lost, store failure), if any. */
  get broken(): Error | undefined {
    return this.#broken;
  }

  /**
   * Numbers and chains drafts after the head. All or nothing: when one cannot be sealed (its
   * payload is not JSON), it throws and the head stays where it was, so the next event still
   * follows the journal without a gap.
   */
  #seal(drafts: readonly EventDraft[]): JournalEvent[] {
    const identity = this.#identity();
    let seq = this.#lastSeq;
    let headHash = this.#headHash;
    const events: JournalEvent[] = [];
    for (const draft of drafts) {
      // Built whole, then its hash filled in: one object per event, of one shape.
      const event = {
        type: draft.type,
        payload: draft.payload,
        runId: this.runId,
        seq: ++seq,
        at: isoTimestamp(this.#clock()),
        actor: draft.actor ?? identity.actor,
        onBehalfOf: draft.onBehalfOf ?? this.#chainOf(identity.onBehalfOf),
        prevHash: headHash,
        hash: '',
      } as JournalEvent;
      headHash = event.hash = hashWithPayload(event, canonicalPayloadJson(draft.payload));
      events.push(event);
    }
    this.#lastSeq = seq;
    this.#headHash = headHash;
    return events;
  }

  /**
   * The identity's chain as events carry it: a frozen copy shared by the events of every journal
   * with the same chain (so the hash chain and the store encode it once), found again only when
   * the identity's chain changes.
   */
  #chainOf(chain: readonly string[]): string[] {
    if (chain !== this.#chainSource) {
      this.#chainSource = chain;
      this.#chain = sharedChain(chain);
    }
    return this.#chain!;
  }

  /** Seals an event now and writes it with the next append. */
  buffer(draft: EventDraft): JournalEvent {
    const [event] = this.#seal([draft]);
    this.#buffered.push(event!);
    return event!;
  }

  /** Appends events (after any buffered ones) and resolves when they are durable. */
  append(
    drafts: readonly EventDraft[],
    options?: { consumeSignals?: readonly string[]; transition?: RunTransition },
  ): Promise<JournalEvent[]> {
    if (this.#broken) return Promise.reject(this.#broken);
    let sealed: JournalEvent[];
    try {
      sealed = this.#seal(drafts);
    } catch (error) {
      return rejected(error);
    }
    const events = this.#buffered.length === 0 ? sealed : [...this.#buffered, ...sealed];
    this.#buffered = [];
    const write: JournalWrite = { runId: this.runId, owner: this.owner, events };
    if (options?.consumeSignals !== undefined) write.consumeSignals = options.consumeSignals;
    if (options?.transition !== undefined) write.transition = options.transition;
    // No async frame of its own: one promise less between a step and its commit.
    return this.#committer.commit(write).then(
      () => events,
      (error: unknown) => {
        this.#broken ??= error as Error;
        throw error;
      },
    );
  }
}

/** Frozen identity chains by their JSON, shared by journals (a worker's runs share a few principals). */
const sharedChains = new Map<string, string[]>();

function sharedChain(chain: readonly string[]): string[] {
  if (!chain.every((entry) => typeof entry === 'string')) return Object.freeze([...chain]) as string[];
  const key = JSON.stringify(chain);
  let shared = sharedChains.get(key);
  if (!shared) {
    if (sharedChains.size >= 1000) sharedChains.clear();
    shared = Object.freeze([...chain]) as string[];
    sharedChains.set(key, shared);
  }
  return shared;
}

let isoSecond = NaN;
let isoPrefix = '';
let isoMillis = NaN;
let isoText = '';

/**
 * `new Date(ms).toISOString()`, cheaper: events sealed in the same millisecond share the text, and
 * those in the same second share its first 20 characters (toISOString alone costs microseconds).
 */
export function isoTimestamp(ms: number): string {
  if (ms === isoMillis) return isoText;
  const second = Math.floor(ms / 1000);
  // Outside years 1970–9999, or a fraction of a millisecond: as Date does it.
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  const millis = ms - second * 1000;
  isoText = `${isoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
  isoMillis = ms;
  return isoText;
}
