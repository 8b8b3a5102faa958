import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatonError, OverloadedError } from '../../src/errors.ts';
import { GENESIS_HASH, sealEvent } from '../../src/journal/hash-chain.ts';
import type {
  PoolAcquireRequest,
  PoolAcquireResult,
  PoolLimits,
  PoolStore,
} from '../../src/store/pool-store.ts';
import type { NewRun, RunRecord, Store } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const WINDOW: PoolLimits = { windowMs: 60_000 };

/**
 * The conformance suite of the Store spec's `pools` capability (src/store/pool-store.ts) and of
 * bounded admission in createRun. Every backend that has `pools` runs it. Times are given, never
 * read from a clock, so every expectation is exact.
 */
export function poolStoreConformance(
  name: string,
  open: () => Promise<{ store: Store; dispose: () => Promise<void> }>,
): void {
  describe(`Pool store conformance: ${name}`, () => {
    let store: Store;
    let pools: PoolStore;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await open());
      if (!store.pools) throw new Error(`${name} has no pools capability`);
      pools = store.pools;
    });
    afterEach(async () => dispose());

    const acquire = (
      holder: string,
      now: number,
      limits: Partial<PoolLimits>,
      more: Partial<PoolAcquireRequest> = {},
    ) =>
      pools.acquire({
        pool: 'api',
        holder,
        tenant: 'default',
        priority: 0,
        limits: { ...WINDOW, ...limits },
        tokens: 0,
        now,
        leaseMs: 10_000,
        ...more,
      });
    const leaseOf = (result: PoolAcquireResult): string => {
      if (!result.granted) throw new Error(`expected a grant, got ${JSON.stringify(result)}`);
      return result.leaseId;
    };

    describe('slots', () => {
      it('grants up to the concurrency, refuses the next, and grants again once one is released', async () => {
        const first = leaseOf(await acquire('a', T0, { concurrency: 2 }));
        leaseOf(await acquire('b', T0, { concurrency: 2 }));
        const refused = await acquire('c', T0 + 1, { concurrency: 2 });
        expect(refused).toMatchObject({ granted: false, reason: 'concurrency', position: 1 });
        await pools.release(first, { now: T0 + 2 });
        expect((await acquire('c', T0 + 3, { concurrency: 2 })).granted).toBe(true);
      });

      it('gives a dead holder’s slot back when its lease expires, and keeps a renewed one', async () => {
        const held = leaseOf(await acquire('dead', T0, { concurrency: 1 }, { leaseMs: 1000 }));
        const renewed = leaseOf(await acquire('alive', T0, { concurrency: 2 }, { leaseMs: 1000 }));
        await pools.renew([renewed], 1000, T0 + 900);
        expect((await acquire('next', T0 + 999, { concurrency: 2 })).granted).toBe(false);
        // At T0 + 1000 the dead holder's lease has expired; the renewed one runs to T0 + 1900.
        expect((await acquire('next', T0 + 1000, { concurrency: 2 })).granted).toBe(true);
        expect((await acquire('later', T0 + 1001, { concurrency: 2 })).granted).toBe(false);
        void held;
      });

      it('does nothing when a lease is released twice or was never granted', async () => {
        const lease = leaseOf(await acquire('a', T0, { concurrency: 1 }));
        await pools.release(lease, { now: T0 + 1 });
        await pools.release(lease, { now: T0 + 2 });
        await pools.release('no-such-lease', { now: T0 + 3 });
        leaseOf(await acquire('b', T0 + 4, { concurrency: 1 }));
        expect((await acquire('c', T0 + 5, { concurrency: 1 })).granted).toBe(false);
      });
    });

    describe('request and token windows', () => {
      it('counts a request from its grant until a window after it ended, and says exactly when room comes back', async () => {
        const limits = { requests: 2, windowMs: 1000 };
        const first = leaseOf(await acquire('a', T0, limits));
        const second = leaseOf(await acquire('b', T0, limits));
        await pools.release(first, { now: T0 + 100 });
        await pools.release(second, { now: T0 + 300 });
        const refused = await acquire('c', T0 + 400, limits);
        // The first request stops counting 1000 ms after it ended: at T0 + 1100.
        expect(refused).toMatchObject({ granted: false, reason: 'requests', retryAfterMs: 700 });
        expect((await acquire('c', T0 + 1099, limits)).granted).toBe(false);
        expect((await acquire('c', T0 + 1100, limits)).granted).toBe(true);
      });

      it('counts a request still in flight, however long ago it was granted', async () => {
        const limits = { requests: 1, windowMs: 1000 };
        leaseOf(await acquire('slow', T0, limits, { leaseMs: 60_000 }));
        expect((await acquire('next', T0 + 5000, limits)).granted).toBe(false);
      });

      it('withdraws a request released as unused', async () => {
        const limits = { requests: 1, windowMs: 1000 };
        const lease = leaseOf(await acquire('a', T0, limits));
        await pools.release(lease, { now: T0 + 1, unused: true });
        expect((await acquire('b', T0 + 2, limits)).granted).toBe(true);
      });

      it('reserves estimated tokens and corrects them from the real usage on release', async () => {
        const limits = { tokens: 100, windowMs: 1000 };
        const first = leaseOf(await acquire('a', T0, limits, { tokens: 60 }));
        expect(await acquire('b', T0 + 1, limits, { tokens: 60 })).toMatchObject({
          granted: false,
          reason: 'tokens',
        });
        await pools.release(first, { now: T0 + 2, tokens: 10 });
        expect((await acquire('b', T0 + 3, limits, { tokens: 60 })).granted).toBe(true);
        expect((await pools.usage(T0 + 4)).find((usage) => usage.pool === 'api')).toMatchObject({
          tokensInWindow: 70,
        });
      });

      it('grants a single request larger than the window’s tokens only when the window holds none', async () => {
        const limits = { tokens: 100, windowMs: 1000 };
        const big = leaseOf(await acquire('big', T0, limits, { tokens: 250 }));
        await pools.release(big, { now: T0 + 10 });
        // 250 tokens are three windows' worth: they count until 3000 ms after the call ended.
        expect(await acquire('small', T0 + 20, limits, { tokens: 1 })).toMatchObject({
          granted: false,
          retryAfterMs: 2990,
        });
        expect((await acquire('small', T0 + 3009, limits, { tokens: 1 })).granted).toBe(false);
        expect((await acquire('small', T0 + 3010, limits, { tokens: 1 })).granted).toBe(true);
      });

      it('pauses every grant until a provider’s Retry-After has passed', async () => {
        const lease = leaseOf(await acquire('a', T0, { concurrency: 5 }));
        await pools.release(lease, { now: T0 + 10, pauseUntil: T0 + 5000 });
        expect(await acquire('b', T0 + 1000, { concurrency: 5 })).toMatchObject({
          granted: false,
          reason: 'paused',
          retryAfterMs: 4000,
        });
        expect((await acquire('b', T0 + 5000, { concurrency: 5 })).granted).toBe(true);
      });
    });

    describe('the queue', () => {
      it('keeps a waiter’s place: a newcomer does not take a slot from a waiter that is back', async () => {
        const limits = { concurrency: 1 };
        const held = leaseOf(await acquire('holder', T0, limits));
        const waiting = await acquire('first', T0 + 1, limits);
        expect(waiting).toMatchObject({ granted: false, position: 1 });
        await pools.release(held, { now: T0 + 2 });
        const due = T0 + 1 + (waiting.granted ? 0 : waiting.retryAfterMs);
        expect(await acquire('newcomer', due, limits)).toMatchObject({ granted: false, position: 2 });
        const granted = await acquire('first', due, limits);
        expect(granted).toMatchObject({ granted: true, waitedMs: due - (T0 + 1) });
      });

      it('serves waiters by priority, then tenants in turn, then oldest first', async () => {
        const limits = { concurrency: 1 };
        leaseOf(await acquire('holder', T0, limits));
        const refusal = (holder: string, now: number, tenant: string, priority = 0) =>
          acquire(holder, now, limits, { tenant, priority });
        await refusal('burst-1', T0 + 1, 'burst');
        await refusal('burst-2', T0 + 2, 'burst');
        await refusal('burst-3', T0 + 3, 'burst');
        await refusal('quiet-1', T0 + 4, 'quiet');
        await refusal('urgent', T0 + 5, 'burst', 10);
        const positions = new Map<string, number>();
        for (const holder of ['burst-1', 'burst-2', 'burst-3', 'quiet-1', 'urgent']) {
          const again = await acquire(holder, T0 + 6, limits, {
            tenant: holder.startsWith('quiet') ? 'quiet' : 'burst',
            priority: holder === 'urgent' ? 10 : 0,
          });
          positions.set(holder, again.granted ? 0 : again.position);
        }
        expect(Object.fromEntries(positions)).toEqual({
          urgent: 1,
          'burst-1': 2,
          'quiet-1': 3,
          'burst-2': 4,
          'burst-3': 5,
        });
      });

      it('forgets a waiter that stops coming back', async () => {
        const limits = { concurrency: 1 };
        const held = leaseOf(await acquire('holder', T0, limits));
        await acquire('gone', T0 + 1, limits);
        await pools.release(held, { now: T0 + 2 });
        // Long after the time it was told, plus any grace: its place is gone.
        expect((await acquire('newcomer', T0 + 120_000, limits)).granted).toBe(true);
      });

      it('wakes the parked run of the first waiter when a slot frees before it is due back', async () => {
        const run = await parkedRun(store, T0);
        const limits = { concurrency: 1 };
        const held = leaseOf(await acquire('holder', T0 + 1, limits, { leaseMs: 60_000 }));
        const refused = await acquire(`${run.runId}:3`, T0 + 5000, limits, { runId: run.runId });
        expect(refused).toMatchObject({ granted: false, reason: 'concurrency' });
        expect(refused.granted ? 0 : refused.retryAfterMs).toBeGreaterThan(1);
        await pools.release(held, { now: T0 + 5001 });
        expect((await store.getRun(run.runId))?.wakeAt).toBe(T0 + 5001);
        expect(await store.claimRuns('worker-b', { limit: 1, leaseMs: 1000, now: T0 + 5001 })).toHaveLength(
          1,
        );
      });
    });

    it('reports in-flight calls, waiters, windows and waits per pool', async () => {
      const limits = { concurrency: 1, requests: 10, windowMs: 1000 };
      const held = leaseOf(await acquire('a', T0, limits, { tokens: 5 }));
      await acquire('b', T0 + 10, limits);
      expect((await pools.usage(T0 + 20)).find((usage) => usage.pool === 'api')).toMatchObject({
        inFlight: 1,
        waiting: 1,
        oldestWaitMs: 10,
        requestsInWindow: 1,
        tokensInWindow: 5,
        granted: 1,
      });
      await pools.release(held, { now: T0 + 100 });
      await acquire('b', T0 + 110, limits);
      expect((await pools.usage(T0 + 120)).find((usage) => usage.pool === 'api')).toMatchObject({
        inFlight: 1,
        waiting: 0,
        granted: 2,
        totalWaitMs: 100,
        maxWaitMs: 100,
        averageHoldMs: 100,
      });
    });

    describe('bounded admission (createRun)', () => {
      it('refuses a run beyond the bound, writes nothing, and still returns a run started before by its key', async () => {
        const admission = { maxQueuedRuns: 2 };
        const kept = await createRun(store, {
          runId: 'run_a',
          createdAt: T0,
          idempotencyKey: 'a',
          admission,
        });
        await createRun(store, { runId: 'run_b', createdAt: T0 + 1, admission });
        const refused = await createRun(store, { runId: 'run_c', createdAt: T0 + 2, admission }).catch(
          (error: unknown) => error,
        );
        expect(OverloadedError.isInstance(refused) || BatonError.isInstance(refused)).toBe(true);
        expect(refused).toMatchObject({ code: 'OVERLOADED', disposition: 'retryable', queued: 2, limit: 2 });
        expect((refused as BatonError).retryAfterMs).toBeGreaterThan(0);
        expect(await store.getRun('run_c')).toBeUndefined();
        expect(await store.readEvents('run_c')).toEqual([]);
        const again = await createRun(store, {
          runId: 'run_d',
          createdAt: T0 + 3,
          idempotencyKey: 'a',
          admission,
        });
        expect(again).toMatchObject({ created: false, run: { runId: kept.run.runId } });
      });

      it('bounds each tenant apart, and takes the drain rate from the runs finished in the last minute', async () => {
        const admission = { maxQueuedRunsPerTenant: 1 };
        await createRun(store, { runId: 'run_a1', tenant: 'a', createdAt: T0, admission });
        await createRun(store, { runId: 'run_b1', tenant: 'b', createdAt: T0, admission });
        const refused = await createRun(store, {
          runId: 'run_a2',
          tenant: 'a',
          createdAt: T0 + 1,
          admission,
        }).catch((error: unknown) => error);
        // Nothing of tenant a finished in the last minute: come back in a minute.
        expect(refused).toMatchObject({ code: 'OVERLOADED', tenant: 'a', retryAfterMs: 60_000 });

        // Three runs of tenant c finish within the minute: one run over the bound drains in 20 s.
        for (let index = 0; index < 3; index++) {
          await createRun(store, {
            runId: `run_c${index}`,
            tenant: 'c',
            createdAt: T0 + 10 + index,
            admission,
          });
          const claimed = await store.claimRuns('worker-a', {
            limit: 10,
            leaseMs: 1000,
            now: T0 + 20 + index,
          });
          for (const run of claimed.filter((each) => each.tenant === 'c'))
            await finish(store, run, T0 + 30 + index);
        }
        await createRun(store, { runId: 'run_c3', tenant: 'c', createdAt: T0 + 40, admission });
        const drained = await createRun(store, {
          runId: 'run_c4',
          tenant: 'c',
          createdAt: T0 + 41,
          admission,
        }).catch((error: unknown) => error);
        expect(drained).toMatchObject({
          code: 'OVERLOADED',
          tenant: 'c',
          queued: 1,
          limit: 1,
          retryAfterMs: 20_000,
        });
        expect(await store.getRun('run_c4')).toBeUndefined();
      });
    });
  });
}

