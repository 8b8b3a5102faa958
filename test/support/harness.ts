import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baton, type BatonOptions } from '../../src/baton.ts';
import type { RunRecord, RunStatus, Store } from '../../src/store/store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/** A clock the test moves by hand. Starts at a fixed date so journals are reproducible. */
export class ManualClock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1, 9, 0, 0)) {
    this.#now = start;
  }
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A SQLite store in a fresh temporary directory, removed by `dispose`. */
export async function tempStore(options: { durability?: 'full' | 'normal' } = {}): Promise<{
  store: SqliteStore;
  path: string;
  directory: string;
  dispose: () => Promise<void>;
}> {
  const directory = await mkdtemp(join(tmpdir(), 'baton-test-'));
  const path = join(directory, 'baton.db');
  const store = SqliteStore.open({ path, ...(options.durability ? { durability: options.durability } : {}) });
  return {
    store,
    path,
    directory,
    dispose: async () => {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

let openHarnessStore: () => Promise<Store> = async () => SqliteStore.open({ path: ':memory:' });

/**
 * Makes the harnesses opened after this call without a store (in this test file) run on stores
 * from `open` instead of in-memory SQLite ones: how scenario tests run again on PostgreSQL
 * (test/scenarios-on-postgres.test.ts). A harness closes the store it opened.
 */
export function runHarnessesOn(open: () => Promise<Store>): void {
  openHarnessStore = open;
}

export interface Harness {
  baton: Baton;
  store: Store;
  clock: ManualClock;
  /** What the engine logged. */
  logs: string[];
  /** Moves the clock and tells the worker to look for runs that became due. */
  advance(ms: number): void;
  /**
   * Waits until the run has the status (and, for waiting, until no worker slot holds it). With
   * `beyondSeq`, also until its journal has grown past that seq (it moved since then).
   */
  settle(runId: string, status: RunStatus | readonly RunStatus[], beyondSeq?: number): Promise<RunRecord>;
  /** Moves the clock by `ms` and waits until the run has moved on and reached `status`. */
  advanceUntil(runId: string, ms: number, status: RunStatus | readonly RunStatus[]): Promise<RunRecord>;
  close(): Promise<void>;
}

/**
 * A Baton on `store` (an in-memory SQLite store unless given, see {@link runHarnessesOn}) with a manual clock and a worker that
 * polls often. Close it with `close()`; the store is closed only if the harness opened it.
 */
export async function harness(
  options: Omit<BatonOptions, 'clock' | 'store' | 'log'> & { store?: Store; clock?: ManualClock } = {},
): Promise<Harness> {
  const clock = options.clock ?? new ManualClock();
  const ownStore = options.store === undefined;
  const store = options.store ?? (await openHarnessStore());
  const logs: string[] = [];
  const baton = await Baton.open({
    ...options,
    store,
    clock: clock.now,
    log: (message, error) => logs.push(error === undefined ? message : `${message} ${describeError(error)}`),
    worker: options.worker === false ? false : { pollMs: 20, ...options.worker },
  });
  return {
    baton,
    store,
    clock,
    logs,
    advance(ms) {
      clock.advance(ms);
      baton.worker?.notify();
    },
    settle: (runId, status, beyondSeq) => settle(baton, runId, status, beyondSeq),
    async advanceUntil(runId, ms, status) {
      const before = await store.getRun(runId);
      clock.advance(ms);
      baton.worker?.notify();
      return settle(baton, runId, status, before?.lastSeq ?? 0);
    },
    async close() {
      await baton.close();
      if (ownStore) await store.close();
    },
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error);
}

/** Waits (up to a generous limit, as a liveness guard, not a timing check) until `check` holds. */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function settle(
  baton: Baton,
  runId: string,
  status: RunStatus | readonly RunStatus[],
  beyondSeq = 0,
): Promise<RunRecord> {
  const wanted = typeof status === 'string' ? [status] : status;
  return until(
    async () => {
      const run = await baton.store.getRun(runId);
      if (!run || !wanted.includes(run.status) || run.lastSeq <= beyondSeq) return undefined;
      // A run is parked only once the worker has let go of it.
      if (run.status === 'waiting' && (baton.worker?.activeRuns ?? 0) > 0) return undefined;
      return run;
    },
    `run ${runId} to be ${wanted.join(' or ')}`,
  );
}

/** A promise with its resolve function outside, to hold a step open until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves when the signal aborts, with its reason. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}
