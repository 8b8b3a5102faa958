import { randomBytes } from 'node:crypto';
import { BatonError } from '../errors.ts';
import type { EventDraft, JournalEvent } from '../journal/events.ts';
import { sealEvent, verifyChain } from '../journal/hash-chain.ts';
import type { NewRun, RunRecord, Store } from '../store/store.ts';
import { startedEvent } from './sealed-events.ts';

/** The parts of Vitest the conformance suite runs on: pass `import * as vitest from 'vitest'`. */
export type ConformanceTestApi = Pick<
  typeof import('vitest'),
  'describe' | 'it' | 'expect' | 'beforeEach' | 'afterEach'
>;

/**
 * The contract every Store backend keeps (the Store spec of `baton/store`), as one Vitest suite,
 * for Baton's own stores and any other. A backend's test file calls it once per configuration:
 *
 * @example
 * import * as vitest from 'vitest';
 * import { storeConformance } from 'baton/testing';
 * storeConformance('my store', async () => MyStore.open(url), async (store) => dropSchema(store), vitest);
 *
 * `makeStore` must return an empty store; the suite closes it after each test and then calls
 * `cleanup` (to drop a schema, delete a file). Nothing here knows which backend it talks to.
 */
export function storeConformance(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup: ((store: Store) => Promise<void>) | undefined,
  vitest: ConformanceTestApi,
): void {
  const { afterEach, beforeEach, describe, expect, it } = vitest;
  describe(`Store conformance: ${name}`, () => {
    const T0 = 1_700_000_000_000;
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    // ---- fixtures ------------------------------------------------------------------------------

    let counter = 0;
    function newRunId(): string {
      return `run_${(++counter).toString().padStart(4, '0')}_${randomBytes(4).toString('hex')}`;
    }

    function newRun(overrides: Partial<NewRun> = {}): NewRun {
      return {
        runId: newRunId(),
        workflow: 'orders',
        tenant: 'acme',
        principal: 'user:alice',
        input: { order: 1 },
        createdAt: T0,
        ...overrides,
      };
    }

    async function create(overrides: Partial<NewRun> = {}): Promise<RunRecord> {
      const run = newRun(overrides);
      const { run: record, created } = await store.createRun(run, startedEvent(run));
      expect(created).toBe(true);
      return record;
    }

    /** Seals drafts as the events that follow the run's current head. */
    function follow(
      head: { runId: string; lastSeq: number; headHash: string },
      drafts: readonly EventDraft[],
      at = T0,
    ): JournalEvent[] {
      let seq = head.lastSeq;
      let prevHash = head.headHash;
      return drafts.map((draft) => {
        const event = sealEvent({
          ...draft,
          runId: head.runId,
          seq: ++seq,
          at: new Date(at).toISOString(),
          actor: draft.actor ?? 'workflow:orders',
          onBehalfOf: draft.onBehalfOf ?? ['user:alice'],
          prevHash,
        });
        prevHash = event.hash;
        return event;
      });
    }

    function stepDraft(op: number, result: unknown = { op }): EventDraft<'step.completed'> {
      return { type: 'step.completed', payload: { op, name: `step-${op}`, attempt: 1, result } };
    }

    async function fresh(runId: string): Promise<RunRecord> {
      const run = await store.getRun(runId);
      expect(run, `run ${runId} exists`).toBeDefined();
      return run!;
    }

    /** Creates a run and leases it to `owner`. */
    async function running(
      owner = 'worker-a',
      overrides: Partial<NewRun> = {},
      now = T0,
    ): Promise<RunRecord> {
      // A workflow of its own, so that claiming it leases no other run of the test.
      const run = await create({ workflow: `leased-${counter}`, ...overrides });
      const claimed = await store.claimRuns(owner, {
        limit: 100,
        leaseMs: 10_000,
        now,
        workflows: [run.workflow],
      });
      expect(
        claimed.map((candidate) => candidate.runId),
        `run ${run.runId} was claimed by ${owner}`,
      ).toEqual([run.runId]);
      return claimed[0]!;
    }

    /** Creates a run, leases it and parks it, optionally with a wake-up time. */
    async function waiting(
      options: { wakeAt?: number; overrides?: Partial<NewRun> } = {},
    ): Promise<RunRecord> {
      const run = await running('parker', options.overrides);
      const outcomes = await store.commit(
        [
          {
            runId: run.runId,
            owner: 'parker',
            events: [],
            transition: {
              status: 'waiting',
              seenWakeGen: run.wakeGen,
              ...(options.wakeAt === undefined ? {} : { wakeAt: options.wakeAt }),
            },
          },
        ],
        T0,
      );
      expect(outcomes).toEqual([{ ok: true }]);
      const parked = await fresh(run.runId);
      expect(parked.status).toBe('waiting');
      return parked;
    }

    async function complete(run: RunRecord, owner: string): Promise<void> {
      const outcomes = await store.commit(
        [
          {
            runId: run.runId,
            owner,
            events: follow(run, [{ type: 'run.completed', payload: { result: 'done' } }]),
            transition: { status: 'completed', result: 'done' },
          },
        ],
        T0 + 1,
      );
      expect(outcomes).toEqual([{ ok: true }]);
    }

    function expectFailure(outcome: { ok: boolean; error?: Error } | undefined, code: string): void {
      expect(outcome?.ok).toBe(false);
      const error = (outcome as { error: unknown }).error;
      expect(BatonError.isInstance(error), `a BatonError, got ${String(error)}`).toBe(true);
      expect((error as BatonError).code).toBe(code);
    }

    // ---- createRun -----------------------------------------------------------------------------

    describe('createRun', () => {
      it('writes a pending run and its run.started event together', async () => {
        const run = newRun({
          input: { order: 7, lines: [{ sku: 'a', qty: 2 }], note: 'Grüße, 日本' },
          priority: 3,
          deadlineAt: T0 + 60_000,
          metadata: { label: 'vip', grant: { scope: ['orders:write'] } },
          idempotencyKey: 'order-7',
        });
        const started = startedEvent(run);
        const { run: record, created } = await store.createRun(run, started);
        expect(created).toBe(true);
        expect(record).toMatchObject({
          runId: run.runId,
          workflow: 'orders',
          tenant: 'acme',
          principal: 'user:alice',
          status: 'pending',
          input: run.input,
          idempotencyKey: 'order-7',
          priority: 3,
          metadata: run.metadata,
          createdAt: T0,
          updatedAt: T0,
          deadlineAt: T0 + 60_000,
          lastSeq: 1,
          headHash: started.hash,
          wakeGen: 0,
          cancelRequested: false,
        });
        expect(record.leaseOwner).toBeUndefined();
        expect(record.leaseExpiresAt).toBeUndefined();
        expect(record.wakeAt).toBeUndefined();
        expect(record.result).toBeUndefined();
        expect(record.error).toBeUndefined();
        expect(await store.getRun(run.runId)).toEqual(record);
        expect(await store.readEvents(run.runId)).toEqual([started]);
      });

      it('defaults priority to 0 and metadata to {}, and keeps the parent', async () => {
        const parent = await create();
        const child = await create({ parentRunId: parent.runId });
        expect(child.priority).toBe(0);
        expect(child.metadata).toEqual({});
        expect(child.parentRunId).toBe(parent.runId);
        expect(parent.parentRunId).toBeUndefined();
      });

      it('returns the existing run for an idempotency key already used in the tenant, writing nothing', async () => {
        const first = await create({ idempotencyKey: 'key-1' });
        const again = newRun({ idempotencyKey: 'key-1', input: { order: 2 } });
        const { run, created } = await store.createRun(again, startedEvent(again));
        expect(created).toBe(false);
        expect(run.runId).toBe(first.runId);
        expect(run.input).toEqual(first.input);
        expect(await store.getRun(again.runId)).toBeUndefined();
        expect(await store.readEvents(again.runId)).toEqual([]);
        expect(await store.readEvents(first.runId)).toHaveLength(1);
        expect(await store.listRuns({ tenant: 'acme' })).toHaveLength(1);
      });

      it('scopes idempotency keys to the tenant', async () => {
        const acme = await create({ idempotencyKey: 'shared' });
        const other = await create({ idempotencyKey: 'shared', tenant: 'globex' });
        expect(other.runId).not.toBe(acme.runId);
        expect(other.tenant).toBe('globex');
      });

      it('creates one run when the same key is used by concurrent calls', async () => {
        const attempts = Array.from({ length: 8 }, () => newRun({ idempotencyKey: 'race' }));
        const results = await Promise.all(attempts.map((run) => store.createRun(run, startedEvent(run))));
        expect(results.filter((result) => result.created)).toHaveLength(1);
        expect(new Set(results.map((result) => result.run.runId)).size).toBe(1);
        expect(await store.listRuns()).toHaveLength(1);
      });
    });

    // ---- reading runs --------------------------------------------------------------------------

    describe('getRun, listRuns, findRunIds', () => {
      it('getRun returns undefined for an unknown run and for a run of another tenant', async () => {
        const run = await create({ tenant: 'acme' });
        expect(await store.getRun('run_unknown')).toBeUndefined();
        expect(await store.getRun(run.runId, { tenant: 'globex' })).toBeUndefined();
        expect((await store.getRun(run.runId, { tenant: 'acme' }))?.runId).toBe(run.runId);
      });

      it('listRuns filters by tenant, status, workflow, parent and creation time, newest first', async () => {
        const a = await create({ createdAt: T0 + 1, workflow: 'orders' });
        const b = await create({ createdAt: T0 + 2, workflow: 'refunds' });
        const c = await create({ createdAt: T0 + 3, workflow: 'orders', parentRunId: a.runId });
        const d = await create({ createdAt: T0 + 4, workflow: 'orders', tenant: 'globex' });
        await running('worker-a'); // a fifth run, leased
        const ids = (runs: RunRecord[]): string[] => runs.map((run) => run.runId);

        expect(ids(await store.listRuns({ tenant: 'acme', status: ['pending'] }))).toEqual([
          c.runId,
          b.runId,
          a.runId,
        ]);
        expect(ids(await store.listRuns({ tenant: 'globex' }))).toEqual([d.runId]);
        expect(ids(await store.listRuns({ workflow: 'refunds' }))).toEqual([b.runId]);
        expect(ids(await store.listRuns({ parentRunId: a.runId }))).toEqual([c.runId]);
        expect(ids(await store.listRuns({ status: ['pending'], createdBefore: T0 + 3 }))).toEqual([
          b.runId,
          a.runId,
        ]);
        expect(ids(await store.listRuns({ status: ['pending'], limit: 2 }))).toEqual([d.runId, c.runId]);
        expect(await store.listRuns({ status: ['running'] })).toHaveLength(1);
        expect(await store.listRuns({ status: ['running', 'pending'] })).toHaveLength(5);
        expect(await store.listRuns({ status: ['completed'] })).toEqual([]);
      });

      it('findRunIds matches a prefix literally, within the limit and the tenant', async () => {
        const ids = ['run_abc_1', 'run_abc_2', 'run_abd_3', 'run_a%c_4', 'run_a_c_5'];
        for (const runId of ids) await create({ runId });
        await create({ runId: 'run_abc_9', tenant: 'globex' });

        expect((await store.findRunIds('run_abc', 10)).sort()).toEqual([
          'run_abc_1',
          'run_abc_2',
          'run_abc_9',
        ]);
        expect((await store.findRunIds('run_abc', 10, { tenant: 'acme' })).sort()).toEqual([
          'run_abc_1',
          'run_abc_2',
        ]);
        expect(await store.findRunIds('run_ab', 2)).toHaveLength(2);
        expect(await store.findRunIds('run_a%', 10)).toEqual(['run_a%c_4']);
        expect(await store.findRunIds('run_a_', 10)).toEqual(['run_a_c_5']);
        expect(await store.findRunIds('nope', 10)).toEqual([]);
      });
    });

    // ---- readEvents ----------------------------------------------------------------------------

    describe('readEvents', () => {
      it('returns events in seq order from a given seq, exactly as written', async () => {
        const run = await running();
        const events = follow(run, [
          stepDraft(1, {
            z: 1,
            a: [1, 2.5, -3e-7, true, null],
            nested: { 'key with space': 'ü', b: '\u2028' },
          }),
          stepDraft(2, 'text'),
          stepDraft(3, 12345678901234),
          { type: 'timer.set', payload: { op: 4, name: 'sleep', fireAt: new Date(T0 + 1000).toISOString() } },
        ]);
        expect(await store.commit([{ runId: run.runId, owner: 'worker-a', events }], T0)).toEqual([
          { ok: true },
        ]);

        const all = await store.readEvents(run.runId);
        expect(all.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(all.slice(1)).toEqual(events);
        expect(verifyChain(all).ok).toBe(true);
        expect((await store.readEvents(run.runId, 3)).map((event) => event.seq)).toEqual([3, 4, 5]);
        expect(await store.readEvents(run.runId, 6)).toEqual([]);
        expect(await store.readEvents('run_unknown')).toEqual([]);
      });

      it('keeps each run’s events apart', async () => {
        const one = await running();
        const two = await running();
        await store.commit(
          [
            { runId: one.runId, owner: 'worker-a', events: follow(one, [stepDraft(1, 'one')]) },
            {
              runId: two.runId,
              owner: 'worker-a',
              events: follow(two, [stepDraft(1, 'two'), stepDraft(2, 'two')]),
            },
          ],
          T0,
        );
        expect((await store.readEvents(one.runId)).every((event) => event.runId === one.runId)).toBe(true);
        expect(await store.readEvents(one.runId)).toHaveLength(2);
        expect(await store.readEvents(two.runId)).toHaveLength(3);
      });
    });

    // ---- commit --------------------------------------------------------------------------------

    describe('commit', () => {
      it('does nothing for no writes', async () => {
        expect(await store.commit([], T0)).toEqual([]);
      });

      it('appends events, moving the run’s last seq, head hash and update time', async () => {
        const run = await running();
        const events = follow(run, [stepDraft(1), stepDraft(2)]);
        expect(await store.commit([{ runId: run.runId, owner: 'worker-a', events }], T0 + 500)).toEqual([
          { ok: true },
        ]);
        const after = await fresh(run.runId);
        expect(after.lastSeq).toBe(3);
        expect(after.headHash).toBe(events[1]!.hash);
        expect(after.updatedAt).toBe(T0 + 500);
        expect(after.status).toBe('running');
      });

      it('commits the writes of several runs in one call', async () => {
        const runs = [await running(), await running(), await running()];
        const writes = runs.map((run) => ({
          runId: run.runId,
          owner: 'worker-a',
          events: follow(run, [stepDraft(1)]),
        }));
        expect(await store.commit(writes, T0)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
        for (const run of runs) expect((await fresh(run.runId)).lastSeq).toBe(2);
      });

      it('applies consecutive writes of one run in the same call in order', async () => {
        const run = await running();
        const first = follow(run, [stepDraft(1)]);
        const second = follow({ runId: run.runId, lastSeq: 2, headHash: first[0]!.hash }, [stepDraft(2)]);
        const outcomes = await store.commit(
          [
            { runId: run.runId, owner: 'worker-a', events: first },
            { runId: run.runId, owner: 'worker-a', events: second },
          ],
          T0,
        );
        expect(outcomes).toEqual([{ ok: true }, { ok: true }]);
        expect(verifyChain(await store.readEvents(run.runId)).ok).toBe(true);
        expect((await fresh(run.runId)).lastSeq).toBe(3);
      });

      it('fails a write whose owner lost the lease, alone, while the others commit', async () => {
        const lost = await running('worker-a');
        const kept = await running('worker-a');
        await store.renewLeases('worker-a', [kept.runId], 60_000, T0);
        // The lease on `lost` expires and worker-b takes the run over.
        const taken = await store.claimRuns('worker-b', { limit: 10, leaseMs: 10_000, now: T0 + 20_000 });
        expect(taken.map((run) => run.runId)).toEqual([lost.runId]);

        const outcomes = await store.commit(
          [
            { runId: lost.runId, owner: 'worker-a', events: follow(lost, [stepDraft(1)]) },
            { runId: kept.runId, owner: 'worker-a', events: follow(kept, [stepDraft(1)]) },
          ],
          T0 + 20_001,
        );
        expectFailure(outcomes[0], 'LEASE_LOST');
        expect(outcomes[1]).toEqual({ ok: true });
        expect(await store.readEvents(lost.runId)).toHaveLength(1);
        expect(await fresh(lost.runId)).toMatchObject({ leaseOwner: 'worker-b', lastSeq: 1 });
        expect(await store.readEvents(kept.runId)).toHaveLength(2);
      });

      it('fails a write to a run that is not leased (pending, or finished)', async () => {
        const pending = await create();
        const done = await running();
        await complete(done, 'worker-a');
        const finished = await fresh(done.runId);
        const outcomes = await store.commit(
          [
            { runId: pending.runId, owner: 'worker-a', events: follow(pending, [stepDraft(1)]) },
            { runId: done.runId, owner: 'worker-a', events: follow(finished, [stepDraft(1)]) },
          ],
          T0,
        );
        expectFailure(outcomes[0], 'LEASE_LOST');
        expectFailure(outcomes[1], 'LEASE_LOST');
        expect(await store.readEvents(pending.runId)).toHaveLength(1);
        expect(await store.readEvents(done.runId)).toHaveLength(2);
      });

      it('fails a write whose first seq does not follow the journal, alone', async () => {
        const run = await running();
        const other = await running();
        const skipping = follow({ ...run, lastSeq: 2 }, [stepDraft(1)]); // seq 3, but the journal ends at 1
        const repeating = follow({ ...run, lastSeq: 0 }, [stepDraft(1)]); // seq 1 again
        const outcomes = await store.commit(
          [
            { runId: run.runId, owner: 'worker-a', events: skipping },
            { runId: other.runId, owner: 'worker-a', events: follow(other, [stepDraft(1)]) },
            { runId: run.runId, owner: 'worker-a', events: repeating },
          ],
          T0,
        );
        expectFailure(outcomes[0], 'SEQ_CONFLICT');
        expect(outcomes[1]).toEqual({ ok: true });
        expectFailure(outcomes[2], 'SEQ_CONFLICT');
        expect(await store.readEvents(run.runId)).toHaveLength(1);
        expect((await fresh(run.runId)).lastSeq).toBe(1);
      });

      it('checks the lease alone for a write with no events', async () => {
        const run = await running('worker-a');
        const outcomes = await store.commit(
          [
            { runId: run.runId, owner: 'worker-a', events: [] },
            { runId: run.runId, owner: 'worker-z', events: [] },
          ],
          T0,
        );
        expect(outcomes[0]).toEqual({ ok: true });
        expectFailure(outcomes[1], 'LEASE_LOST');
      });

      it('consumes signals with the write, and fails a second consumption with nothing written', async () => {
        const run = await running();
        await store.sendSignal({
          signalId: 'sig-1',
          runId: run.runId,
          name: 'approve',
          payload: { ok: true },
          sentBy: 'user:bob',
          sentAt: T0,
        });
        const received = (op: number): EventDraft<'signal.received'> => ({
          type: 'signal.received',
          payload: { op, name: 'approve', signalId: 'sig-1', payload: { ok: true } },
        });
        const first = follow(run, [received(1)]);
        expect(
          await store.commit(
            [{ runId: run.runId, owner: 'worker-a', events: first, consumeSignals: ['sig-1'] }],
            T0,
          ),
        ).toEqual([{ ok: true }]);
        expect(await store.pendingSignals(run.runId)).toEqual([]);

        const second = follow({ runId: run.runId, lastSeq: 2, headHash: first[0]!.hash }, [received(2)]);
        const [outcome] = await store.commit(
          [{ runId: run.runId, owner: 'worker-a', events: second, consumeSignals: ['sig-1'] }],
          T0,
        );
        expect(outcome?.ok).toBe(false);
        expect(await store.readEvents(run.runId)).toHaveLength(2);
        expect((await fresh(run.runId)).lastSeq).toBe(2);
      });

      it('fails consuming a signal of another run', async () => {
        const run = await running();
        const other = await running();
        await store.sendSignal({
          signalId: 'sig-other',
          runId: other.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0,
        });
        const [outcome] = await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: follow(run, [stepDraft(1)]),
              consumeSignals: ['sig-other'],
            },
          ],
          T0,
        );
        expect(outcome?.ok).toBe(false);
        expect(await store.readEvents(run.runId)).toHaveLength(1);
        expect(await store.pendingSignals(other.runId)).toHaveLength(1);
      });
    });

    // ---- transitions ---------------------------------------------------------------------------

    describe('transitions', () => {
      it('completed keeps the result, releases the lease and wakes the waiting parent', async () => {
        const parent = await waiting();
        const child = await running('worker-a', { parentRunId: parent.runId });
        const outcomes = await store.commit(
          [
            {
              runId: child.runId,
              owner: 'worker-a',
              events: follow(child, [{ type: 'run.completed', payload: { result: { total: 42 } } }]),
              transition: { status: 'completed', result: { total: 42 } },
            },
          ],
          T0 + 7,
        );
        expect(outcomes).toEqual([{ ok: true }]);
        const done = await fresh(child.runId);
        expect(done).toMatchObject({
          status: 'completed',
          result: { total: 42 },
          lastSeq: 2,
          updatedAt: T0 + 7,
        });
        expect(done.leaseOwner).toBeUndefined();
        expect(done.leaseExpiresAt).toBeUndefined();
        const woken = await fresh(parent.runId);
        expect(woken.status).toBe('pending');
        expect(woken.wakeGen).toBe(parent.wakeGen + 1);
      });

      it('completed without a result leaves the result undefined', async () => {
        const run = await running();
        await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: follow(run, [{ type: 'run.completed', payload: {} }]),
              transition: { status: 'completed' },
            },
          ],
          T0,
        );
        const done = await fresh(run.runId);
        expect(done.status).toBe('completed');
        expect(done.result).toBeUndefined();
      });

      it('failed keeps the error, releases the lease and wakes the parent', async () => {
        const parent = await waiting();
        const child = await running('worker-a', { parentRunId: parent.runId });
        const error = { name: 'StepFailedError', message: 'boom', code: 'STEP_FAILED' };
        await store.commit(
          [
            {
              runId: child.runId,
              owner: 'worker-a',
              events: follow(child, [{ type: 'run.failed', payload: { error } }]),
              transition: { status: 'failed', error },
            },
          ],
          T0,
        );
        const failed = await fresh(child.runId);
        expect(failed.status).toBe('failed');
        expect(failed.error).toEqual(error);
        expect(failed.leaseOwner).toBeUndefined();
        expect((await fresh(parent.runId)).status).toBe('pending');
      });

      it('cancelled releases the lease and wakes the parent', async () => {
        const parent = await waiting();
        const child = await running('worker-a', { parentRunId: parent.runId });
        await store.commit(
          [
            {
              runId: child.runId,
              owner: 'worker-a',
              events: follow(child, [{ type: 'run.cancelled', payload: {} }]),
              transition: { status: 'cancelled' },
            },
          ],
          T0,
        );
        const cancelled = await fresh(child.runId);
        expect(cancelled.status).toBe('cancelled');
        expect(cancelled.leaseOwner).toBeUndefined();
        const woken = await fresh(parent.runId);
        expect(woken.status).toBe('pending');
        expect(woken.wakeGen).toBe(parent.wakeGen + 1);
      });

      it('a finished run accepts no further writes', async () => {
        const run = await running();
        await complete(run, 'worker-a');
        const after = await fresh(run.runId);
        const [outcome] = await store.commit(
          [{ runId: run.runId, owner: 'worker-a', events: follow(after, [stepDraft(9)]) }],
          T0,
        );
        expectFailure(outcome, 'LEASE_LOST');
        expect(await store.claimRuns('worker-b', { limit: 10, leaseMs: 1000, now: T0 + 10 ** 9 })).toEqual(
          [],
        );
      });

      it('waiting parks the run with its wake-up time and releases the lease', async () => {
        const run = await running();
        const [outcome] = await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: follow(run, [
                {
                  type: 'timer.set',
                  payload: { op: 1, name: 'sleep', fireAt: new Date(T0 + 5000).toISOString() },
                },
              ]),
              transition: { status: 'waiting', wakeAt: T0 + 5000, seenWakeGen: run.wakeGen },
            },
          ],
          T0,
        );
        expect(outcome).toEqual({ ok: true });
        const parked = await fresh(run.runId);
        expect(parked).toMatchObject({ status: 'waiting', wakeAt: T0 + 5000, lastSeq: 2 });
        expect(parked.leaseOwner).toBeUndefined();
        expect(parked.leaseExpiresAt).toBeUndefined();
      });

      it('waiting becomes pending when a wake-up came since the worker saw the run', async () => {
        const run = await running();
        await store.sendSignal({
          signalId: 'sig-w',
          runId: run.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0,
        });
        const signalled = await fresh(run.runId);
        expect(signalled.status).toBe('running');
        expect(signalled.wakeGen).toBe(run.wakeGen + 1);
        await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: [],
              transition: { status: 'waiting', seenWakeGen: run.wakeGen },
            },
          ],
          T0,
        );
        const after = await fresh(run.runId);
        expect(after.status).toBe('pending');
        expect(after.leaseOwner).toBeUndefined();
      });

      it('waiting becomes pending when cancellation was requested', async () => {
        const run = await running();
        await store.requestCancel(run.runId, 'stop', T0);
        const seen = await fresh(run.runId);
        await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: [],
              transition: { status: 'waiting', seenWakeGen: seen.wakeGen },
            },
          ],
          T0,
        );
        expect((await fresh(run.runId)).status).toBe('pending');
      });

      it('pending releases the lease so any worker can claim the run again', async () => {
        const run = await running('worker-a');
        await store.commit(
          [{ runId: run.runId, owner: 'worker-a', events: [], transition: { status: 'pending' } }],
          T0,
        );
        const released = await fresh(run.runId);
        expect(released.status).toBe('pending');
        expect(released.leaseOwner).toBeUndefined();
        const claimed = await store.claimRuns('worker-b', { limit: 10, leaseMs: 1000, now: T0 });
        expect(claimed.map((r) => r.runId)).toEqual([run.runId]);
      });

      it('a failed write leaves the run as it was, transition included', async () => {
        const run = await running();
        const [outcome] = await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: follow({ ...run, lastSeq: 5 }, [{ type: 'run.completed', payload: {} }]),
              transition: { status: 'completed' },
            },
          ],
          T0,
        );
        expectFailure(outcome, 'SEQ_CONFLICT');
        const after = await fresh(run.runId);
        expect(after.status).toBe('running');
        expect(after.leaseOwner).toBe('worker-a');
      });
    });

    // ---- claimRuns -----------------------------------------------------------------------------

    describe('claimRuns', () => {
      it('leases pending runs to the owner until now + leaseMs', async () => {
        const run = await create();
        const claimed = await store.claimRuns('worker-a', { limit: 10, leaseMs: 3000, now: T0 + 1 });
        expect(claimed).toHaveLength(1);
        expect(claimed[0]).toMatchObject({
          runId: run.runId,
          status: 'running',
          leaseOwner: 'worker-a',
          leaseExpiresAt: T0 + 3001,
        });
        expect(await fresh(run.runId)).toMatchObject({
          status: 'running',
          leaseOwner: 'worker-a',
          leaseExpiresAt: T0 + 3001,
        });
        expect(await store.claimRuns('worker-b', { limit: 10, leaseMs: 3000, now: T0 + 2 })).toEqual([]);
      });

      it('claims waiting runs when their wake-up time has come, not before, and never without one', async () => {
        const due = await waiting({ wakeAt: T0 + 1000 });
        const later = await waiting({ wakeAt: T0 + 5000 });
        const forever = await waiting();
        expect(await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0 + 999 })).toEqual([]);
        const claimed = await store.claimRuns('worker-a', { limit: 10, leaseMs: 10 ** 9, now: T0 + 1000 });
        expect(claimed.map((run) => run.runId)).toEqual([due.runId]);
        expect((await fresh(later.runId)).status).toBe('waiting');
        expect((await fresh(forever.runId)).status).toBe('waiting');
        const next = await store.claimRuns('worker-a', { limit: 10, leaseMs: 10 ** 9, now: T0 + 5000 });
        expect(next.map((run) => run.runId)).toEqual([later.runId]);
        expect((await fresh(forever.runId)).status).toBe('waiting');
      });

      it('claims a waiting run whose deadline has come', async () => {
        const run = await waiting({ overrides: { deadlineAt: T0 + 2000 } });
        expect(await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0 + 1999 })).toEqual([]);
        const claimed = await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0 + 2000 });
        expect(claimed.map((r) => r.runId)).toEqual([run.runId]);
      });

      it('claims a running run whose lease expired, fencing out the old owner', async () => {
        const run = await running('worker-a', {}, T0); // lease until T0 + 10 000
        expect(await store.claimRuns('worker-b', { limit: 10, leaseMs: 1000, now: T0 + 9_999 })).toEqual([]);
        const claimed = await store.claimRuns('worker-b', { limit: 10, leaseMs: 1000, now: T0 + 10_000 });
        expect(claimed.map((r) => r.runId)).toEqual([run.runId]);
        expect(claimed[0]!.leaseOwner).toBe('worker-b');
        const [outcome] = await store.commit(
          [{ runId: run.runId, owner: 'worker-a', events: follow(run, [stepDraft(1)]) }],
          T0 + 10_001,
        );
        expectFailure(outcome, 'LEASE_LOST');
        const [status] = await store.renewLeases('worker-a', [run.runId], 1000, T0 + 10_001);
        expect(status).toEqual({ runId: run.runId, held: false, cancelRequested: false });
      });

      it('takes the highest priority first, then the oldest, up to the limit', async () => {
        const low = await create({ priority: 0, createdAt: T0 });
        const highNew = await create({ priority: 5, createdAt: T0 + 20 });
        const highOld = await create({ priority: 5, createdAt: T0 + 10 });
        const mid = await create({ priority: 1, createdAt: T0 + 30 });
        const first = await store.claimRuns('worker-a', { limit: 2, leaseMs: 1000, now: T0 + 100 });
        expect(first.map((run) => run.runId).sort()).toEqual([highOld.runId, highNew.runId].sort());
        const second = await store.claimRuns('worker-a', { limit: 1, leaseMs: 1000, now: T0 + 100 });
        expect(second.map((run) => run.runId)).toEqual([mid.runId]);
        const third = await store.claimRuns('worker-a', { limit: 5, leaseMs: 1000, now: T0 + 100 });
        expect(third.map((run) => run.runId)).toEqual([low.runId]);
      });

      it('takes a tenant’s runs of equal priority oldest first', async () => {
        const runs: string[] = [];
        for (let index = 0; index < 5; index++) runs.push((await create({ createdAt: T0 + index })).runId);
        const order: string[] = [];
        for (let index = 0; index < 5; index++) {
          const [claimed] = await store.claimRuns('worker-a', { limit: 1, leaseMs: 1000, now: T0 + 200 });
          order.push(claimed!.runId);
        }
        expect(order).toEqual(runs);
      });

      it('lets tenants take turns: one tenant’s burst does not hold back another’s run', async () => {
        const burst: string[] = [];
        for (let index = 0; index < 6; index++)
          burst.push((await create({ tenant: 'burst', createdAt: T0 + index })).runId);
        const quiet = await create({ tenant: 'quiet', createdAt: T0 + 10 });
        const claimed = await store.claimRuns('worker-a', { limit: 2, leaseMs: 1000, now: T0 + 100 });
        expect(claimed.map((run) => run.runId).sort()).toEqual([burst[0]!, quiet.runId].sort());
      });

      it('claims only the listed workflows when asked to', async () => {
        const order = await create({ workflow: 'orders' });
        const refund = await create({ workflow: 'refunds' });
        const claimed = await store.claimRuns('worker-a', {
          limit: 10,
          leaseMs: 1000,
          now: T0,
          workflows: ['refunds', 'other'],
        });
        expect(claimed.map((run) => run.runId)).toEqual([refund.runId]);
        expect((await fresh(order.runId)).status).toBe('pending');
        expect(
          await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0, workflows: [] }),
        ).toEqual([]);
      });

      it('never leases one run to two concurrent claimers', async () => {
        const created: string[] = [];
        for (let index = 0; index < 40; index++)
          created.push((await create({ createdAt: T0 + index })).runId);
        const owners = Array.from({ length: 12 }, (_, index) => `worker-${index}`);
        const rounds = await Promise.all(
          owners.map((owner) => store.claimRuns(owner, { limit: 5, leaseMs: 10_000, now: T0 + 100 })),
        );
        const claimed = rounds.flat();
        expect(new Set(claimed.map((run) => run.runId)).size).toBe(claimed.length);
        expect(claimed.map((run) => run.runId).sort()).toEqual([...created].sort());
        rounds.forEach((runs, index) => {
          for (const run of runs) expect(run.leaseOwner).toBe(owners[index]);
        });
        for (const run of claimed) expect((await fresh(run.runId)).leaseOwner).toBe(run.leaseOwner);
      });

      it('never claims finished runs', async () => {
        const run = await running();
        await complete(run, 'worker-a');
        expect(await store.claimRuns('worker-b', { limit: 10, leaseMs: 1000, now: T0 + 10 ** 9 })).toEqual(
          [],
        );
      });
    });

    // ---- renewLeases ---------------------------------------------------------------------------

    describe('renewLeases', () => {
      it('extends held leases and reports lost and cancelled ones', async () => {
        const held = await running('worker-a');
        const cancelled = await running('worker-a');
        const lost = await running('worker-a');
        await store.requestCancel(cancelled.runId, undefined, T0);
        await store.commit(
          [{ runId: lost.runId, owner: 'worker-a', events: [], transition: { status: 'pending' } }],
          T0,
        );
        await store.claimRuns('worker-b', { limit: 10, leaseMs: 10 ** 9, now: T0 });

        const statuses = await store.renewLeases(
          'worker-a',
          [held.runId, cancelled.runId, lost.runId, 'run_unknown'],
          30_000,
          T0 + 5,
        );
        expect(statuses).toEqual([
          { runId: held.runId, held: true, cancelRequested: false },
          { runId: cancelled.runId, held: true, cancelRequested: true },
          { runId: lost.runId, held: false, cancelRequested: false },
          { runId: 'run_unknown', held: false, cancelRequested: false },
        ]);
        expect((await fresh(held.runId)).leaseExpiresAt).toBe(T0 + 30_005);
        expect((await fresh(lost.runId)).leaseOwner).toBe('worker-b');
        // A renewed lease is not claimable until it expires again.
        expect(await store.claimRuns('worker-c', { limit: 10, leaseMs: 1000, now: T0 + 30_004 })).toEqual([]);
      });

      it('does nothing for no runs', async () => {
        expect(await store.renewLeases('worker-a', [], 1000, T0)).toEqual([]);
      });
    });

    // ---- nextWakeAt ----------------------------------------------------------------------------

    describe('nextWakeAt', () => {
      it('is the earliest wake-up among waiting runs (their timers and deadlines)', async () => {
        expect(await store.nextWakeAt()).toBeUndefined();
        await waiting();
        expect(await store.nextWakeAt()).toBeUndefined();
        await waiting({ wakeAt: T0 + 9000 });
        await waiting({ wakeAt: T0 + 4000 });
        expect(await store.nextWakeAt()).toBe(T0 + 4000);
        await waiting({ wakeAt: T0 + 8000, overrides: { deadlineAt: T0 + 3000 } });
        expect(await store.nextWakeAt()).toBe(T0 + 3000);
      });

      it('ignores finished runs', async () => {
        const run = await running();
        await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: [],
              transition: { status: 'waiting', wakeAt: T0 + 100, seenWakeGen: run.wakeGen },
            },
          ],
          T0,
        );
        expect(await store.nextWakeAt()).toBe(T0 + 100);
        const [claimed] = await store.claimRuns('worker-a', { limit: 1, leaseMs: 1000, now: T0 + 100 });
        await complete(claimed!, 'worker-a');
        expect(await store.nextWakeAt()).toBeUndefined();
      });
    });

    // ---- signals -------------------------------------------------------------------------------

    describe('sendSignal and pendingSignals', () => {
      it('refuses a signal to an unknown run, to a run of another tenant, and to a finished run', async () => {
        await expect(
          store.sendSignal({
            signalId: 's1',
            runId: 'run_unknown',
            name: 'go',
            sentBy: 'user:bob',
            sentAt: T0,
          }),
        ).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
        const run = await create({ tenant: 'acme' });
        await expect(
          store.sendSignal(
            { signalId: 's2', runId: run.runId, name: 'go', sentBy: 'user:bob', sentAt: T0 },
            { tenant: 'globex' },
          ),
        ).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
        const done = await running();
        await complete(done, 'worker-a');
        await expect(
          store.sendSignal({ signalId: 's3', runId: done.runId, name: 'go', sentBy: 'user:bob', sentAt: T0 }),
        ).rejects.toMatchObject({ code: 'RUN_FINISHED' });
        expect(await store.pendingSignals(run.runId)).toEqual([]);
        expect(await store.pendingSignals(done.runId)).toEqual([]);
      });

      it('keeps signals for the run, oldest first, with their payloads', async () => {
        const run = await create();
        await store.sendSignal({
          signalId: 's-1',
          runId: run.runId,
          name: 'reply',
          payload: { text: 'yes', n: [1, 2] },
          sentBy: 'user:bob',
          sentAt: T0 + 1,
        });
        await store.sendSignal(
          { signalId: 's-2', runId: run.runId, name: 'approve', sentBy: 'user:carol', sentAt: T0 + 2 },
          { tenant: 'acme' },
        );
        await store.sendSignal({
          signalId: 's-3',
          runId: run.runId,
          name: 'reply',
          payload: 'again',
          sentBy: 'user:bob',
          sentAt: T0 + 3,
        });
        const signals = await store.pendingSignals(run.runId);
        expect(signals.map((signal) => signal.signalId)).toEqual(['s-1', 's-2', 's-3']);
        expect(signals[0]).toEqual({
          signalId: 's-1',
          runId: run.runId,
          name: 'reply',
          payload: { text: 'yes', n: [1, 2] },
          sentBy: 'user:bob',
          sentAt: T0 + 1,
          consumed: false,
        });
        expect(signals[1]!.payload).toBeUndefined();
        expect(signals[2]!.payload).toBe('again');
      });

      it('answers each of many signals sent at once on its own, keeping and waking the rest', async () => {
        const parked = await Promise.all([waiting(), waiting(), waiting()]);
        const done = await running();
        await complete(done, 'worker-a');
        const send = (signalId: string, runId: string, scope?: { tenant: string }) =>
          store.sendSignal(
            { signalId, runId, name: 'go', payload: signalId, sentBy: 'user:bob', sentAt: T0 },
            scope,
          );
        const results = await Promise.allSettled([
          ...parked.map((run, index) => send(`m-${index}`, run.runId)),
          send('m-unknown', 'run_unknown'),
          send('m-done', done.runId),
          send('m-tenant', parked[0].runId, { tenant: 'globex' }),
          send('m-again', parked[1].runId),
          send('m-again', parked[1].runId),
        ]);
        const answers = results.map((result) =>
          result.status === 'fulfilled' ? result.value : (result.reason as { code: string }).code,
        );
        expect(answers).toEqual([
          { kept: true },
          { kept: true },
          { kept: true },
          'RUN_NOT_FOUND',
          'RUN_FINISHED',
          'RUN_NOT_FOUND',
          { kept: true },
          { kept: true },
        ]);
        for (const [index, run] of parked.entries()) {
          expect((await store.getRun(run.runId))?.status).toBe('pending');
          const kept = (await store.pendingSignals(run.runId)).map((signal) => signal.signalId);
          expect(kept).toEqual(index === 1 ? ['m-1', 'm-again'] : [`m-${index}`]);
        }
        expect(await store.pendingSignals(done.runId)).toEqual([]);
      });

      it('keeps a signal id once when it is sent again', async () => {
        const run = await create();
        const signal = {
          signalId: 's-dup',
          runId: run.runId,
          name: 'go',
          payload: 1,
          sentBy: 'user:bob',
          sentAt: T0,
        };
        await store.sendSignal(signal);
        await store.sendSignal(signal);
        expect(await store.pendingSignals(run.runId)).toHaveLength(1);
      });

      it('keeps one signal per idempotency key and run, and returns the one kept to a resend', async () => {
        const run = await create();
        const other = await create();
        const first = {
          runId: run.runId,
          name: 'pay',
          payload: { cents: 5 },
          sentBy: 'user:bob',
          sentAt: T0,
        };
        expect(await store.sendSignal({ ...first, signalId: 'k-1', idempotencyKey: 'pay-1' })).toEqual({
          kept: true,
        });
        const again = await store.sendSignal({
          ...first,
          signalId: 'k-2',
          idempotencyKey: 'pay-1',
          sentAt: T0 + 1,
        });
        expect(again).toMatchObject({
          kept: false,
          existing: { signalId: 'k-1', name: 'pay', payload: { cents: 5 }, idempotencyKey: 'pay-1' },
        });
        // The key is unique per run: another run may use it.
        expect(
          await store.sendSignal({ ...first, runId: other.runId, signalId: 'k-3', idempotencyKey: 'pay-1' }),
        ).toEqual({ kept: true });
        expect((await store.pendingSignals(run.runId)).map((signal) => signal.signalId)).toEqual(['k-1']);
        // A resend after the run finished finds the key kept rather than refusing the finished run.
        const done = await running();
        await store.sendSignal({ ...first, runId: done.runId, signalId: 'k-4', idempotencyKey: 'late' });
        await complete(done, 'worker-a');
        expect(
          await store.sendSignal({ ...first, runId: done.runId, signalId: 'k-5', idempotencyKey: 'late' }),
        ).toMatchObject({ kept: false, existing: { signalId: 'k-4' } });
        await expect(
          store.sendSignal({ ...first, runId: done.runId, signalId: 'k-6', idempotencyKey: 'new' }),
        ).rejects.toMatchObject({ code: 'RUN_FINISHED' });
        // Another tenant does not see the run, key or not.
        await expect(
          store.sendSignal({ ...first, signalId: 'k-7', idempotencyKey: 'pay-1' }, { tenant: 'globex' }),
        ).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
      });

      it('keeps one signal when many senders race with the same idempotency key', async () => {
        const run = await create();
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, index) =>
            store.sendSignal({
              signalId: `race-${index}`,
              runId: run.runId,
              name: 'go',
              payload: 1,
              sentBy: 'user:bob',
              sentAt: T0,
              idempotencyKey: 'once',
            }),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.kept)).toHaveLength(1);
        expect(await store.pendingSignals(run.runId)).toHaveLength(1);
      });

      it('wakes a waiting run', async () => {
        const run = await waiting({ wakeAt: T0 + 10 ** 9 });
        await store.sendSignal({
          signalId: 's-wake',
          runId: run.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0 + 3,
        });
        const woken = await fresh(run.runId);
        expect(woken.status).toBe('pending');
        expect(woken.wakeGen).toBe(run.wakeGen + 1);
        const claimed = await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0 + 4 });
        expect(claimed.map((r) => r.runId)).toEqual([run.runId]);
      });

      it('does not change the status of a pending or running run', async () => {
        const pending = await create();
        const active = await running();
        await store.sendSignal({
          signalId: 's-p',
          runId: pending.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0,
        });
        await store.sendSignal({
          signalId: 's-r',
          runId: active.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0,
        });
        expect((await fresh(pending.runId)).status).toBe('pending');
        const after = await fresh(active.runId);
        expect(after.status).toBe('running');
        expect(after.leaseOwner).toBe('worker-a');
      });
    });

    // ---- requestCancel -------------------------------------------------------------------------

    describe('requestCancel', () => {
      it('marks a waiting run, keeps the reason and wakes it', async () => {
        const run = await waiting();
        const record = await store.requestCancel(run.runId, 'customer asked', T0 + 9, { tenant: 'acme' });
        expect(record).toMatchObject({
          runId: run.runId,
          status: 'pending',
          cancelRequested: true,
          wakeGen: run.wakeGen + 1,
        });
        expect(record.metadata.cancelReason).toBe('customer asked');
        expect(await fresh(run.runId)).toEqual(record);
      });

      it('marks a running run without taking its lease; the owner hears of it on renewal', async () => {
        const run = await running('worker-a');
        const record = await store.requestCancel(run.runId, undefined, T0);
        expect(record).toMatchObject({ status: 'running', leaseOwner: 'worker-a', cancelRequested: true });
        expect(record.metadata.cancelReason).toBeUndefined();
        const [status] = await store.renewLeases('worker-a', [run.runId], 1000, T0);
        expect(status).toEqual({ runId: run.runId, held: true, cancelRequested: true });
      });

      it('refuses an unknown run, a run of another tenant and a finished run', async () => {
        await expect(store.requestCancel('run_unknown', undefined, T0)).rejects.toMatchObject({
          code: 'RUN_NOT_FOUND',
        });
        const run = await create({ tenant: 'acme' });
        await expect(
          store.requestCancel(run.runId, undefined, T0, { tenant: 'globex' }),
        ).rejects.toMatchObject({
          code: 'RUN_NOT_FOUND',
        });
        expect((await fresh(run.runId)).cancelRequested).toBe(false);
        const done = await running();
        await complete(done, 'worker-a');
        await expect(store.requestCancel(done.runId, undefined, T0)).rejects.toMatchObject({
          code: 'RUN_FINISHED',
        });
      });
    });

    // ---- cancel details, timed_out, reopenRun (resume in place) ---------------------------------

    describe('cancel details, timed_out and reopenRun', () => {
      it('keeps who cancelled and whether children go with it; a run told of its cancel may park', async () => {
        const run = await running('worker-a');
        const record = await store.requestCancel(run.runId, 'stop', T0, undefined, {
          by: 'user:bob',
          children: 'abandon',
        });
        expect(record.metadata).toMatchObject({
          cancelReason: 'stop',
          cancelledBy: 'user:bob',
          cancelChildren: 'abandon',
        });
        const parked = await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: [],
              transition: { status: 'waiting', seenWakeGen: record.wakeGen, cancelHandled: true },
            },
          ],
          T0 + 1,
        );
        expect(parked).toEqual([{ ok: true }]);
        expect((await fresh(run.runId)).status).toBe('waiting');
      });

      it('ends a run timed_out, a finished status with its error', async () => {
        const run = await running('worker-a');
        const error = { name: 'RunTimeoutError', message: 'late', code: 'RUN_TIMEOUT' };
        const outcomes = await store.commit(
          [
            {
              runId: run.runId,
              owner: 'worker-a',
              events: follow(run, [{ type: 'run.timedOut', payload: { timeoutMs: 5, error } }]),
              transition: { status: 'timed_out', error },
            },
          ],
          T0 + 1,
        );
        expect(outcomes).toEqual([{ ok: true }]);
        expect(await fresh(run.runId)).toMatchObject({ status: 'timed_out', error });
        expect((await fresh(run.runId)).leaseOwner).toBeUndefined();
        expect((await store.listRuns({ status: ['timed_out'] })).map((r) => r.runId)).toEqual([run.runId]);
        await expect(store.requestCancel(run.runId, undefined, T0)).rejects.toMatchObject({
          code: 'RUN_FINISHED',
        });
      });

      it('reopens a stopped run with its run.resumed event, and refuses a completed or moved run', async () => {
        const run = await running('worker-a');
        await store.requestCancel(run.runId, 'oops', T0, undefined, { by: 'user:bob' });
        const cancelled = follow(run, [{ type: 'run.cancelled', payload: { reason: 'oops' } }]);
        await store.commit(
          [{ runId: run.runId, owner: 'worker-a', events: cancelled, transition: { status: 'cancelled' } }],
          T0 + 1,
        );
        const stopped = await fresh(run.runId);
        const [resumed] = follow(stopped, [
          {
            type: 'run.resumed',
            payload: { by: 'user:bob', from: 'cancelled', voidFromSeq: 2 },
            actor: 'user:bob',
            onBehalfOf: [],
          },
        ]);
        const stale = { ...resumed!, seq: resumed!.seq + 1 } as JournalEvent<'run.resumed'>;
        await expect(store.reopenRun(run.runId, stale, { now: T0 + 2 })).rejects.toMatchObject({
          code: 'SEQ_CONFLICT',
        });
        await expect(
          store.reopenRun(
            run.runId,
            resumed as JournalEvent<'run.resumed'>,
            { now: T0 + 2 },
            { tenant: 'globex' },
          ),
        ).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
        const reopened = await store.reopenRun(run.runId, resumed as JournalEvent<'run.resumed'>, {
          now: T0 + 2,
          deadlineAt: T0 + 1000,
        });
        expect(reopened).toMatchObject({
          status: 'pending',
          cancelRequested: false,
          lastSeq: resumed!.seq,
          headHash: resumed!.hash,
          deadlineAt: T0 + 1000,
          wakeGen: stopped.wakeGen + 1,
        });
        expect(reopened.metadata.cancelReason).toBeUndefined();
        expect(reopened.metadata.cancelledBy).toBeUndefined();
        const events = await store.readEvents(run.runId);
        expect(events.at(-1)).toEqual(resumed);
        expect(verifyChain(events, run.runId).ok).toBe(true);
        await expect(
          store.reopenRun(run.runId, resumed as JournalEvent<'run.resumed'>, { now: T0 }),
        ).rejects.toMatchObject({
          code: 'RUN_NOT_RESUMABLE',
        });
        const done = await running();
        await complete(done, 'worker-a');
        const completed = await fresh(done.runId);
        const [again] = follow(completed, [
          { type: 'run.resumed', payload: { by: 'user:bob', from: 'failed', voidFromSeq: 2 } },
        ]);
        await expect(
          store.reopenRun(done.runId, again as JournalEvent<'run.resumed'>, { now: T0 }),
        ).rejects.toMatchObject({
          code: 'RUN_NOT_RESUMABLE',
        });
      });
    });

    // ---- pauseRun and resumeRun -----------------------------------------------------------------

    describe('pauseRun and resumeRun', () => {
      async function claimAll(owner: string, now: number): Promise<string[]> {
        return (await store.claimRuns(owner, { limit: 100, leaseMs: 10_000, now })).map((run) => run.runId);
      }

      it('keeps a paused pending run from being claimed until it is resumed', async () => {
        const run = await create();
        const paused = await store.pauseRun(run.runId, T0 + 1, { tenant: 'acme' });
        expect(paused).toMatchObject({ runId: run.runId, status: 'pending', paused: true });
        expect(await fresh(run.runId)).toEqual(paused);
        expect(await claimAll('worker-a', T0 + 2)).toEqual([]);
        const resumed = await store.resumeRun(run.runId, T0 + 3);
        expect(resumed.paused).toBeUndefined();
        expect(resumed.status).toBe('pending');
        expect(await claimAll('worker-a', T0 + 4)).toEqual([run.runId]);
      });

      it('holds a paused waiting run through its wake-up time and signals, and leaves it out of nextWakeAt', async () => {
        const run = await waiting({ wakeAt: T0 + 100 });
        await store.pauseRun(run.runId, T0);
        expect(await store.nextWakeAt()).toBeUndefined();
        expect(await claimAll('worker-a', T0 + 200)).toEqual([]);
        await store.sendSignal({
          signalId: `sig_${run.runId}`,
          runId: run.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0 + 201,
        });
        expect((await fresh(run.runId)).status).toBe('pending');
        expect(await claimAll('worker-a', T0 + 202)).toEqual([]);
        await store.resumeRun(run.runId, T0 + 203);
        expect(await claimAll('worker-a', T0 + 204)).toEqual([run.runId]);
      });

      it('tells the holder of a paused running run on renewal, and no one claims it once released', async () => {
        const run = await running('worker-a');
        const paused = await store.pauseRun(run.runId, T0);
        expect(paused).toMatchObject({ status: 'running', leaseOwner: 'worker-a', paused: true });
        const [status] = await store.renewLeases('worker-a', [run.runId], 1000, T0);
        expect(status).toEqual({ runId: run.runId, held: true, cancelRequested: false, paused: true });
        const outcomes = await store.commit(
          [{ runId: run.runId, owner: 'worker-a', events: [], transition: { status: 'pending' } }],
          T0 + 1,
        );
        expect(outcomes).toEqual([{ ok: true }]);
        expect(await claimAll('worker-b', T0 + 2)).toEqual([]);
        await store.resumeRun(run.runId, T0 + 3);
        expect(await claimAll('worker-b', T0 + 4)).toEqual([run.runId]);
      });

      it('does not hand a paused run on when its holder’s lease expires', async () => {
        const run = await running('worker-a');
        await store.pauseRun(run.runId, T0);
        expect(await claimAll('worker-b', T0 + 60_000)).toEqual([]);
      });

      it('pausing twice is the same as once; cancelling a paused run resumes it so a worker ends it', async () => {
        const run = await create();
        await store.pauseRun(run.runId, T0);
        expect((await store.pauseRun(run.runId, T0 + 1)).paused).toBe(true);
        const cancelled = await store.requestCancel(run.runId, 'no longer needed', T0 + 2);
        expect(cancelled).toMatchObject({ cancelRequested: true });
        expect(cancelled.paused).toBeUndefined();
        expect(await claimAll('worker-a', T0 + 3)).toEqual([run.runId]);
      });

      it('refuses an unknown run, a run of another tenant and a finished run', async () => {
        await expect(store.pauseRun('run_unknown', T0)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
        const run = await create({ tenant: 'acme' });
        await expect(store.pauseRun(run.runId, T0, { tenant: 'globex' })).rejects.toMatchObject({
          code: 'RUN_NOT_FOUND',
        });
        await expect(store.resumeRun(run.runId, T0, { tenant: 'globex' })).rejects.toMatchObject({
          code: 'RUN_NOT_FOUND',
        });
        expect((await fresh(run.runId)).paused).toBeUndefined();
        const done = await running();
        await complete(done, 'worker-a');
        await expect(store.pauseRun(done.runId, T0)).rejects.toMatchObject({ code: 'RUN_FINISHED' });
        await expect(store.resumeRun(done.runId, T0)).rejects.toMatchObject({ code: 'RUN_FINISHED' });
      });
    });

    it(`declares specification v1 and a location`, () => {
      expect(store.specificationVersion).toBe('v1');
      expect(typeof store.location).toBe('string');
      expect(store.location.length).toBeGreaterThan(0);
    });
  });
}
