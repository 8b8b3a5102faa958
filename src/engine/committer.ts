import type { JournalWrite, Store, WriteOutcome } from '../store/store.ts';

interface Pending {
  write: JournalWrite;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Group commit: writes requested by any run of this process in the same turn of the event loop
 * (and while a commit is in flight) go to the store together, in one transaction. Each write
 * still succeeds or fails on its own (lease fencing), and each caller resumes only after its
 * write is durable.
 */
export class Committer {
  readonly #store: Store;
  readonly #clock: () => number;
  #queue: Pending[] = [];
  #scheduled = false;
  #flushing = false;
  /** Writes committed, and transactions used, since start (for benchmarks and metrics). */
  readonly stats = { writes: 0, transactions: 0 };

  readonly #onCommitted: ((writes: readonly JournalWrite[]) => void) | undefined;

  /**
   * `onCommitted` hears of every write once it is durable (OpenTelemetry spans and metrics are
   * derived there, so replays, which write nothing, never repeat them). It must not throw.
   */
  constructor(
    store: Store,
    clock: () => number,
    options: { onCommitted?: (writes: readonly JournalWrite[]) => void } = {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#onCommitted = options.onCommitted;
  }

  commit(write: JournalWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ write, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(this.#flushScheduled);
  }

  /** One callback for every scheduled flush (none made per flush). */
  readonly #flushScheduled = (): void => {
    this.#scheduled = false;
    void this.#flush();
  };

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    this.#flushing = true;
    let outcomes: WriteOutcome[];
    try {
      outcomes = await this.#store.commit(
        batch.map((pending) => pending.write),
        this.#clock(),
      );
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false as const, error: error as Error }));
    } finally {
      this.#flushing = false;
    }
    this.stats.transactions++;
    this.stats.writes += batch.length;
    let committed: JournalWrite[] | undefined;
    for (let index = 0; index < batch.length; index++) {
      const outcome = outcomes[index]!;
      if (outcome.ok) (committed ??= []).push(batch[index]!.write);
    }
    if (this.#onCommitted && committed) {
      try {
        this.#onCommitted(committed);
      } catch {
        // Observers never fail a commit.
      }
    }
    for (let index = 0; index < batch.length; index++) {
      const outcome = outcomes[index]!;
      if (outcome.ok) batch[index]!.resolve();
      else batch[index]!.reject(outcome.error);
    }
    if (this.#queue.length > 0) this.#schedule();
  }
}
