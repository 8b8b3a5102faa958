import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { callApi, LOAD_POOLS } from './fixtures/pool-load-workflows.ts';
import { tempStore, until } from './support/harness.ts';
import { NODE } from './support/pinned-node.ts';
import { ProviderServer } from './support/provider-server.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const RUNS = 500;
const PROCESSES = 4;
const CONCURRENCY = 8;
const PER_SECOND = 50;
const FIXTURE = resolve(import.meta.dirname, 'fixtures/pool-load-worker.ts');
const ROOT = resolve(import.meta.dirname, '..');

interface WorkerProcess {
  child: ChildProcess;
  output: string;
  exited: Promise<number | null>;
}

function startWorker(db: string): Promise<WorkerProcess> {
  return new Promise((resolvePromise, reject) => {
    // No --conditions=source: the fixture imports src/ by relative path (see resume-after-kill).
    const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', FIXTURE, db], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: WorkerProcess = {
      child,
      output: '',
      exited: new Promise((done) => child.once('exit', (code) => done(code))),
    };
    const collect = (chunk: Buffer): void => {
      worker.output += chunk.toString('utf8');
      if (worker.output.includes('ready\n')) resolvePromise(worker);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) =>
      reject(new Error(`worker exited (${code}) before it was ready:\n${worker.output}`)),
    );
  });
}

const cleanup = cleanupsAfterEach();

describe('pool limits hold across worker processes', () => {
  it(`${RUNS} runs over ${PROCESSES} processes: the provider never sees more than ${CONCURRENCY} at once or ${PER_SECOND} in a second, and every run completes`, async () => {
    // The provider answers 429 to any request beyond 50 in flight or ended within the last second.
    const server = await ProviderServer.start({
      rate: { limit: PER_SECOND, windowMs: 1000 },
      reply: async () => {
        await delay(20);
        return { status: 200, body: { text: 'done' } };
      },
    });
    cleanup.push(() => server.close());
    const { store, path, dispose } = await tempStore();
    cleanup.push(dispose);
    const client = await Baton.open({ store, workflows: [callApi], pools: LOAD_POOLS, worker: false });
    cleanup.push(() => client.close());

    const runIds: string[] = [];
    for (let index = 0; index < RUNS; index++)
      runIds.push((await client.start(callApi, { index, url: server.url })).runId);

    const workers = await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(path)));
    cleanup.push(async () => {
      for (const worker of workers) worker.child.kill('SIGTERM');
      await Promise.race([Promise.all(workers.map((worker) => worker.exited)), delay(10_000)]);
      for (const worker of workers) worker.child.kill('SIGKILL');
    });

    await until(
      async () =>
        (await store.listRuns({ status: ['pending', 'running', 'waiting'], limit: 1 })).length === 0,
      'every run to finish',
      Number(process.env.POOL_LOAD_LIMIT_MS ?? 100_000),
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}; the provider saw ${server.received} requests. Workers said:\n` +
          workers.map((worker) => worker.output).join('\n---\n'),
      );
    });

    const done = await store.listRuns({ status: ['completed'], limit: RUNS });
    expect(done).toHaveLength(RUNS);
    const indexes = done.map((run) => (run.result as { index: number }).index).sort((a, b) => a - b);
    expect(indexes).toEqual(runIds.map((_, index) => index));
    expect(server.rateLimited).toBe(0);
    expect(server.received).toBe(RUNS);
    expect(server.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(server.maxInWindow).toBeLessThanOrEqual(PER_SECOND);
    expect(server.maxPerSecond).toBeLessThanOrEqual(PER_SECOND);

    const [stats] = await client.pools.stats();
    expect(stats).toMatchObject({ pool: 'provider', inFlight: 0, queued: 0, granted: RUNS });
    for (const worker of workers) expect(worker.output).not.toMatch(/Error/);
  }, 120_000);
});
