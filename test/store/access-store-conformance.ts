import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventDraft, JournalEvent } from '../../src/journal/events.ts';
import type { CheckpointRecord } from '../../src/store/checkpoints.ts';
import type { NewRun, RunRecord, Store } from '../../src/store/store.ts';
import { sealDrafts, startedEvent } from '../../src/testing/sealed-events.ts';

/**
 * What the access layer needs of a Store backend, as one suite every backend runs (beside
 * store-conformance.ts): journals scoped by tenant (`readEvents` with a scope), the optional
 * `checkpoints` capability and the optional `queryEvents`. A backend without an optional part
 * fails its tests: implement it, or do not call this suite for it.
 *
 *   accessStoreConformance('postgres', async () => PostgresStore.open({ url }), async (store) => drop(store));
 */
export function accessStoreConformance(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`Store access conformance: ${name}`, () => {
    const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
    let store: Store;
    let counter = 0;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    async function create(tenant: string, principal = 'user:alice'): Promise<RunRecord> {
      const run: NewRun = {
        runId: `run_access_${++counter}_${Math.random().toString(36).slice(2, 8)}`,
        workflow: `support-${counter}`,
        tenant,
        principal,
        input: null,
        createdAt: T0,
      };
      return (await store.createRun(run, startedEvent(run))).run;
    }

    /** Leases the run and appends events written at the given times. */
    async function append(
      run: RunRecord,
      drafts: readonly (EventDraft & { at: number })[],
    ): Promise<JournalEvent[]> {
      const claimed = await store.claimRuns('writer', {
        limit: 10,
        leaseMs: 60_000,
        now: T0,
        workflows: [run.workflow],
      });
      expect(claimed.map((candidate) => candidate.runId)).toEqual([run.runId]);
      const events = sealDrafts(run, drafts);
      expect(
        await store.commit(
          [{ runId: run.runId, owner: 'writer', events, transition: { status: 'pending' } }],
          T0,
        ),
      ).toEqual([{ ok: true }]);
      return events;
    }

    function decision(
      op: number,
      tool: string,
      verdict: 'allow' | 'deny',
      actor: string,
      onBehalfOf: string[],
      at: number,
    ): EventDraft & { at: number } {
      return {
        type: 'tool.authorized',
        payload: {
          op,
          name: tool,
          action: 'InvokeTool',
          resource: `tool:${tool}`,
          decision: verdict,
          reason: verdict === 'allow' ? 'policy' : 'default deny',
          policies: verdict === 'allow' ? ['p1'] : [],
          errors: [],
          grantAction: `tool:${tool}`,
        },
        actor,
        onBehalfOf,
        at,
      };
    }

    describe('tenant scope on journals', () => {
      it('readEvents returns a run’s events in its tenant and none in another', async () => {
        const run = await create('acme');
        await append(run, [
          { type: 'step.completed', payload: { op: 1, name: 'a', attempt: 1, result: 1 }, at: T0 },
        ]);
        expect((await store.readEvents(run.runId, 1, { tenant: 'acme' })).map((event) => event.seq)).toEqual([
          1, 2,
        ]);
        expect((await store.readEvents(run.runId, 2, { tenant: 'acme' })).map((event) => event.seq)).toEqual([
          2,
        ]);
        expect(await store.readEvents(run.runId, 1, { tenant: 'globex' })).toEqual([]);
        expect((await store.readEvents(run.runId)).length).toBe(2);
      });

      it('requestCancel refuses a run of another tenant and leaves it alone', async () => {
        const run = await create('acme');
        await expect(
          store.requestCancel(run.runId, 'not yours', T0, { tenant: 'globex' }),
        ).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
        expect((await store.getRun(run.runId))?.cancelRequested).toBe(false);
      });
    });

    describe('checkpoints', () => {
      it('keeps checkpoints once each, by seq, scoped by tenant', async () => {
        const checkpoints = store.checkpoints!;
        expect(checkpoints, 'the store has the checkpoints capability').toBeDefined();
        const run = await create('acme');
        const second: CheckpointRecord = {
          runId: run.runId,
          seq: 2,
          headHash: 'b'.repeat(64),
          signedAt: new Date(T0 + 1).toISOString(),
          keyId: 'k1',
          signature: 'sig2',
        };
        const first: CheckpointRecord = {
          runId: run.runId,
          seq: 1,
          headHash: 'a'.repeat(64),
          signedAt: new Date(T0).toISOString(),
          keyId: 'k1',
          signature: 'sig1',
        };
        await checkpoints.putCheckpoint(second);
        await checkpoints.putCheckpoint(first);
        await checkpoints.putCheckpoint({ ...first, signature: 'another' });
        expect(await checkpoints.listCheckpoints(run.runId)).toEqual([first, second]);
        expect(await checkpoints.listCheckpoints(run.runId, { tenant: 'acme' })).toEqual([first, second]);
        expect(await checkpoints.listCheckpoints(run.runId, { tenant: 'globex' })).toEqual([]);
        expect(await checkpoints.listCheckpoints('run_unknown')).toEqual([]);
      });
    });

    describe('queryEvents', () => {
      it('filters events across runs by type, actor, identity, time, payload and tenant, oldest first', async () => {
        expect(typeof store.queryEvents, 'the store answers event queries').toBe('function');
        const acme = await create('acme', 'user:alice');
        const other = await create('acme', 'user:bob');
        const globex = await create('globex', 'user:alice');
        await append(acme, [
          decision(1, 'search.web', 'allow', 'agent:writer', ['agent:planner', 'user:alice'], T0 + 1000),
          decision(2, 'email.send', 'deny', 'agent:writer', ['agent:planner', 'user:alice'], T0 + 3000),
          { type: 'step.completed', payload: { op: 3, name: 'x', attempt: 1 }, at: T0 + 3500 },
        ]);
        await append(other, [
          decision(1, 'payments.refund', 'allow', 'agent:billing', ['user:bob'], T0 + 2000),
        ]);
        await append(globex, [decision(1, 'email.send', 'deny', 'agent:writer', ['user:alice'], T0 + 4000)]);
        const query = store.queryEvents!.bind(store);
        const keys = (events: JournalEvent[]): string[] =>
          events.map((event) => `${event.runId}#${event.seq}`);

        const decisions = await query({ types: ['tool.authorized'] });
        expect(keys(decisions)).toEqual([
          `${acme.runId}#2`,
          `${other.runId}#2`,
          `${acme.runId}#3`,
          `${globex.runId}#2`,
        ]);
        expect(keys(await query({ types: ['tool.authorized'], tenant: 'acme' }))).toEqual([
          `${acme.runId}#2`,
          `${other.runId}#2`,
          `${acme.runId}#3`,
        ]);
        expect(keys(await query({ actor: 'agent:writer', tenant: 'acme' }))).toEqual([
          `${acme.runId}#2`,
          `${acme.runId}#3`,
        ]);
        expect(keys(await query({ actor: 'agent:*', types: ['tool.authorized'], limit: 2 }))).toEqual([
          `${acme.runId}#2`,
          `${other.runId}#2`,
        ]);
        expect(keys(await query({ identity: 'user:bob' }))).toEqual([`${other.runId}#1`, `${other.runId}#2`]);
        expect(keys(await query({ identity: 'agent:planner' }))).toEqual([
          `${acme.runId}#2`,
          `${acme.runId}#3`,
        ]);
        expect(keys(await query({ types: ['tool.authorized'], since: T0 + 2000, until: T0 + 4000 }))).toEqual(
          [`${other.runId}#2`, `${acme.runId}#3`],
        );
        expect(keys(await query({ payload: { decision: 'deny' } }))).toEqual([
          `${acme.runId}#3`,
          `${globex.runId}#2`,
        ]);
        expect(
          keys(await query({ payload: { grantAction: 'tool:*.send', decision: 'deny' }, tenant: 'globex' })),
        ).toEqual([`${globex.runId}#2`]);
        expect(keys(await query({ payload: { op: 3 } }))).toEqual([`${acme.runId}#4`]);
        expect(await query({ actor: 'agent:[w]*' })).toEqual([]); // GLOB's own brackets are literal here
        const [event] = await query({ runId: acme.runId, payload: { decision: 'deny' } });
        expect(event).toMatchObject({
          actor: 'agent:writer',
          onBehalfOf: ['agent:planner', 'user:alice'],
          payload: { name: 'email.send' },
        });
      });
    });
  });
}
