import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { WORKER_MEMORY_MS, type WorkerBeat, type WorkerRegistry } from '../../src/store/worker-registry.ts';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

/** What a backend under test hands the suite: an empty store, how to get rid of it, and a second connection. */
export interface WorkerRegistryBackend {
  store: Store;
  dispose: () => Promise<void>;
  connectAgain: () => Promise<Store>;
}

function beat(workerId: string, at: number, runIds: string[] = [], leaseMs = 15_000): WorkerBeat {
  return {
    workerId,
    host: 'host-a',
    pid: 4242,
    startedAt: T0,
    concurrency: 8,
    workflows: ['support', 'refund'],
    runIds,
    beatAt: at,
    expiresAt: at + leaseMs,
  };
}

/**
 * The conformance suite of the Store spec's `workers` capability (src/store/worker-registry.ts): the
 * workers sharing a store, as their last heartbeats. Every backend that has `workers` runs it.
 */
export function workerRegistryConformance(name: string, open: () => Promise<WorkerRegistryBackend>): void {
  describe(`Worker registry conformance: ${name}`, () => {
    let backend: WorkerRegistryBackend;
    let workers: WorkerRegistry;
    const others: Store[] = [];

    beforeEach(async () => {
      backend = await open();
      if (!backend.store.workers) throw new Error(`${name} has no workers capability`);
      workers = backend.store.workers;
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await backend.dispose();
    });

    it('lists nobody at first, then each worker as its last beat, newest first', async () => {
      expect(workers.specificationVersion).toBe('v1');
      expect(await workers.list()).toEqual([]);
      await workers.beat(beat('w1', T0));
      await workers.beat(beat('w2', T0 + 1000, ['run_a']));
      await workers.beat(beat('w1', T0 + 2000, ['run_b', 'run_c']));
      expect(await workers.list()).toEqual([
        beat('w1', T0 + 2000, ['run_b', 'run_c']),
        beat('w2', T0 + 1000, ['run_a']),
      ]);
    });

    it('is shared by every process on the store', async () => {
      const again = await backend.connectAgain();
      others.push(again);
      await again.workers!.beat(beat('elsewhere', T0, ['run_x']));
      expect((await workers.list()).map((worker) => worker.workerId)).toEqual(['elsewhere']);
    });

    it('forgets a worker that stopped, and one gone for over a day at the next beat', async () => {
      await workers.beat(beat('stopped', T0));
      await workers.beat(beat('crashed', T0));
      await workers.remove('stopped');
      await workers.remove('never-there');
      expect((await workers.list()).map((worker) => worker.workerId)).toEqual(['crashed']);
      // Gone (its beat expired) but remembered for a day, then forgotten.
      await workers.beat(beat('alive', T0 + WORKER_MEMORY_MS));
      expect((await workers.list()).map((worker) => worker.workerId)).toEqual(['alive', 'crashed']);
      await workers.beat(beat('alive', T0 + WORKER_MEMORY_MS + 20_000));
      expect((await workers.list()).map((worker) => worker.workerId)).toEqual(['alive']);
    });
  });
}
