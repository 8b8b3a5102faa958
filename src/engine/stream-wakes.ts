import type { RunStreamStore } from '../store/run-streams.ts';
import { StreamReadersExhaustedError } from './stream-errors.ts';

/**
 * Wakes a process's live stream readers when their run has something new: parts or events this
 * process wrote (told directly), parts another process wrote (the store's `subscribeParts`, when it
 * has one), or, failing both, after the poll interval. Counts readers and refuses more than
 * `maxReaders`, so a flood of readers is bounded.
 */
export class StreamWakes {
  readonly #streams: RunStreamStore | undefined;
  readonly #maxReaders: number;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #waiters = new Map<string, Set<() => void>>();
  #readers = 0;
  #subscription: Promise<(() => Promise<void>) | undefined> | undefined;
  #closed = false;

  constructor(
    streams: RunStreamStore | undefined,
    options: { maxReaders: number; log: (message: string, error?: unknown) => void },
  ) {
    this.#streams = streams;
    this.#maxReaders = options.maxReaders;
    this.#log = options.log;
  }

  /** Readers now open in this process. */
  get readers(): number {
    return this.#readers;
  }

  /** Timers and listeners now held for waiting readers. */
  get waiting(): number {
    let count = 0;
    for (const set of this.#waiters.values()) count += set.size;
    return count;
  }

  /** Takes a reader's place; throws StreamReadersExhaustedError when all are taken. Returns its release. */
  admit(): () => void {
    if (this.#readers >= this.#maxReaders) throw new StreamReadersExhaustedError({ limit: this.#maxReaders });
    this.#readers++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#readers--;
    };
  }

  /** No reader of this process is waiting for news: a notification would wake nobody. */
  get idle(): boolean {
    return this.#waiters.size === 0;
  }

  /** Wakes the readers of these runs (`'*'`: of every run). */
  notify(runIds: readonly string[]): void {
    for (const runId of runIds) {
      if (runId === '*') {
        for (const set of this.#waiters.values()) for (const wake of [...set]) wake();
        continue;
      }
      const set = this.#waiters.get(runId);
      if (set) for (const wake of [...set]) wake();
    }
  }

  /** Resolves when the run has news, after `timeoutMs`, or when `signal` aborts; holds nothing after. */
  wait(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.#listen();
    return new Promise((resolve) => {
      if (signal?.aborted || this.#closed) return resolve();
      let set = this.#waiters.get(runId);
      if (!set) this.#waiters.set(runId, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(runId) === waiters) this.#waiters.delete(runId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  #listen(): void {
    if (this.#subscription || this.#closed || !this.#streams?.subscribeParts) return;
    this.#subscription = this.#streams
      .subscribeParts((runId) => this.notify([runId]))
      .catch((error: unknown) => {
        this.#log('Could not listen for live stream parts of other processes; readers poll', error);
        return undefined;
      });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.notify(['*']);
    const unsubscribe = await this.#subscription;
    await unsubscribe?.();
  }
}
