import type { JournalEvent } from '../journal/events.ts';
import { isTerminal, type RunRecord, type Store } from '../store/store.ts';

/** What a subscriber of a run's feed is given: events after the last it saw, and the run when it changed. */
export interface FeedUpdate {
  events: JournalEvent[];
  run: RunRecord;
  /** The run has finished and every event it wrote has been delivered. */
  finished: boolean;
}

interface Subscriber {
  after: number;
  updatedAt: number;
  listener: (update: FeedUpdate) => void;
  onError: (error: unknown) => void;
}

interface Watch {
  runId: string;
  tenant: string;
  subscribers: Set<Subscriber>;
  timer: ReturnType<typeof setTimeout> | undefined;
  polling: boolean;
}

/**
 * New journal events of runs, for server-sent event streams. One poller per watched run, however
 * many clients watch it: it asks the store for the run's last seq and reads only what is new, so a
 * run written by a worker in any process shows up. A run's poller stops (its timer cleared) when
 * its last subscriber leaves; `close()` stops them all.
 */
export class RunFeed {
  readonly #store: Store;
  readonly #pollMs: number;
  readonly #watches = new Map<string, Watch>();
  #closed = false;

  constructor(store: Store, options: { pollMs: number }) {
    this.#store = store;
    this.#pollMs = options.pollMs;
  }

  /** Runs being watched (each holds one timer). */
  get watchedRuns(): number {
    return this.#watches.size;
  }

  /** Subscribers across all runs. */
  get subscribers(): number {
    let count = 0;
    for (const watch of this.#watches.values()) count += watch.subscribers.size;
    return count;
  }

  /**
   * Calls `listener` with the run's events after seq `after` (at once, then as they are written).
   * Returns the function that unsubscribes; call it exactly when the client goes away.
   */
  subscribe(
    run: { runId: string; tenant: string },
    after: number,
    listener: (update: FeedUpdate) => void,
    onError: (error: unknown) => void,
  ): () => void {
    if (this.#closed) throw new Error('The run feed is closed.');
    const key = `${run.tenant}\u0000${run.runId}`;
    let watch = this.#watches.get(key);
    if (!watch) {
      watch = {
        runId: run.runId,
        tenant: run.tenant,
        subscribers: new Set(),
        timer: undefined,
        polling: false,
      };
      this.#watches.set(key, watch);
    }
    const subscriber: Subscriber = { after, updatedAt: -1, listener, onError };
    watch.subscribers.add(subscriber);
    this.#schedule(watch, 0);
    const current = watch;
    return () => {
      current.subscribers.delete(subscriber);
      if (current.subscribers.size === 0) {
        clearTimeout(current.timer);
        current.timer = undefined;
        if (this.#watches.get(key) === current) this.#watches.delete(key);
      }
    };
  }

  close(): void {
    this.#closed = true;
    for (const watch of this.#watches.values()) {
      clearTimeout(watch.timer);
      watch.subscribers.clear();
    }
    this.#watches.clear();
  }

  #schedule(watch: Watch, delay: number): void {
    if (watch.polling || watch.subscribers.size === 0) return;
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => void this.#poll(watch), delay);
  }

  async #poll(watch: Watch): Promise<void> {
    watch.timer = undefined;
    if (watch.subscribers.size === 0) return;
    watch.polling = true;
    try {
      const run = await this.#store.getRun(watch.runId, { tenant: watch.tenant });
      if (!run) throw new Error(`Run ${watch.runId} is gone.`);
      const from = Math.min(...[...watch.subscribers].map((subscriber) => subscriber.after)) + 1;
      const events =
        from <= run.lastSeq ? await this.#store.readEvents(watch.runId, from, { tenant: watch.tenant }) : [];
      const lastSeq = events.at(-1)?.seq ?? run.lastSeq;
      // The run as read may be older than the events (a write landed in between): report it no newer than them.
      const finished = isTerminal(run.status) && lastSeq >= run.lastSeq;
      for (const subscriber of [...watch.subscribers]) {
        const fresh = events.filter((event) => event.seq > subscriber.after);
        if (fresh.length === 0 && subscriber.updatedAt === run.updatedAt && !finished) continue;
        subscriber.after = Math.max(subscriber.after, fresh.at(-1)?.seq ?? subscriber.after);
        subscriber.updatedAt = run.updatedAt;
        subscriber.listener({ events: fresh, run, finished });
      }
    } catch (error) {
      for (const subscriber of [...watch.subscribers]) subscriber.onError(error);
    } finally {
      watch.polling = false;
    }
    if (!this.#closed) this.#schedule(watch, this.#pollMs);
  }
}
