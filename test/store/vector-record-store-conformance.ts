import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewRun, Store } from '../../src/store/store.ts';
import type {
  NewVectorRecord,
  VectorRecordScope,
  VectorRecordStore,
} from '../../src/store/vector-records.ts';
import { startedEvent } from '../../src/testing/sealed-events.ts';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

/** What a backend under test hands the suite: an empty store, and how to get rid of it. */
export interface VectorRecordBackend {
  store: Store;
  dispose: () => Promise<void>;
  /** Another connection to the same store, as a second process would open it (closed by the suite). */
  connectAgain: () => Promise<Store>;
}

/**
 * The conformance suite of the Store spec's `vectorRecords` capability (src/store/vector-records.ts):
 * scopes and tenants, replacement by key, scanning by id (how the routing layer keeps its
 * in-memory index in step), deletion and pruning. Every backend that has `vectorRecords` runs it.
 */
export function vectorRecordStoreConformance(name: string, open: () => Promise<VectorRecordBackend>): void {
  describe(`Vector record store conformance: ${name}`, () => {
    let backend: VectorRecordBackend;
    let records: VectorRecordStore;
    const others: Store[] = [];

    beforeEach(async () => {
      backend = await open();
      if (!backend.store.vectorRecords) throw new Error(`${name} has no vectorRecords capability`);
      records = backend.store.vectorRecords;
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await backend.dispose();
    });

    const acme: VectorRecordScope = { collection: 'cache', tenant: 'acme', partition: 'p1' };

    function record(overrides: Partial<NewVectorRecord> = {}): NewVectorRecord {
      return {
        ...acme,
        key: 'k1',
        space: 'test/3',
        vector: Float32Array.from([1, 0, 0]),
        text: 'hello',
        data: { response: 'hi' },
        createdAt: T0,
        ...overrides,
      };
    }

    async function createRun(runId: string): Promise<void> {
      const run: NewRun = {
        runId,
        workflow: 'w',
        tenant: 'acme',
        principal: 'user:alice',
        input: null,
        createdAt: T0,
      };
      await backend.store.createRun(run, startedEvent(run));
    }

    describe('scopes and keys', () => {
      it('keeps records per tenant and scope, replaces by key with a new id, and scans by id', async () => {
        const first = await records.putVectorRecord(record());
        expect(first).toMatchObject({ key: 'k1', sourceExists: true, data: { response: 'hi' } });
        expect(Array.from(first.vector)).toEqual([1, 0, 0]);
        await records.putVectorRecord(record({ tenant: 'globex', data: { response: 'theirs' } }));
        const replaced = await records.putVectorRecord(
          record({ data: { response: 'hi again' }, vector: Float32Array.from([0, 1, 0]) }),
        );
        expect(replaced.id).toBeGreaterThan(first.id);

        expect((await records.getVectorRecords(acme, ['k1', 'missing'])).map((r) => r.data)).toEqual([
          { response: 'hi again' },
        ]);
        expect((await records.scanVectorRecords(acme)).map((r) => r.id)).toEqual([replaced.id]);
        expect(await records.scanVectorRecords(acme, { afterId: replaced.id })).toEqual([]);
        expect(await records.getVectorRecords({ ...acme, partition: 'p2' }, ['k1'])).toEqual([]);
        expect(await records.getVectorRecords({ ...acme, collection: 'memory' }, ['k1'])).toEqual([]);
        expect(await records.deleteVectorRecords({ ...acme, tenant: 'initech' }, ['k1'])).toBe(0);
        expect(
          (await records.getVectorRecords({ ...acme, tenant: 'globex' }, ['k1'])).map((r) => r.data),
        ).toEqual([{ response: 'theirs' }]);
        expect(await records.deleteVectorRecords(acme, ['k1'])).toBe(1);
        expect(await records.getVectorRecords(acme, ['k1'])).toEqual([]);
        expect((await records.scanVectorRecords({ ...acme, tenant: 'globex' })).map((r) => r.key)).toEqual([
          'k1',
        ]);
      });

      it('never returns a record to another tenant, whatever else matches', async () => {
        await records.putVectorRecord(record({ key: 'shared', tenant: 'acme' }));
        await records.putVectorRecord(record({ key: 'shared', tenant: 'globex', text: 'globex secret' }));
        const scanned = await records.scanVectorRecords({ ...acme, tenant: 'acme' });
        expect(scanned.map((r) => [r.tenant, r.text])).toEqual([['acme', 'hello']]);
        const got = await records.getVectorRecords({ ...acme, tenant: 'acme' }, ['shared']);
        expect(got.map((r) => [r.tenant, r.text])).toEqual([['acme', 'hello']]);
        expect(await records.scanVectorRecords({ ...acme, tenant: '' })).toEqual([]);
      });

      it('gives ids that increase with every write in the store, across scopes', async () => {
        const ids: number[] = [];
        for (let index = 0; index < 6; index++) {
          const scope = index % 2 ? { tenant: 'globex' } : { collection: 'memory' };
          ids.push((await records.putVectorRecord(record({ key: `k${index}`, ...scope }))).id);
        }
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(ids.length);
      });
    });

    describe('what a record keeps', () => {
      it('returns what was written: vector, text, JSON data, source, times', async () => {
        await createRun('run_source');
        // A view into a larger buffer, at an offset: only its own floats are kept.
        const backing = new Float32Array([9, 0.5, -1.25, 3.4028234663852886e38, 1e-45, -0, 9]);
        const vector = new Float32Array(backing.buffer, 4, 5);
        const data = { nested: { list: [1, 'two', null, true] }, unicode: 'naïve — 東京 🚀', empty: '' };
        const written = await records.putVectorRecord(
          record({
            key: 'full',
            space: 'embedder-x/5',
            vector,
            text: 'The text that was embedded',
            data,
            sourceRunId: 'run_source',
            sourceSeq: 7,
            createdAt: T0 + 1,
            expiresAt: T0 + 60_000,
          }),
        );
        const [read] = await records.getVectorRecords(acme, ['full']);
        for (const got of [written, read!]) {
          expect(got).toMatchObject({
            ...acme,
            key: 'full',
            space: 'embedder-x/5',
            text: 'The text that was embedded',
            data,
            sourceRunId: 'run_source',
            sourceSeq: 7,
            sourceExists: true,
            createdAt: T0 + 1,
            expiresAt: T0 + 60_000,
          });
          expect(got.vector).toBeInstanceOf(Float32Array);
          expect(Array.from(got.vector)).toEqual(Array.from(vector));
          expect(Object.is(got.vector[4], -0)).toBe(true);
        }
        expect(read!.id).toBe(written.id);
      });

      it('leaves out what was not given, and keeps data left out as null', async () => {
        const { data: _data, ...withoutData } = record({ key: 'bare' });
        const written = await records.putVectorRecord(withoutData as NewVectorRecord);
        const [read] = await records.getVectorRecords(acme, ['bare']);
        for (const got of [written, read!]) {
          expect(got.data).toBeNull();
          expect(got.sourceExists).toBe(true);
          expect('sourceRunId' in got).toBe(false);
          expect('sourceSeq' in got).toBe(false);
          expect('expiresAt' in got).toBe(false);
        }
      });

      it('says when a record’s source run does not exist', async () => {
        await createRun('run_here');
        await records.putVectorRecord(record({ key: 'here', sourceRunId: 'run_here', sourceSeq: 2 }));
        await records.putVectorRecord(record({ key: 'gone', sourceRunId: 'run_gone', sourceSeq: 3 }));
        const byKey = Object.fromEntries(
          (await records.scanVectorRecords(acme)).map((r) => [r.key, r.sourceExists]),
        );
        expect(byKey).toEqual({ here: true, gone: false });
      });
    });

    describe('reading many', () => {
      it('gets many keys at once, by id, leaving out missing ones', async () => {
        const keys = Array.from({ length: 150 }, (_, index) => `key-${String(index).padStart(3, '0')}`);
        // Written in reverse, so id order is not key order.
        for (const key of [...keys].reverse()) await records.putVectorRecord(record({ key }));
        const got = await records.getVectorRecords(acme, [...keys, 'missing-1', 'missing-2']);
        expect(got).toHaveLength(150);
        expect(got.map((r) => r.id)).toEqual([...got.map((r) => r.id)].sort((a, b) => a - b));
        expect(got.map((r) => r.key)).toEqual([...keys].reverse());
        expect(await records.getVectorRecords(acme, [])).toEqual([]);
      });

      it('scans in pages by id: after an id, at most a limit', async () => {
        const written = [];
        for (let index = 0; index < 7; index++)
          written.push(await records.putVectorRecord(record({ key: `k${index}` })));
        await records.putVectorRecord(record({ key: 'elsewhere', partition: 'p2' }));
        const pages: string[][] = [];
        let afterId = 0;
        for (;;) {
          const page = await records.scanVectorRecords(acme, { afterId, limit: 3 });
          if (page.length === 0) break;
          pages.push(page.map((r) => r.key));
          afterId = page.at(-1)!.id;
        }
        expect(pages).toEqual([['k0', 'k1', 'k2'], ['k3', 'k4', 'k5'], ['k6']]);
        expect(
          (await records.scanVectorRecords(acme, { afterId: written[4]!.id })).map((r) => r.key),
        ).toEqual(['k5', 'k6']);
      });
    });

    describe('deleting and pruning', () => {
      it('deletes the scope’s records with the keys given, and counts them', async () => {
        for (const key of ['a', 'b', 'c']) await records.putVectorRecord(record({ key }));
        await records.putVectorRecord(record({ key: 'a', partition: 'p2' }));
        expect(await records.deleteVectorRecords(acme, ['a', 'c', 'missing'])).toBe(2);
        expect(await records.deleteVectorRecords(acme, [])).toBe(0);
        expect((await records.scanVectorRecords(acme)).map((r) => r.key)).toEqual(['b']);
        expect((await records.scanVectorRecords({ ...acme, partition: 'p2' })).map((r) => r.key)).toEqual([
          'a',
        ]);
      });

      it('prunes records expired at `now` and records whose source run is gone, in one collection', async () => {
        await createRun('run_alive');
        await records.putVectorRecord(record({ key: 'fresh', expiresAt: T0 + 5000 }));
        await records.putVectorRecord(record({ key: 'stale', expiresAt: T0 + 2000 }));
        await records.putVectorRecord(record({ key: 'just-expired', expiresAt: T0 + 3000 }));
        await records.putVectorRecord(record({ key: 'orphan', sourceRunId: 'run_gone', sourceSeq: 3 }));
        await records.putVectorRecord(record({ key: 'sourced', sourceRunId: 'run_alive', sourceSeq: 3 }));
        await records.putVectorRecord(
          record({ collection: 'memory', key: 'memory-orphan', sourceRunId: 'run_gone' }),
        );
        await records.putVectorRecord(record({ collection: 'memory', key: 'memory-stale', expiresAt: T0 }));

        expect(await records.pruneVectorRecords({ now: T0 + 3000, collection: 'cache' })).toBe(3);
        expect((await records.scanVectorRecords(acme)).map((r) => r.key)).toEqual(['fresh', 'sourced']);
        const memory = { ...acme, collection: 'memory' };
        expect((await records.scanVectorRecords(memory)).map((r) => r.key)).toEqual([
          'memory-orphan',
          'memory-stale',
        ]);

        // Without a collection, every collection is pruned.
        expect(await records.pruneVectorRecords({ now: T0 + 3000 })).toBe(2);
        expect(await records.scanVectorRecords(memory)).toEqual([]);
        expect(await records.pruneVectorRecords({ now: T0 + 3000 })).toBe(0);
        expect((await records.scanVectorRecords(acme)).map((r) => r.key)).toEqual(['fresh', 'sourced']);
      });
    });

    describe('many writers at once', () => {
      it('ends with one record per key when connections replace the same key at once', async () => {
        const other = await backend.connectAgain();
        others.push(other);
        const writers = [records, other.vectorRecords!];
        const written = await Promise.all(
          Array.from({ length: 24 }, (_, index) =>
            writers[index % 2]!.putVectorRecord(record({ key: 'contended', text: `write ${index}` })),
          ),
        );
        const left = await records.scanVectorRecords(acme);
        expect(left).toHaveLength(1);
        // The record kept is the last write: the one given the highest id.
        expect(left[0]!.id).toBe(Math.max(...written.map((r) => r.id)));
        expect(left[0]!.text).toBe(written.find((r) => r.id === left[0]!.id)!.text);
      });

      it('lets a reader that scans by id (as an index syncs) miss no record while others write', async () => {
        const writerStores = [await backend.connectAgain(), await backend.connectAgain()];
        others.push(...writerStores);
        const keys = Array.from({ length: 240 }, (_, index) => `k${index}`);
        let writing = true;
        const writes = Promise.all(
          [0, 1, 2, 3, 4, 5].map(async (lane) => {
            const writer = writerStores[lane % 2]!.vectorRecords!;
            for (let index = lane; index < keys.length; index += 6) {
              await writer.putVectorRecord(record({ key: keys[index]! }));
            }
          }),
        ).finally(() => (writing = false));
        const seen = new Set<string>();
        let watermark = 0;
        const sync = async (): Promise<void> => {
          for (;;) {
            const page = await records.scanVectorRecords(acme, { afterId: watermark, limit: 50 });
            if (page.length === 0) return;
            for (const found of page) seen.add(found.key);
            watermark = page.at(-1)!.id;
          }
        };
        while (writing) await sync();
        await writes;
        await sync();
        expect(keys.filter((key) => !seen.has(key))).toEqual([]);
      });
    });
  });
}
