import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { NewVectorRecord } from '../../src/store/vector-records.ts';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function record(overrides: Partial<NewVectorRecord>): NewVectorRecord {
  return {
    collection: 'cache',
    tenant: 'acme',
    partition: 'p1',
    key: 'k1',
    space: 'test/3',
    vector: Float32Array.from([1, 0, 0]),
    text: 'hello',
    data: { response: 'hi' },
    createdAt: 1000,
    ...overrides,
  };
}

describe('SQLite vector records', () => {
  it('keeps records per tenant and scope, replaces by key with a new id, and scans by id', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    stores.push(store);
    const records = store.vectorRecords;
    const first = await records.putVectorRecord(record({}));
    expect(first).toMatchObject({ key: 'k1', sourceExists: true, data: { response: 'hi' } });
    expect(Array.from(first.vector)).toEqual([1, 0, 0]);
    await records.putVectorRecord(record({ tenant: 'globex', data: { response: 'theirs' } }));
    const replaced = await records.putVectorRecord(
      record({ data: { response: 'hi again' }, vector: Float32Array.from([0, 1, 0]) }),
    );
    expect(replaced.id).toBeGreaterThan(first.id);

    const acme = { collection: 'cache', tenant: 'acme', partition: 'p1' };
    expect((await records.getVectorRecords(acme, ['k1', 'missing'])).map((r) => r.data)).toEqual([
      { response: 'hi again' },
    ]);
    expect((await records.scanVectorRecords(acme)).map((r) => r.id)).toEqual([replaced.id]);
    expect(await records.scanVectorRecords(acme, { afterId: replaced.id })).toEqual([]);
    expect(await records.getVectorRecords({ ...acme, partition: 'p2' }, ['k1'])).toEqual([]);
    expect(await records.deleteVectorRecords({ ...acme, tenant: 'initech' }, ['k1'])).toBe(0);
    expect(
      (await records.getVectorRecords({ ...acme, tenant: 'globex' }, ['k1'])).map((r) => r.data),
    ).toEqual([{ response: 'theirs' }]);
    expect(await records.deleteVectorRecords(acme, ['k1'])).toBe(1);
    expect(await records.getVectorRecords(acme, ['k1'])).toEqual([]);
  });

  it('prunes expired records and records whose source run is gone', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    stores.push(store);
    const records = store.vectorRecords;
    await records.putVectorRecord(record({ key: 'fresh', expiresAt: 5000 }));
    await records.putVectorRecord(record({ key: 'stale', expiresAt: 2000 }));
    const orphan = await records.putVectorRecord(
      record({ key: 'orphan', sourceRunId: 'run_gone', sourceSeq: 3 }),
    );
    expect(orphan).toMatchObject({ sourceExists: false, sourceRunId: 'run_gone', sourceSeq: 3 });
    await records.putVectorRecord(
      record({ collection: 'memory', key: 'memory-orphan', sourceRunId: 'run_gone' }),
    );
    expect(await records.pruneVectorRecords({ now: 3000, collection: 'cache' })).toBe(2);
    const left = await records.scanVectorRecords({ collection: 'cache', tenant: 'acme', partition: 'p1' });
    expect(left.map((r) => r.key)).toEqual(['fresh']);
    expect(
      await records.scanVectorRecords({ collection: 'memory', tenant: 'acme', partition: 'p1' }),
    ).toHaveLength(1);
  });
});
