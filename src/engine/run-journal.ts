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
  readonly #committer: Committer;
  readonly #clock: () => number;
  readonly #identity: () => { actor: string; onBehalfOf: readonly string[] };

  constructor(args: {
    runId: string;
    owner: string;
    lastSeq: number;
    headHash: string;
    committer: Committer;
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

  #seal(draft: EventDraft): JournalEvent {
    const identity = this.#identity();
    const event = sealEvent({
      runId: this.runId,
      seq: ++this.#lastSeq,
      type: draft.type,
      at: new Date(this.#clock()).toISOString(),
      actor: draft.actor ?? identity.actor,
      onBehalfOf: draft.onBehalfOf ?? [...identity.onBehalfOf],
      payload: draft.payload,
      prevHash: this.#headHash,
    });
    this.#headHash = event.hash;
    return event;
  }

  /** Seals an event now and writes it with the next append. */
  buffer(draft: EventDraft): JournalEvent {
    const event = this.#seal(draft);
    this.#buffered.push(event);
    return event;
  }

  /** Appends events (after any buffered ones) and resolves when they are durable. */
  async append(
    drafts: readonly EventDraft[],
    options: { consumeSignals?: readonly string[]; transition?: RunTransition } = {},
  ): Promise<JournalEvent[]> {
    if (this.#broken) throw this.#broken;
    const events = [...this.#buffered, ...drafts.map((draft) => this.#seal(draft))];
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
