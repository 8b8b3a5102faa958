import type { NewStreamPart, RunStreamStore } from '../store/run-streams.ts';

export interface RunStreamWriterOptions {
  /** Parts held in memory waiting to be written, across runs; beyond it new parts are dropped (and counted). Default 10 000. */
  maxBufferedParts?: number;
  clock: () => number;
  log: (message: string, error?: unknown) => void;
  /**
   * Writes are at least this far apart (ms): a first part goes out at once, parts that follow within
   * the interval wait for the next batch. Fewer, bigger writes keep the journal's commits fast. Default 10.
   */
  minWriteIntervalMs?: number;
  /** Told, after each write, which runs have new parts (wakes this process's readers). */
  onWritten?: (runIds: readonly string[]) => void;
}

/**
 * Writes runs' ephemeral stream parts for one process. `write` never waits: parts are buffered and
 * written in the background, in order, as one batch per round (what arrived while the previous
 * round was written goes in the next), so a model call or a step never waits on the stream and a
 * slow disk only makes batches bigger. The buffer is bounded: when full, new parts are dropped and
 * a `dropped` part says how many. A failed write is logged and its parts are lost (they are
 * ephemeral; the journal holds the outcome).
 *
 * The first time this process writes to a run, model calls a dead worker left open in its stream
 * are closed with an `interrupted` part first.
 */
export class RunStreamWriter {
  readonly #store: RunStreamStore;
  readonly #max: number;
  readonly #options: RunStreamWriterOptions;
  #buffer: NewStreamPart[] = [];
  readonly #dropped = new Map<string, number>();
  readonly #checked = new Set<string>();
  #writing: Promise<void> | undefined;
  #failures = 0;
  #lastWriteAt = -Infinity;
  /** Flushes waiting: while there are any, the drain does not wait out the write interval. */
  #flushes = 0;
  /** Ends the drain's wait for the write interval early, when a flush comes during it. */
  #hurry: (() => void) | undefined;

  constructor(store: RunStreamStore, options: RunStreamWriterOptions) {
    this.#store = store;
    this.#options = options;
    this.#max = options.maxBufferedParts ?? 10_000;
  }

  /** Parts waiting to be written. */
  get buffered(): number {
    return this.#buffer.length;
  }

  write(part: NewStreamPart): void {
    if (this.#buffer.length >= this.#max) {
      this.#dropped.set(part.runId, (this.#dropped.get(part.runId) ?? 0) + 1);
    } else {
      this.#buffer.push(part);
    }
    this.#writing ??= this.#drain();
  }

  /**
   * Resolves once every part written so far is in the store (or was given up on). The parts waiting
   * for the write interval go at once: an activation that ends flushes, and would otherwise wait out
   * the interval (up to `minWriteIntervalMs` added to every run's end).
   */
  async flush(): Promise<void> {
    this.#flushes++;
    try {
      while (this.#writing) {
        this.#hurry?.();
        await this.#writing;
      }
    } finally {
      this.#flushes--;
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#buffer.length > 0 || this.#dropped.size > 0) {
        // Let the parts of this turn of the event loop, or of the interval since the last write, join the batch.
        const wait = this.#lastWriteAt + (this.#options.minWriteIntervalMs ?? 10) - performance.now();
        if (wait > 0 && this.#flushes === 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.#hurry = () => {
              clearTimeout(timer);
              setImmediate(resolve);
            };
          });
          this.#hurry = undefined;
        } else {
          await new Promise((resolve) => setImmediate(resolve));
        }
        this.#lastWriteAt = performance.now();
        const batch = this.#takeBatch();
        const runIds = [...new Set(batch.map((part) => part.runId))];
        try {
          for (const runId of runIds) {
            if (this.#checked.has(runId)) continue;
            this.#checked.add(runId);
            await this.#store.interruptOpenCalls(
              runId,
              this.#options.clock(),
              'the worker writing these calls stopped; the run resumed on another activation',
            );
          }
          await this.#store.appendParts(batch);
          this.#failures = 0;
        } catch (error) {
          if (this.#failures++ === 0)
            this.#options.log('Live stream parts could not be written; they were dropped', error);
        }
        this.#options.onWritten?.(runIds);
      }
    } finally {
      this.#writing = undefined;
    }
  }

  #takeBatch(): NewStreamPart[] {
    const batch = this.#buffer;
    this.#buffer = [];
    const at = this.#options.clock();
    for (const [runId, count] of this.#dropped) batch.push({ runId, type: 'dropped', data: { count }, at });
    this.#dropped.clear();
    return batch;
  }

  /** Forgets which runs were checked for open calls (a run this process gives up may come back after a crash elsewhere). */
  release(runId: string): void {
    this.#checked.delete(runId);
  }
}
