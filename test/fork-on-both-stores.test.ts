import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

const steps: string[] = [];
const flow = defineWorkflow('three-steps', async (ctx, input: { n: number }) => {
  const a = await ctx.step('a', () => (steps.push('a'), input.n + 1));
  const b = await ctx.step('b', () => (steps.push('b'), a * 2));
  return ctx.step('c', () => (steps.push('c'), b + 100));
});

/** A fork is created in one transaction: its copied journal, its run.forked, the origin's note. */
function forkScenario(openStore: () => Promise<Store>) {
  it('writes the fork’s journal and the origin’s note together, and the fork runs on from there', async () => {
    const store = await openStore();
    const baton = await Baton.open({ store, workflows: [flow], worker: { pollMs: 10 } });
    try {
      steps.length = 0;
      const origin = await baton.start(flow, { n: 1 });
      expect(await origin.result()).toBe(104);
      const forked = await baton.fork(origin.runId, { at: 2, overrides: { input: { n: 1 } } });
      expect(await forked.result()).toBe(104);
      expect(steps).toEqual(['a', 'b', 'c', 'b', 'c']);
      const events = await forked.history();
      expect(verifyChain(events).ok).toBe(true);
      expect(events.map((event) => event.type)).toEqual([
        'run.started',
        'step.completed',
        'run.forked',
        'step.completed',
        'step.completed',
        'run.completed',
      ]);
      const run = await baton.getRun(forked.runId);
      expect(run.lastSeq).toBe(6);
      expect((await baton.getRun(origin.runId)).metadata.forkedTo).toMatchObject([
        { type: 'run.forkedTo', runId: forked.runId, seq: 2 },
      ]);
    } finally {
      await baton.close();
      await store.close();
    }
  });
}

describe('fork on SQLite', () => {
  forkScenario(async () => SqliteStore.open({ path: ':memory:' }));
});

const unavailable = await postgresUnavailable();
describePostgres('fork on PostgreSQL', unavailable, () => {
  const database = databaseForSuite();
  forkScenario(async () => PostgresStore.open({ url: database.url, schema: 'fork_test', poolSize: 4 }));
});
