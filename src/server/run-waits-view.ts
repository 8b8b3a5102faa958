import { openWaits, type RunWait } from '../journal/run-waits.ts';
import type { RunRecord, Store } from '../store/store.ts';

/** Runs' open waits remembered by last seq: a parked run's journal is read again only when it grows. */
const REMEMBERED = 2000;

/**
 * What each waiting run of a list waits on (a signal, a timer, an approval, a child, a retry, a
 * call in doubt), read from its journal; other runs are listed as they are.
 */
export class RunWaitsView {
  readonly #store: Store;
  readonly #known = new Map<string, { lastSeq: number; waits: RunWait[] }>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** The runs, each waiting one with `waitingOn`. */
  async annotate<R extends Pick<RunRecord, 'runId' | 'status' | 'lastSeq' | 'tenant'>>(
    runs: readonly R[],
  ): Promise<(R & { waitingOn?: RunWait[] })[]> {
    return Promise.all(
      runs.map(async (run) =>
        run.status === 'waiting' ? { ...run, waitingOn: await this.#waitsOf(run) } : run,
      ),
    );
  }

  async #waitsOf(run: Pick<RunRecord, 'runId' | 'lastSeq' | 'tenant'>): Promise<RunWait[]> {
    const known = this.#known.get(run.runId);
    if (known && known.lastSeq === run.lastSeq) return known.waits;
    const waits = openWaits(await this.#store.readEvents(run.runId, 1, { tenant: run.tenant }));
    this.#known.delete(run.runId);
    this.#known.set(run.runId, { lastSeq: run.lastSeq, waits });
    if (this.#known.size > REMEMBERED) this.#known.delete(this.#known.keys().next().value!);
    return waits;
  }
}
