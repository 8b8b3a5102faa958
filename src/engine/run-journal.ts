import type { EventDraft, JournalEvent } from '../journal/events.ts';
import { sealEvent } from '../journal/hash-chain.ts';
import type { RunTransition } from '../store/store.ts';
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
    const events = drafts.map((draft) => {
      const event = sealEvent({
        ...draft,
        runId: this.runId,
        seq: seq + 1,
        at: new Date(this.#clock()).toISOString(),
        actor: draft.actor ?? identity.actor,
        onBehalfOf: draft.onBehalfOf ?? [...identity.onBehalfOf],
        prevHash: headHash,
      });
      seq = event.seq;
      headHash = event.hash;
      return event;
    });
    this.#lastSeq = seq;
    this.#headHash = headHash;
    return events;
  }

  /** Seals an event now and writes it with the next append. */
  buffer(draft: EventDraft): JournalEvent {
    const [event] = this.#seal([draft]);
    this.#buffered.push(event!);
    return event!;
  }

  /** Appends events (after any buffered ones) and resolves when they are durable. */
  async append(
    drafts: readonly EventDraft[],
    options: { consumeSignals?: readonly string[]; transition?: RunTransition } = {},
  ): Promise<JournalEvent[]> {
    if (this.#broken) throw this.#broken;
    const sealed = this.#seal(drafts);
    const events = this.#buffered.length === 0 ? sealed : [...this.#buffered, ...sealed];
    this.#buffered = [];
    const write = { runId: this.runId, owner: this.owner, events, ...options };
    try {
      await this.#committer.commit(write);
    } catch (error) {
      this.#broken ??= error as Error;
      throw error;
    }
    return events;
  }
}
