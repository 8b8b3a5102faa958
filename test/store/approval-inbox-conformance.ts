import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventDraft, JournalEvent, JournalEventPayloads } from '../../src/journal/events.ts';
import { verifyChain } from '../../src/journal/hash-chain.ts';
import type { NewRun, RunRecord, RunTransition, Store } from '../../src/store/store.ts';
import { sealDrafts, startedEvent } from '../../src/testing/sealed-events.ts';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

/**
 * The conformance suite of the Store spec's optional `pendingApprovals` (the approval inbox, see
 * src/store/approval-query.ts): the `approval.requested` events of unfinished runs that have no
 * `approval.decided` for the same approval, oldest first, in a tenant. Every backend that has it
 * runs it; `makeStore` returns an empty store, closed after each test, then `cleanup` is called.
 */
export function approvalInboxConformance(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: (store: Store) => Promise<void>,
): void {
  describe(`Approval inbox conformance: ${name}`, () => {
    let store: Store;
    let counter = 0;

    beforeEach(async () => {
      store = await makeStore();
      if (!store.pendingApprovals) throw new Error(`${name} has no pendingApprovals`);
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.(store);
    });

    const inbox = (query: Parameters<NonNullable<Store['pendingApprovals']>>[0]) =>
      store.pendingApprovals!(query);

    async function create(
      tenant: string,
      runId = `run_inbox_${String(++counter).padStart(3, '0')}`,
    ): Promise<RunRecord> {
      const run: NewRun = {
        runId,
        // A workflow of its own, so that claiming it leases this run only.
        workflow: `refund-${runId}`,
        tenant,
        principal: 'user:alice',
        input: null,
        createdAt: T0,
      };
      return (await store.createRun(run, startedEvent(run))).run;
    }

    /** Leases the run, appends events written at the given times, and moves it on. */
    async function append(
      runId: string,
      drafts: readonly (EventDraft & { at: number })[],
      transition: RunTransition = { status: 'waiting', seenWakeGen: 0 },
    ): Promise<JournalEvent[]> {
      const run = (await store.getRun(runId))!;
      const claimed = await store.claimRuns('writer', {
        limit: 1,
        leaseMs: 60_000,
        now: T0,
        workflows: [run.workflow],
      });
      expect(claimed.map((candidate) => candidate.runId)).toEqual([runId]);
      const events = sealDrafts(run, drafts);
      const transitionNow =
        transition.status === 'waiting' ? { ...transition, seenWakeGen: claimed[0]!.wakeGen } : transition;
      expect(await store.commit([{ runId, owner: 'writer', events, transition: transitionNow }], T0)).toEqual(
        [{ ok: true }],
      );
      return events;
    }

    function requested(
      op: number,
      approvalId: string,
      at: number,
      data?: unknown,
    ): EventDraft & { at: number } {
      const payload: JournalEventPayloads['approval.requested'] = {
        op,
        name: 'refund.large',
        approvalId,
        kind: 'approval',
        summary: `Refund for ${approvalId}`,
        requestedBy: 'user:alice',
        stages: [
          {
            approvers: ['group:finance'],
            members: ['user:bob'],
            until: new Date(at + 3_600_000).toISOString(),
          },
        ],
        onTimeout: 'deny',
        signal: `baton.approval:${approvalId}`,
        ...(data === undefined ? {} : { data }),
      };
      return { type: 'approval.requested', payload, at };
    }

    function decided(op: number, approvalId: string, at: number): EventDraft & { at: number } {
      return {
        type: 'approval.decided',
        payload: { op, name: 'refund.large', approvalId, decision: 'approved', by: 'user:bob' },
        at,
      };
    }

    it('lists requests without a decision, oldest first, as they were journaled', async () => {
      const later = await create('acme');
      const earlier = await create('acme');
      const [laterRequest] = await append(later.runId, [
        requested(1, 'appr_later', T0 + 2000, { cents: 90_000, note: 'naïve — 🚀' }),
      ]);
      const [earlierRequest, earlierSecond] = await append(earlier.runId, [
        requested(1, 'appr_early', T0 + 1000),
        requested(2, 'appr_early_2', T0 + 3000),
      ]);
      const pending = await inbox({});
      expect(pending).toEqual([earlierRequest, laterRequest, earlierSecond]);
      expect(verifyChain([...(await store.readEvents(earlier.runId))]).ok).toBe(true);
    });

    it('orders requests written at the same time by run, then seq, and stops at the limit', async () => {
      const runB = await create('acme', 'run_same_b');
      const runA = await create('acme', 'run_same_a');
      await append(runB.runId, [requested(1, 'b1', T0), requested(2, 'b2', T0)]);
      await append(runA.runId, [requested(1, 'a1', T0), requested(2, 'a2', T0)]);
      const ids = (events: JournalEvent<'approval.requested'>[]) =>
        events.map((event) => event.payload.approvalId);
      expect(ids(await inbox({}))).toEqual(['a1', 'a2', 'b1', 'b2']);
      expect(ids(await inbox({ limit: 3 }))).toEqual(['a1', 'a2', 'b1']);
    });

    it('leaves out a request decided in its run, and only that one', async () => {
      const run = await create('acme');
      const other = await create('acme');
      await append(run.runId, [
        requested(1, 'appr_decided', T0 + 1000),
        requested(2, 'appr_open', T0 + 2000),
        decided(1, 'appr_decided', T0 + 3000),
      ]);
      // A decision with the same approval id in another run decides nothing here.
      await append(other.runId, [requested(1, 'appr_other', T0 + 1500), decided(2, 'appr_open', T0 + 4000)]);
      const pending = await inbox({});
      expect(pending.map((event) => [event.runId, event.payload.approvalId])).toEqual([
        [other.runId, 'appr_other'],
        [run.runId, 'appr_open'],
      ]);
    });

    it('leaves out requests of finished runs', async () => {
      const done = await create('acme');
      const cancelled = await create('acme');
      const open = await create('acme');
      await append(done.runId, [requested(1, 'appr_done', T0)], { status: 'completed', result: 'ok' });
      await append(cancelled.runId, [requested(1, 'appr_cancelled', T0)], { status: 'cancelled' });
      await append(open.runId, [requested(1, 'appr_open', T0)], { status: 'pending' });
      expect((await inbox({})).map((event) => event.payload.approvalId)).toEqual(['appr_open']);
    });

    it('shows a tenant its own requests only, and a run’s only in its tenant', async () => {
      const ours = await create('acme');
      const theirs = await create('globex');
      await append(ours.runId, [requested(1, 'appr_acme', T0)]);
      await append(theirs.runId, [requested(1, 'appr_globex', T0)]);
      const ids = async (query: Parameters<typeof inbox>[0]) =>
        (await inbox(query)).map((event) => event.payload.approvalId);
      expect(await ids({ tenant: 'acme' })).toEqual(['appr_acme']);
      expect(await ids({ tenant: 'globex' })).toEqual(['appr_globex']);
      expect(await ids({ tenant: 'initech' })).toEqual([]);
      expect(await ids({ runId: theirs.runId })).toEqual(['appr_globex']);
      expect(await ids({ runId: theirs.runId, tenant: 'acme' })).toEqual([]);
      expect(await ids({ runId: ours.runId, tenant: 'acme' })).toEqual(['appr_acme']);
      // Without a tenant (an operator's view), every tenant's; same time, so by run id.
      expect(await ids({})).toEqual(['appr_acme', 'appr_globex']);
    });

    it('is empty when nothing was asked', async () => {
      const run = await create('acme');
      await append(run.runId, [
        { type: 'step.completed', payload: { op: 1, name: 'a', attempt: 1, result: 1 }, at: T0 },
      ]);
      expect(await inbox({})).toEqual([]);
      expect(await inbox({ runId: 'run_missing' })).toEqual([]);
    });
  });
}
