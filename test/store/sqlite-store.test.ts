import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
// Through the package's subpaths, as a third-party store's tests would run the suite.
import { SqliteStore } from 'baton/store';
import { storeConformance } from 'baton/testing';
import { sqliteFileStores } from './sqlite-file-stores.ts';
import { runStreamStoreConformance } from './run-stream-store-conformance.ts';
import { tempStore } from '../support/harness.ts';

const files = sqliteFileStores('baton-store-');
storeConformance('sqlite (file)', files.makeStore, files.cleanup, vitest);

storeConformance('sqlite (:memory:)', async () => SqliteStore.open({ path: ':memory:' }), undefined, vitest);

describe('SqliteStore with two connections to one file', () => {
  it('never leases one run to both', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-store-'));
    const path = join(directory, 'baton.db');
    const one = SqliteStore.open({ path });
    const two = SqliteStore.open({ path });
    try {
      const { sealEvent, GENESIS_HASH } = await import('../../src/journal/hash-chain.ts');
      for (let index = 0; index < 50; index++) {
        const runId = `run_${index}`;
        const started = sealEvent<'run.started'>({
          runId,
          seq: 1,
          type: 'run.started',
          at: new Date(0).toISOString(),
          actor: 'user:alice',
          onBehalfOf: [],
          payload: { workflow: 'w', input: null, format: 1, flags: [] },
          prevHash: GENESIS_HASH,
        });
        await (index % 2 ? one : two).createRun(
          { runId, workflow: 'w', tenant: 'acme', principal: 'user:alice', input: null, createdAt: index },
          started,
        );
      }
      const claimed = [];
      for (let round = 0; round < 10; round++) {
        const [a, b] = await Promise.all([
          one.claimRuns('one', { limit: 3, leaseMs: 10_000, now: 1000 }),
          two.claimRuns('two', { limit: 3, leaseMs: 10_000, now: 1000 }),
        ]);
        claimed.push(...a, ...b);
      }
      expect(claimed).toHaveLength(50);
      expect(new Set(claimed.map((run) => run.runId)).size).toBe(50);
      for (const run of claimed) expect((await one.getRun(run.runId))?.leaseOwner).toBe(run.leaseOwner);
    } finally {
      await one.close();
      await two.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

runStreamStoreConformance('sqlite', async () => {
  const { store, path, dispose } = await tempStore();
  return { store, dispose, connectAgain: async () => SqliteStore.open({ path }) };
});
