import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunStreamStore } from '../../src/store/run-streams.ts';
import type { NewRun, Store } from '../../src/store/store.ts';
import { until } from '../support/harness.ts';
import { sealDrafts, startedEvent } from '../../src/testing/sealed-events.ts';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

export interface RunStreamBackend {
  store: Store;
  dispose: () => Promise<void>;
  /** Another connection to the same store, as a second process would open it (closed by the suite). */
  connectAgain: () => Promise<Store>;
}

/**
 * The conformance suite of the Store spec's `runStreams` capability (src/store/run-streams.ts):
 * runs' ephemeral live stream parts, numbered per run, tied to the journal head, closed when a
 * worker died mid-call, pruned without reusing numbers, visible to another connection.
 */
export function runStreamStoreConformance(name: string, open: () => Promise<RunStreamBackend>): void {
  describe(`Run stream store conformance: ${name}`, () => {
    let backend: RunStreamBackend;
    let streams: RunStreamStore;
    const others: Store[] = [];

    beforeEach(async () => {
      backend = await open();
      if (!backend.store.runStreams) throw new Error(`${name} has no runStreams capability`);
      streams = backend.store.runStreams;
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await backend.dispose();
    });

    async function createRun(runId: string): Promise<void> {
      const run: NewRun = {
        runId,
        workflow: 'chat',
        tenant: 'acme',
        principal: 'user:ada',
        input: {},
        createdAt: T0,
      };
      await backend.store.createRun(run, startedEvent(run));
    }
    const delta = (runId: string, text: string, op = 2, at = T0) => ({
      runId,
      type: 'text-delta',
      op,
      data: { agent: 'writer', delta: text },
      at,
    });

    it("numbers each run's parts from 1, in order, after the run's committed journal head", async () => {
      await createRun('run_a');
      await createRun('run_b');
      await streams.appendParts([delta('run_a', 'He'), delta('run_b', 'x'), delta('run_a', 'llo')]);
      await streams.appendParts([{ runId: 'run_a', type: 'progress', data: { done: 1 }, at: T0 + 5 }]);
      const parts = await streams.readParts('run_a', 0, 10);
      expect(parts.map((part) => [part.id, part.type, part.afterSeq])).toEqual([
        [1, 'text-delta', 1],
        [2, 'text-delta', 1],
        [3, 'progress', 1],
      ]);
      expect(parts[0]).toMatchObject({
        runId: 'run_a',
        op: 2,
        data: { agent: 'writer', delta: 'He' },
        at: T0,
      });
      expect(parts[2]!.op).toBeUndefined();
      expect(await streams.readParts('run_a', 1, 1)).toMatchObject([{ id: 2, data: { delta: 'llo' } }]);
      expect(await streams.readParts('run_b', 0, 10)).toMatchObject([{ id: 1, data: { delta: 'x' } }]);
      expect(await streams.partBounds('run_a')).toEqual({ first: 1, last: 3 });
      expect(await streams.partBounds('run_none')).toEqual({ first: 0, last: 0 });
    });

    it('keeps every part of a large batch, however a backend stores it: pages, bounds, pruning, open calls', async () => {
      await createRun('run_g');
      await createRun('run_h');
      const progress = (runId: string, index: number) => ({
        runId,
        type: 'progress',
        ...(index % 3 === 0 ? { op: index } : {}),
        data: { data: { index, text: `"t${index}"\n` } },
        at: T0 + index,
      });
      const batch = [
        ...Array.from({ length: 300 }, (_, index) => progress('run_g', index)),
        { runId: 'run_g', type: 'model-start', op: 7, data: { agent: 'w', attempt: 1 }, at: T0 + 300 },
        ...Array.from({ length: 5 }, (_, index) => delta('run_g', `d${index}`, 7, T0 + 301 + index)),
        progress('run_h', 0),
        progress('run_h', 1),
      ];
      await streams.appendParts(batch);
      await streams.appendParts([progress('run_g', 306), progress('run_g', 307)]);
      const expected = [
        ...batch.filter((part) => part.runId === 'run_g'),
        progress('run_g', 306),
        progress('run_g', 307),
      ];
      const all = await streams.readParts('run_g', 0, 1000);
      expect(all.map((part) => part.id)).toEqual(expected.map((_, index) => index + 1));
      expect(all.map(({ runId, type, op, data, at }) => ({ runId, type, op, data, at }))).toEqual(
        expected.map((part) => ({ op: undefined, ...part })),
      );
      expect(all.every((part) => part.afterSeq === 1)).toBe(true);
      // Pages from any part on give the same parts.
      for (const after of [0, 1, 99, 255, 256, 257, 300, 301, 305]) {
        const page = await streams.readParts('run_g', after, 10);
        expect(page.map((part) => part.id)).toEqual(
          Array.from({ length: Math.min(10, expected.length - after) }, (_, index) => after + index + 1),
        );
        expect(page.map((part) => part.data)).toEqual(
          expected.slice(after, after + 10).map((part) => part.data),
        );
      }
      expect((await streams.readParts('run_h', 0, 10)).map((part) => part.data)).toEqual([
        { data: { index: 0, text: '"t0"\n' } },
        { data: { index: 1, text: '"t1"\n' } },
      ]);
      expect(await streams.partBounds('run_g')).toEqual({ first: 1, last: 308 });
      expect(await streams.interruptOpenCalls('run_g', T0 + 400, 'stopped')).toMatchObject({
        id: 309,
        data: { ops: [7] },
      });
      // Pruning counts parts, not rows, and the first part kept is the first not due (run_h's first
      // part is due too; its last is kept).
      expect(await streams.pruneParts({ olderThan: T0 + 100, maxPartsPerRun: 1000 })).toBe(101);
      expect(await streams.partBounds('run_g')).toEqual({ first: 101, last: 309 });
      expect((await streams.readParts('run_g', 0, 2)).map((part) => part.id)).toEqual([101, 102]);
      expect(await streams.pruneParts({ olderThan: 0, maxPartsPerRun: 4 })).toBe(205);
      expect(await streams.partBounds('run_g')).toEqual({ first: 306, last: 309 });
      expect((await streams.readParts('run_g', 0, 10)).map((part) => part.id)).toEqual([306, 307, 308, 309]);
      expect(await streams.partBounds('run_h')).toEqual({ first: 2, last: 2 });
    });

    it('closes the model calls left open with one interrupted part, and only those', async () => {
      await createRun('run_c');
      const start = (op: number) => ({
        runId: 'run_c',
        type: 'model-start',
        op,
        data: { agent: 'w', attempt: 1 },
        at: T0,
      });
      await streams.appendParts([start(2), delta('run_c', 'a', 2), start(3), delta('run_c', 'b', 3)]);
      await streams.appendParts([
        { runId: 'run_c', type: 'model-finish', op: 3, data: { agent: 'w', finishReason: 'stop' }, at: T0 },
      ]);
      const interrupted = await streams.interruptOpenCalls('run_c', T0 + 9, 'the worker stopped');
      expect(interrupted).toMatchObject({
        id: 6,
        type: 'interrupted',
        data: { ops: [2], reason: 'the worker stopped' },
        at: T0 + 9,
      });
      expect(await streams.interruptOpenCalls('run_c', T0 + 10, 'again')).toBeUndefined();
      // A call sent again after the interruption is open again until it finishes.
      await streams.appendParts([start(2)]);
      expect(await streams.interruptOpenCalls('run_c', T0 + 11, 'once more')).toMatchObject({
        id: 8,
        data: { ops: [2] },
      });
      await createRun('run_d');
      expect(await streams.interruptOpenCalls('run_d', T0, 'nothing open')).toBeUndefined();
    });

    it("prunes old parts and parts beyond the per-run bound, never a run's last, so numbers are never reused", async () => {
      await createRun('run_e');
      await streams.appendParts(
        Array.from({ length: 6 }, (_, index) => delta('run_e', String(index), 2, T0 + index)),
      );
      expect(await streams.pruneParts({ olderThan: T0 + 2, maxPartsPerRun: 100 })).toBe(2);
      expect(await streams.partBounds('run_e')).toEqual({ first: 3, last: 6 });
      expect(await streams.pruneParts({ olderThan: 0, maxPartsPerRun: 2 })).toBe(2);
      expect(await streams.partBounds('run_e')).toEqual({ first: 5, last: 6 });
      expect(await streams.pruneParts({ olderThan: T0 + 100, maxPartsPerRun: 100 })).toBe(1);
      expect(await streams.partBounds('run_e')).toEqual({ first: 6, last: 6 });
      await streams.appendParts([delta('run_e', 'next')]);
      expect((await streams.readParts('run_e', 0, 10)).map((part) => part.id)).toEqual([6, 7]);
    });

    it("numbers a run's parts once each when two connections append to it at once, in batches of one run or several", async () => {
      await createRun('run_g');
      await createRun('run_h');
      const other = await backend.connectAgain();
      others.push(other);
      const batch = (writer: string, round: number, withOther: boolean) => [
        delta('run_g', `${writer}${round}a`),
        ...(withOther ? [delta('run_h', `${writer}${round}`)] : []),
        delta('run_g', `${writer}${round}b`),
      ];
      const write = async (target: RunStreamStore, writer: string): Promise<void> => {
        for (let round = 0; round < 10; round++)
          await target.appendParts(batch(writer, round, round % 2 === 1));
      };
      await Promise.all([write(streams, 'x'), write(other.runStreams!, 'y')]);
      const parts = await streams.readParts('run_g', 0, 100);
      expect(parts.map((part) => part.id)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
      // Each batch's two parts of the run are consecutive, in the batch's order.
      const deltas = parts.map((part) => part.data.delta as string);
      for (let index = 0; index < deltas.length; index += 2) {
        expect(deltas[index]!.endsWith('a')).toBe(true);
        expect(deltas[index + 1]).toBe(`${deltas[index]!.slice(0, -1)}b`);
      }
      expect((await streams.readParts('run_h', 0, 100)).map((part) => part.id)).toEqual(
        Array.from({ length: 10 }, (_, index) => index + 1),
      );
    });

    it("follows the run's journal head as it commits, through this connection and through another", async () => {
      await createRun('run_j');
      const claimed = await backend.store.claimRuns('worker-j', { limit: 1, leaseMs: 60_000, now: T0 });
      expect(claimed.map((run) => run.runId)).toEqual(['run_j']);
      /** Commits one step event through `store` and returns the run's new last seq. */
      const step = async (store: Store): Promise<number> => {
        const run = (await store.getRun('run_j'))!;
        const events = sealDrafts(run, [
          {
            type: 'step.completed',
            payload: { op: run.lastSeq, name: 's', attempt: 1, result: null },
            at: T0,
          },
        ]);
        expect(await store.commit([{ runId: 'run_j', owner: 'worker-j', events }], T0)).toEqual([
          { ok: true },
        ]);
        return events.at(-1)!.seq;
      };
      const other = await backend.connectAgain();
      others.push(other);
      const seen: [number, number][] = [];
      const expected: [number, number][] = [];
      const write = async (target: RunStreamStore, text: string, head: number): Promise<void> => {
        await target.appendParts([delta('run_j', text)]);
        expected.push([expected.length + 1, head]);
      };
      await write(streams, 'a', 1);
      await write(streams, 'b', await step(backend.store));
      await write(streams, 'c', await step(backend.store));
      // Another connection (another process) commits the journal, and writes parts of its own.
      await write(streams, 'd', await step(other));
      await write(other.runStreams!, 'e', await step(other));
      await write(streams, 'f', await step(backend.store));
      for (const part of await streams.readParts('run_j', 0, 100)) seen.push([part.id, part.afterSeq]);
      expect(seen).toEqual(expected);
    });

    it('shows parts written through one connection to another, and wakes its subscribers when it can', async () => {
      await createRun('run_f');
      const other = await backend.connectAgain();
      others.push(other);
      const heard: string[] = [];
      const unsubscribe = await other.runStreams!.subscribeParts?.((runId) => heard.push(runId));
      await streams.appendParts([delta('run_f', 'seen elsewhere')]);
      expect(await other.runStreams!.readParts('run_f', 0, 10)).toMatchObject([
        { data: { delta: 'seen elsewhere' } },
      ]);
      if (unsubscribe) {
        await until(async () => (heard.includes('run_f') ? true : undefined), 'the notification');
        await unsubscribe();
      }
    });
  });
}
