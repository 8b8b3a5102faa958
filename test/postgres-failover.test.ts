import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { eventOp, type JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { orderWorkflow, type Approval } from './fixtures/failover-workflows.ts';
import { until } from './support/harness.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

const unavailable = await postgresUnavailable();

const RUNS = 300;
const LEASE_MS = 1500;
const NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/postgres-worker.ts', import.meta.url));

describePostgres('PostgreSQL failover', unavailable, () => {
  const database = databaseForSuite();
  let store: PostgresStore;
  let client: Baton;
  const workers = new Map<string, ChildProcess>();

  beforeAll(async () => {
    store = await PostgresStore.open({ url: database.url, poolSize: 4 });
    client = await Baton.open({ store, workflows: [orderWorkflow], worker: false });
  });
  afterAll(async () => {
    for (const worker of workers.values())
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await client?.close();
    await store?.close();
  });

  /** Starts a worker process and resolves once its worker runs. */
  async function startWorker(id: string): Promise<ChildProcess> {
    const child = spawn(
      NODE,
      // The fixture imports our files by relative path: no export condition or hook is needed.
      ['--disable-warning=ExperimentalWarning', WORKER_SCRIPT, database.url, id, String(LEASE_MS)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    workers.set(id, child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`worker ${id} exited (${code ?? signal}) before it was ready`)),
      );
    });
    return child;
  }

  /**
   * SIGKILLs a worker as soon as it is seen holding a lease, while the test goes on making work.
   * Resolves with the runs it still held when it died: those it was killed in the middle of.
   */
  async function killMidRun(id: string): Promise<string[]> {
    await until(async () => {
      const rows = await database.query(
        `SELECT 1 FROM baton.runs WHERE status = 'running' AND lease_owner = $1 LIMIT 1`,
        [id],
      );
      return rows.length > 0;
    }, `worker ${id} to hold a lease`);
    const worker = workers.get(id)!;
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    const held = await database.query<{ run_id: string }>(
      `SELECT run_id FROM baton.runs WHERE status = 'running' AND lease_owner = $1`,
      [id],
    );
    return held.map((row) => row.run_id);
  }

  function approval(index: number): Approval {
    return { approved: index % 5 !== 0, by: `user:approver-${index}` };
  }

  it('completes every run, records each step once and loses no signal, with workers SIGKILLed mid-run', async () => {
    await Promise.all(['w1', 'w2', 'w3'].map((id) => startWorker(id)));

    // Kill w1 a third of the way through starting the runs, and w2 two thirds of the way; w4 joins.
    const runIds: string[] = [];
    const kills: Promise<string[]>[] = [];
    for (let index = 0; index < RUNS; index++) {
      if (index === RUNS / 3)
        kills.push(killMidRun('w1').then(async (held) => (await startWorker('w4'), held)));
      if (index === (2 * RUNS) / 3) kills.push(killMidRun('w2'));
      const run = await client.start(orderWorkflow, { index, coolOffMs: 50 + ((index * 37) % 400) });
      runIds.push(run.runId);
      // Half the signals arrive before the run waits for them (kept), half after (a wake-up).
      if (index % 2 === 0)
        await client.signal(run.runId, 'approval', approval(index), { as: `user:approver-${index}` });
    }
    for (let index = 1; index < RUNS; index += 2) {
      await client.signal(runIds[index]!, 'approval', approval(index), { as: `user:approver-${index}` });
    }
    const killedMidRun = (await Promise.all(kills)).flat();

    await until(
      async () => {
        const rows = await database.query<{ open: string }>(
          `SELECT count(*) AS open FROM baton.runs WHERE status NOT IN ('completed', 'failed', 'cancelled')`,
        );
        return Number(rows[0]!.open) === 0;
      },
      'every run to finish',
      90_000,
    );

    // A dead worker's leases outlive it: these runs were cut off mid-activation and taken over.
    expect(killedMidRun.length).toBeGreaterThan(0);
    const pidsByWorker = new Map([...workers].map(([id, worker]) => [worker.pid!, id]));
    const workersThatStepped = new Set<string>();

    for (const [index, runId] of runIds.entries()) {
      const run = await store.getRun(runId);
      expect(run?.status, `run ${index}`).toBe('completed');
      expect(run!.result).toEqual({
        index,
        sku: `sku-${index}`,
        risk: index % 7,
        approval: approval(index),
        charged: index * 100,
        parcel: `parcel-${index}`,
      });

      const events = await store.readEvents(runId);
      expect(verifyChain(events).ok, `the hash chain of run ${index}`).toBe(true);
      // Nothing recorded twice: one event of each type per op, one start, one completion.
      const seen = new Set<string>();
      for (const event of events) {
        const key = `${eventOp(event) ?? '-'}:${event.type}`;
        expect(seen.has(key), `run ${index} recorded ${key} twice`).toBe(false);
        seen.add(key);
      }
      const steps = events.filter(
        (event): event is JournalEvent<'step.completed'> => event.type === 'step.completed',
      );
      expect(steps.map((event) => event.payload.name).sort()).toEqual([
        'charge',
        'price',
        'reserve',
        'score',
        'ship',
      ]);
      for (const step of steps)
        workersThatStepped.add(pidsByWorker.get((step.payload.result as { pid: number }).pid) ?? '?');

      // The one signal sent is the one received, and it is consumed.
      const signals = await database.query<{ signal_id: string; consumed: boolean }>(
        `SELECT signal_id, consumed FROM baton.signals WHERE run_id = $1`,
        [runId],
      );
      expect(signals, `signals of run ${index}`).toHaveLength(1);
      expect(signals[0]!.consumed).toBe(true);
      const received = events.filter(
        (event): event is JournalEvent<'signal.received'> => event.type === 'signal.received',
      );
      expect(received.map((event) => event.payload.signalId)).toEqual([signals[0]!.signal_id]);
      expect(received[0]!.payload.payload).toEqual(approval(index));
    }

    // The killed workers had done work, and the survivors finished it.
    expect(workersThatStepped).toContain('w1');
    expect(workersThatStepped).toContain('w2');
    expect([...workersThatStepped].filter((id) => id === 'w3' || id === 'w4').length).toBeGreaterThan(0);
    expect(await database.query(`SELECT run_id FROM baton.runs WHERE lease_owner IS NOT NULL`)).toEqual([]);
  });
});
