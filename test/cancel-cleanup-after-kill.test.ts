import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { workerLife, type WorkerLife } from './support/child-process.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

/**
 * Real processes run workflows that clean up after a cancel (three release steps in a
 * non-cancellable scope, each appending to an outside ledger with its idempotency key). Each process
 * is SIGKILLed at a random point of that cleanup (between a ledger append and its journal commit,
 * while the cancellation is being journaled, while replaying) and a new one takes its place; then one
 * runs the work to its end. Every run must end cancelled with its cleanup journaled exactly once.
 */
const RUNS = 8;
const KILLS = 10;
const FIXTURE = resolve(import.meta.dirname, 'fixtures/cancel-cleanup-worker.ts');

const cleanups = cleanupsAfterAll();
let directory: string;
beforeAll(async () => {
  directory = await cleanups.directory('baton-cancel-kill-');
});

/** Runs the worker once; kills it a few ms after its n-th ledger append, or lets it finish. */
const life = (
  db: string,
  ledger: string,
  afterEffects: number | undefined,
  limitMs: number,
): Promise<WorkerLife> =>
  workerLife(
    [FIXTURE, db, ledger, String(RUNS)],
    afterEffects === undefined ? undefined : { afterEffects },
    limitMs,
  );

describe('cancel cleanup after kill', () => {
  it('a run killed during its cleanup after a cancel finishes the cleanup exactly once', async () => {
    const db = join(directory, 'baton.db');
    const ledger = join(directory, 'ledger.txt');
    let kills = 0;
    let finished = false;
    while (kills < KILLS && !finished) {
      const current = await life(db, ledger, randomInt(1, 8), 30_000);
      if (current.ended === 'killed') kills++;
      else {
        expect(current.code, current.stderr).toBe(0);
        finished = current.done;
      }
    }
    const last = await life(db, ledger, undefined, 30_000);
    expect(last.code, last.stderr).toBe(0);
    expect(last.done).toBe(true);
    expect(kills, 'the work ended before enough kills landed').toBeGreaterThanOrEqual(KILLS / 3);

    const store = SqliteStore.open({ path: db });
    try {
      const runs = await store.listRuns({ limit: 1000 });
      expect(runs).toHaveLength(RUNS);
      expect(runs.map((run) => run.status)).toEqual(Array(RUNS).fill('cancelled'));
      const applied = new Map<string, Set<string>>();
      for (const line of readFileSync(ledger, 'utf8').split('\n').filter(Boolean)) {
        const [key, token] = line.split(' ');
        if (!applied.has(key!)) applied.set(key!, new Set());
        applied.get(key!)!.add(token!);
      }
      for (const run of runs) {
        const events = await store.readEvents(run.runId);
        expect(verifyChain(events, run.runId).ok).toBe(true);
        expect(events.filter((event) => event.type === 'run.cancelRequested')).toHaveLength(1);
        expect(events.at(-1)).toMatchObject({
          type: 'run.cancelled',
          payload: { reason: 'customer left', by: 'user:ops' },
        });
        const steps = events.filter(
          (event): event is JournalEvent<'step.completed'> => event.type === 'step.completed',
        );
        const releases = steps.filter((step) => step.payload.name.startsWith('release-'));
        // The cleanup is journaled exactly once per step, and what it journaled was applied.
        expect(releases.map((step) => step.payload.name).sort()).toEqual([
          'release-0',
          'release-1',
          'release-2',
        ]);
        for (const step of releases) {
          const key = `${run.runId}:${step.payload.op}`;
          expect(applied.get(key)?.has(step.payload.result as string), `ledger entry for ${key}`).toBe(true);
        }
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
