import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { GENESIS_HASH, hashEvent, sealEvent, verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { harness, tempStore } from './support/harness.ts';

/** A real journal, written by the engine: a few steps, a sleep, a signal, a result. */
let events: JournalEvent[];
let dispose: () => Promise<void>;
let path: string;
let runId: string;

beforeAll(async () => {
  const temp = await tempStore();
  dispose = temp.dispose;
  path = temp.path;
  const flow = defineWorkflow('audited', async (ctx, input: { amount: number }) => {
    const quote = await ctx.step('quote', () => ({ amount: input.amount, currency: 'EUR' }));
    await ctx.sleep('1m');
    const approval = await ctx.waitFor<{ by: string }>('approve');
    const charge = await ctx.step('charge', () => ({ id: 'ch_1', amount: quote.amount }));
    return { charge, approvedBy: approval.by };
  });
  const h = await harness({ store: temp.store, workflows: [flow] });
  const run = await h.baton.start(flow, { amount: 1250 }, { as: 'user:alice' });
  runId = run.runId;
  await h.settle(runId, 'waiting');
  await h.advanceUntil(runId, 60_000, 'waiting');
  await h.baton.signal(runId, 'approve', { by: 'bob' }, { as: 'user:bob' });
  await run.result();
  await h.close();
  events = await temp.store.readEvents(runId);
});
afterAll(async () => {
  await dispose();
});

function clone(list: readonly JournalEvent[]): JournalEvent[] {
  return structuredClone(list) as JournalEvent[];
}

describe('the hash chain', () => {
  it('verifies a journal written by the engine', () => {
    expect(events.length).toBeGreaterThanOrEqual(8);
    const verification = verifyChain(events);
    expect(verification).toEqual({ ok: true, events: events.length, head: events.at(-1)!.hash });
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
  });

  it('detects an edited payload', () => {
    const tampered = clone(events);
    const charge = tampered.findIndex(
      (event) => event.type === 'step.completed' && (event.payload as { name: string }).name === 'charge',
    );
    (tampered[charge]!.payload as { result: { amount: number } }).result.amount = 1;
    const verification = verifyChain(tampered);
    expect(verification.ok).toBe(false);
    expect(verification.broken).toMatchObject({ kind: 'hash', seq: charge + 1, found: events[charge]!.hash });
    expect(verification.events).toBe(charge);
  });

  it.each(['at', 'actor', 'type'] as const)('detects an edited %s', (field) => {
    const tampered = clone(events);
    const target = tampered[2]!;
    (target as unknown as Record<string, string>)[field] =
      field === 'at' ? '2030-01-01T00:00:00.000Z' : `${target[field]}x`;
    expect(verifyChain(tampered).broken).toMatchObject({ kind: 'hash', seq: 3 });
  });

  it('detects an edited principal chain', () => {
    const tampered = clone(events);
    tampered[1]!.onBehalfOf = ['user:mallory'];
    expect(verifyChain(tampered).broken).toMatchObject({ kind: 'hash', seq: 2 });
  });

  it('detects an edit whose hash was recomputed, at the next link', () => {
    const tampered = clone(events);
    const edited = tampered[3]!;
    (edited.payload as Record<string, unknown>).extra = 'forged';
    edited.hash = hashEvent(edited);
    expect(verifyChain(tampered).broken).toMatchObject({
      kind: 'prevHash',
      seq: 5,
      expected: edited.hash,
      found: events[3]!.hash,
    });
  });

  it('detects a deleted event', () => {
    const tampered = clone(events);
    tampered.splice(4, 1);
    expect(verifyChain(tampered).broken).toMatchObject({ kind: 'seq', expected: 5, found: 6 });
  });

  it('detects a deleted last event only against the head the run row keeps', async () => {
    const truncated = clone(events).slice(0, -1);
    // The chain itself is intact…
    expect(verifyChain(truncated).ok).toBe(true);
    // …but its head no longer matches the run's recorded head hash.
    const store = SqliteStore.open({ path });
    try {
      const run = await store.getRun(runId);
      expect(run?.headHash).toBe(events.at(-1)!.hash);
      expect(verifyChain(truncated).head).not.toBe(run?.headHash);
    } finally {
      await store.close();
    }
  });

  it('detects reordered events', () => {
    const tampered = clone(events);
    [tampered[2], tampered[3]] = [tampered[3]!, tampered[2]!];
    expect(verifyChain(tampered).broken).toMatchObject({ kind: 'seq', expected: 3, found: 4 });
  });

  it('detects reordered events renumbered to hide the swap', () => {
    const tampered = clone(events);
    const [third, fourth] = [tampered[2]!, tampered[3]!];
    tampered[2] = { ...fourth, seq: 3 };
    tampered[3] = { ...third, seq: 4 };
    expect(verifyChain(tampered).broken).toMatchObject({ kind: 'prevHash', seq: 3 });
  });

  it('detects an inserted event, even one sealed to look right', () => {
    const tampered = clone(events);
    const forged = sealEvent({
      ...tampered[2]!,
      payload: { op: 99, value: '2020-01-01T00:00:00.000Z' },
      type: 'clock.read',
    });
    tampered.splice(3, 0, forged);
    expect(verifyChain(tampered).ok).toBe(false);
  });

  it('detects an event of another run spliced in', () => {
    const tampered = clone(events);
    tampered[2] = { ...tampered[2]!, runId: 'run_other' };
    expect(verifyChain(tampered).broken).toMatchObject({
      kind: 'runId',
      seq: 3,
      expected: runId,
      found: 'run_other',
    });
    expect(verifyChain(clone(events), 'run_other').broken).toMatchObject({ kind: 'runId', seq: 1 });
  });

  it('detects one byte edited in the database file', async () => {
    const db = new DatabaseSync(path);
    const row = db
      .prepare(`SELECT seq, payload FROM events WHERE run_id = ? AND type = 'signal.received'`)
      .get(runId) as {
      seq: number;
      payload: string;
    };
    // 'bob' becomes 'rob': one byte.
    const edited = row.payload.replace('"bob"', '"rob"');
    expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(row.payload));
    db.prepare('UPDATE events SET payload = ? WHERE run_id = ? AND seq = ?').run(edited, runId, row.seq);
    db.close();

    const store = SqliteStore.open({ path });
    try {
      const verification = verifyChain(await store.readEvents(runId));
      expect(verification.ok).toBe(false);
      expect(verification.broken).toMatchObject({ kind: 'hash', seq: row.seq });
    } finally {
      await store.close();
    }
  });
});
