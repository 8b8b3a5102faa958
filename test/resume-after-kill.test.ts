import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { workerLife, type KillPlan, type WorkerLife } from './support/child-process.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

/**
 * Real processes run workflows whose steps append to an outside ledger with their idempotency key.
 * Three of them share one SQLite file; each is SIGKILLed at a random point (between a ledger append
 * and its journal commit, in the middle of group commits, while claiming and replaying) and a new
 * one takes its place, until enough kills have landed; then one runs the work to its end.
 */
const RUNS = 24;
const STEPS = 10;
const KILLS = 24;
const PROCESSES = 3;
const FIXTURE = resolve(import.meta.dirname, 'fixtures/crash-worker.ts');

const cleanups = cleanupsAfterAll();
let directory: string;
beforeAll(async () => {
  directory = await cleanups.directory('baton-crash-');
});

/** Runs the worker once; kills it as planned (after some ledger appends, or some time), or lets it finish. */
const life = (db: string, ledger: string, plan: KillPlan, limitMs: number): Promise<WorkerLife> =>
  workerLife([FIXTURE, db, ledger, String(RUNS), String(STEPS)], plan, limitMs);

describe('resume after kill', () => {
  it('every run completes, each step is journaled once and applied once by key, and every chain verifies', async () => {
    const db = join(directory, 'baton.db');
    const ledger = join(directory, 'ledger.txt');
    const lives: WorkerLife[] = [];
    let kills = 0;
    let finished = false;
    const lane = async (): Promise<void> => {
      while (kills < KILLS && !finished) {
        // Mostly mid-work; sometimes early, while it waits for expired leases, claims and replays. An
        // early kill is still due after its effects, so that a worker fast enough to finish the work
        // within the delay cannot end the kills before they have landed.
        const afterEffects = randomInt(1, 11);
        const plan: KillPlan =
          randomInt(0, 6) === 0 ? { afterReadyMs: randomInt(0, 400), afterEffects } : { afterEffects };
        const current = await life(db, ledger, plan, 30_000);
        lives.push(current);
        if (current.ended === 'killed') kills++;
        else {
          expect(current.code, current.stderr).toBe(0);
          if (current.done) finished = true;
        }
      }
    };
    await Promise.all(Array.from({ length: PROCESSES }, lane));
    // Let it finish undisturbed (it may already have).
    const last = await life(db, ledger, undefined, 30_000);
    lives.push(last);
    expect(last.ended).toBe('exited');
    expect(last.code, last.stderr).toBe(0);
    expect(last.done).toBe(true);
    // Under load the work may end before every lane has used its kills; a third of them still puts a
    // kill in every phase many times over.
    expect(kills, 'the work ended before enough kills landed').toBeGreaterThanOrEqual(KILLS / 3);

    const store = SqliteStore.open({ path: db });
    try {
      const runs = await store.listRuns({ limit: 1000 });
      expect(runs).toHaveLength(RUNS);
      expect(runs.map((run) => run.status)).toEqual(Array(RUNS).fill('completed'));

      // The ledger: `<runId>:<op> <token>` per applied effect, possibly repeated after a crash.
      const lines = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
      const applied = new Map<string, Set<string>>();
      for (const line of lines) {
        const match = /^(run_[0-9a-z]+:\d+) ([0-9a-f-]{36})$/.exec(line);
        expect(match, `a well-formed ledger line: ${JSON.stringify(line)}`).not.toBeNull();
        const [, key, token] = match!;
        if (!applied.has(key!)) applied.set(key!, new Set());
        applied.get(key!)!.add(token!);
      }

      const expectedNames = [
        ...Array.from({ length: STEPS }, (_, index) => `post-${index}`),
        'fan-a',
        'fan-b',
        'fan-c',
      ];
      const journaledKeys = new Set<string>();
      for (const run of runs) {
        const events = await store.readEvents(run.runId);
        const verification = verifyChain(events, run.runId);
        expect(verification.ok, JSON.stringify(verification.broken)).toBe(true);
        expect(verification.head).toBe(run.headHash);
        expect(events.at(-1)?.type).toBe('run.completed');

        const steps = events.filter(
          (event): event is JournalEvent<'step.completed'> => event.type === 'step.completed',
        );
        // Each step's result is journaled exactly once.
        expect(steps.map((step) => step.payload.name).sort()).toEqual([...expectedNames].sort());
        expect(new Set(steps.map((step) => step.payload.op)).size).toBe(steps.length);
        expect(
          events.filter((event) => event.type === 'step.failed' || event.type === 'step.attempt.failed'),
        ).toEqual([]);
        expect(events.filter((event) => event.type === 'signal.received')).toHaveLength(1);

        for (const step of steps) {
          const key = `${run.runId}:${step.payload.op}`;
          journaledKeys.add(key);
          // Applied at least once, and the journaled result is the token of an effect that was applied.
          expect(applied.get(key), `ledger entries for ${key}`).toBeDefined();
          expect(applied.get(key)!.has(step.payload.result as string)).toBe(true);
        }
        expect((run.result as { tokens: string[] }).tokens).toEqual(
          expectedNames.map((name) => steps.find((step) => step.payload.name === name)!.payload.result),
        );
      }
      // After de-duplication by key, the ledger holds exactly one effect per journaled step.
      expect(new Set(applied.keys())).toEqual(journaledKeys);
      expect(journaledKeys.size).toBe(RUNS * expectedNames.length);
      expect(existsSync(db)).toBe(true);
    } finally {
      await store.close();
    }
  }, 90_000);
});
