import pg from 'pg';
import { expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { gate, until } from './support/harness.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

const unavailable = await postgresUnavailable();

describePostgres('PostgreSQL connection lost mid-run', unavailable, () => {
  const database = databaseForSuite();

  it('a step whose commit lost its connection is not recorded; the worker lets the run go and another resumes it by replay', async () => {
    const entered = gate();
    const release = gate();
    const ranOn: string[] = [];
    const flow = defineWorkflow('lost.connection', async (ctx) => {
      const first = await ctx.step('one', async () => {
        ranOn.push(ctx.runId);
        if (ranOn.length === 1) {
          entered.open();
          await release.promise;
        }
        return 'first';
      });
      const second = await ctx.step('two', () => 'second');
      return [first, second];
    });

    const storeA = await PostgresStore.open({
      url: database.url,
      poolSize: 3,
      applicationName: 'baton_worker_a',
    });
    const workerA = await Baton.open({
      store: storeA,
      workflows: [flow],
      worker: { id: 'worker-a', leaseMs: 1000, pollMs: 50 },
    });
    const holder = new pg.Client({ connectionString: database.url });
    holder.on('error', () => {});
    await holder.connect();
    let storeB: PostgresStore | undefined;
    let workerB: Baton | undefined;
    try {
      const run = await workerA.start(flow, null);
      await entered.promise;

      // Hold the run's row, let the step finish: its commit waits on the lock. Then cut that connection.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM baton.runs WHERE run_id = $1 FOR UPDATE', [run.runId]);
      release.open();
      const [backend] = await until(async () => {
        const rows = await database.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
           WHERE application_name = 'baton_worker_a' AND wait_event_type = 'Lock' AND query LIKE '%WITH fenced AS%'`,
        );
        return rows.length > 0 ? rows : undefined;
      }, 'the step commit to wait on the row lock');
      await database.query('SELECT pg_terminate_backend($1)', [backend!.pid]);
      await holder.query('ROLLBACK');

      // Worker A's journal for the run broke on the lost connection: it lets the run go, unwritten.
      await until(() => workerA.worker!.activeRuns === 0, 'worker A to let the run go');
      await workerA.close();
      const after = await storeA.getRun(run.runId);
      expect(after).toMatchObject({ status: 'running', leaseOwner: 'worker-a', lastSeq: 1 });

      // Another worker takes the run over when A's lease expires, and replays it to the end.
      storeB = await PostgresStore.open({ url: database.url, poolSize: 3 });
      workerB = await Baton.open({
        store: storeB,
        workflows: [flow],
        worker: { id: 'worker-b', leaseMs: 1000, pollMs: 50 },
      });
      expect(await workerB.result(run.runId)).toEqual(['first', 'second']);

      expect(ranOn).toEqual([run.runId, run.runId]); // the step ran again: its first result never committed
      const steps = (await workerB.store.readEvents(run.runId)).filter(
        (event): event is JournalEvent<'step.completed'> => event.type === 'step.completed',
      );
      expect(steps.map((event) => event.payload.name)).toEqual(['one', 'two']);
    } finally {
      await holder.end();
      await workerA.close();
      await workerB?.close();
      await storeA.close();
      await storeB?.close();
    }
  });
});
