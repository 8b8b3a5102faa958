import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Baton, type BatonOptions } from '../../src/baton.ts';
import type { RunRecord, RunStatus, Store } from '../../src/store/store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/**
 * The one test harness: a Baton over a store (in-memory SQLite, a SQLite file in a temporary
 * directory, PostgreSQL through {@link runHarnessesOn}, or one the test opened) with a clock the
 * test moves, its workflows registered and a worker that polls often; helpers to wait for runs;
 * {@link harnessesClosedAfterEach} to close what a test opened. The HTTP server opens on top of a
 * harness (test-server.ts).
 */

/** A clock a test moves: `advance` moves what the Baton reads as now. */
export interface TestClock {
  readonly now: () => number;
  advance(ms: number): void;
}

/** A clock the test moves by hand. Starts at a fixed date so journals are reproducible. */
export class ManualClock implements TestClock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1, 9, 0, 0)) {
    this.#now = start;
  }
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** The machine's time, ahead by what the test advanced it: for runs that wait on real timers or a browser. */
export class SystemClock implements TestClock {
  #ahead = 0;
  readonly now = (): number => Date.now() + this.#ahead;
  advance(ms: number): void {
    this.#ahead += ms;
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

export type HarnessOptions = Omit<BatonOptions, 'clock' | 'store' | 'log'> & {
  /**
   * The store: one the test opened (left open by `close`), `'file'` for a SQLite file in a fresh
   * temporary directory (removed by `close`), or by default an in-memory SQLite one (see
   * {@link runHarnessesOn}).
   */
  store?: Store | 'file';
  /** A {@link ManualClock} unless given. */
  clock?: TestClock;
};

export interface Harness {
  baton: Baton;
  store: Store;
  clock: TestClock;
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
 * A Baton on a store (see {@link HarnessOptions}) with a manual clock and a worker that polls
 * often. Close it with `close()`; the store is closed only if the harness opened it.
 */
export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new ManualClock();
  const { store, closeStore } = await harnessStore(options.store);
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
      await closeStore();
    },
  };
}

async function harnessStore(
  store: HarnessOptions['store'],
): Promise<{ store: Store; closeStore: () => Promise<void> }> {
  if (store === 'file') {
    const temp = await tempStore();
    return { store: temp.store, closeStore: temp.dispose };
  }
  if (store !== undefined) return { store, closeStore: async () => {} };
  const opened = await openHarnessStore();
  return { store: opened, closeStore: () => opened.close() };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : JSON.stringify(error);
}

/**
 * Harnesses that live for one test: `start` opens one (as {@link harness} does, with the options
 * `prepare` makes of the test's), `openBaton` opens one and gives its Baton, and an `afterEach`
 * closes every harness still in `open` (push one opened otherwise to have it closed too). A test
 * that closes one itself takes it out of `open`.
 */
export function harnessesClosedAfterEach(
  prepare: (options: HarnessOptions) => HarnessOptions = (options) => options,
): {
  start: (options: HarnessOptions) => Promise<Harness>;
  openBaton: (options?: HarnessOptions) => Promise<Baton>;
  open: Harness[];
} {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  const start = async (options: HarnessOptions): Promise<Harness> => {
    const h = await harness(prepare(options));
    open.push(h);
    return h;
  };
  return { open, start, openBaton: async (options = {}) => (await start(options)).baton };
}

/** Waits (up to a generous limit, as a liveness guard, not a timing check) until `check` holds. */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  // Looks again soon, then every 25 ms: a check that asks a server over HTTP does not flood it.
  for (let pause = 5; ; pause = Math.min(pause * 2, 25)) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
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

/** Resolves when the run is parked waiting (for a signal, a timer) and no worker holds it. */
export async function parked(baton: Baton, runId: string): Promise<void> {
  await settle(baton, runId, 'waiting');
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