async function createRun(
  store: Store,
  run: Partial<NewRun> & { runId: string; createdAt: number },
): Promise<{ run: RunRecord; created: boolean }> {
  const started = sealEvent<'run.started'>({
    runId: run.runId,
    seq: 1,
    type: 'run.started',
    at: new Date(run.createdAt).toISOString(),
    actor: 'user:test',
    onBehalfOf: [],
    payload: { workflow: 'w', input: null, format: 1, flags: [] },
    prevHash: GENESIS_HASH,
  });
  return store.createRun(
    { workflow: 'w', tenant: 'default', principal: 'user:test', input: null, ...run },
    started,
  );
}

/** A run claimed by a worker that parked it until far in the future. */
async function parkedRun(store: Store, now: number): Promise<RunRecord> {
  await createRun(store, { runId: 'run_parked', createdAt: now });
  const [run] = await store.claimRuns('worker-a', { limit: 1, leaseMs: 1000, now });
  const [outcome] = await store.commit(
    [
      {
        runId: run!.runId,
        owner: 'worker-a',
        events: [],
        transition: { status: 'waiting', wakeAt: now + 3_600_000, seenWakeGen: run!.wakeGen },
      },
    ],
    now,
  );
  expect(outcome).toEqual({ ok: true });
  return run!;
}

async function finish(store: Store, run: RunRecord, now: number): Promise<void> {
  const [outcome] = await store.commit(
    [{ runId: run.runId, owner: 'worker-a', events: [], transition: { status: 'completed' } }],
    now,
  );
  expect(outcome).toEqual({ ok: true });
}
