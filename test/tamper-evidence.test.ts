import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authorizeDurably } from '../src/access/authorize-durably.ts';
import { createGrant } from '../src/access/grant.ts';
import { actingFor, chainOf } from '../src/access/identity-chain.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { SigningKey } from '../src/access/signing-key.ts';
import { describeProblem, verifyAll, verifyRun, type RunVerification } from '../src/access/verify-run.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { hashEvent } from '../src/journal/hash-chain.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harness, tempStore, until, type Harness } from './support/harness.ts';

const policies = PolicyEngine.fromSources([
  {
    name: 'refunds.cedar',
    text: '@id("billing-refunds") permit (principal == Agent::"billing", action == Action::"InvokeTool", resource == Tool::"payments.refund");',
  },
]);
const grant = createGrant({ tenant: 'acme', holder: 'user:alice', actions: ['tool:payments.*'] });

const refund = defineWorkflow('refund', async (ctx, input: { ticket: string }) => {
  const account = await ctx.step('load-account', () => ({
    id: 'acct_1',
    owner: 'alice',
    ticket: input.ticket,
  }));
  const decision = await authorizeDurably(ctx, policies, {
    chain: actingFor(chainOf(ctx), 'agent:billing'),
    action: 'InvokeTool',
    resource: { kind: 'tool', name: 'payments.refund', effect: 'irreversible', args: { cents: 1200 } },
    grant,
  });
  const done = await ctx.step('refund', () => ({ refunded: 1200, currency: 'EUR' }));
  const at = ctx.now().toISOString();
  return { account: account.id, decision: decision.decision, done, at };
});

const twoWaits = defineWorkflow('two-waits', async (ctx) => {
  const first = await ctx.waitFor<string>('first');
  const second = await ctx.waitFor<string>('second');
  return `${first} ${second}`;
});

const key = SigningKey.generate();
let h: Harness;
let path: string;
let dispose: () => Promise<void>;
let db: DatabaseSync;

beforeEach(async () => {
  const temp = await tempStore();
  path = temp.path;
  dispose = temp.dispose;
  h = await harness({ workflows: [refund, twoWaits], store: temp.store, signing: { key } });
  db = new DatabaseSync(path);
  db.exec('PRAGMA busy_timeout = 10000');
});
afterEach(async () => {
  db.close();
  await h.close();
  await dispose();
});

/** Runs the workflow to completion and waits for its final checkpoint. */
async function signedRun(ticket = 'T-1'): Promise<{ runId: string; events: JournalEvent[] }> {
  const run = await h.baton.start(refund, { ticket }, { as: 'user:alice', tenant: 'acme' });
  await run.result();
  const last = (await h.store.getRun(run.runId))!.lastSeq;
  await until(
    async () => (await h.store.checkpoints!.listCheckpoints(run.runId)).some((c) => c.seq === last),
    'the final checkpoint',
  );
  return { runId: run.runId, events: await h.store.readEvents(run.runId) };
}

function verify(runId: string, publicKey = key.publicKey): Promise<RunVerification> {
  return verifyRun(h.store, runId, publicKey);
}

/** One character changed: letters and digits to the next one, anything else to 'x'. */
function changeAt(text: string, index: number): string {
  const c = text[index]!;
  let next = 'x';
  if (/[a-y]/.test(c) || /[A-Y]/.test(c) || /[0-8]/.test(c)) next = String.fromCharCode(c.charCodeAt(0) + 1);
  else if (c === 'z') next = 'a';
  else if (c === 'Z') next = 'A';
  else if (c === '9') next = '0';
  else if (c === 'x') next = 'y';
  return text.slice(0, index) + next + text.slice(index + 1);
}

describe('tamper evidence', () => {
  it('a completed run is signed when it finishes and verifies', async () => {
    const { runId, events } = await signedRun();
    const report = await verify(runId);
    expect(report).toMatchObject({ ok: true, events: events.length, signedSeq: events.length, problems: [] });
    expect(events.some((event) => event.type === 'tool.authorized' && event.actor === 'agent:billing')).toBe(
      true,
    );
  });

  it('detects one changed character anywhere in any event’s payload, actor, chain, time or type', async () => {
    const { runId, events } = await signedRun();
    const read = db.prepare(
      'SELECT payload, actor, on_behalf_of, at, type FROM events WHERE run_id = ? AND seq = ?',
    );
    let edits = 0;
    for (const event of events) {
      const row = read.get(runId, event.seq) as Record<string, string>;
      for (const column of ['payload', 'actor', 'on_behalf_of', 'at', 'type']) {
        const original = row[column]!;
        const update = db.prepare(`UPDATE events SET ${column} = ? WHERE run_id = ? AND seq = ?`);
        for (let index = 0; index < original.length; index++) {
          update.run(changeAt(original, index), runId, event.seq);
          const report = await verify(runId);
          const where = `${column}[${index}] of seq ${event.seq}`;
          expect(report.ok, where).toBe(false);
          expect(report.problem?.seq, where).toBe(event.seq);
          expect(['hash', 'unreadable'], where).toContain(report.problem?.kind);
          edits++;
        }
        update.run(original, runId, event.seq);
      }
    }
    expect(edits).toBeGreaterThan(500);
    expect((await verify(runId)).ok).toBe(true);
  });

  it('detects a deleted event, in the middle and at the end', async () => {
    const { runId, events } = await signedRun();
    db.prepare('DELETE FROM events WHERE run_id = ? AND seq = ?').run(runId, 3);
    const middle = await verify(runId);
    expect(middle.problem).toMatchObject({ kind: 'seq', expected: 3, found: 4 });
    expect(describeProblem(middle.problem!)).toContain('deleted, inserted or moved');

    const { runId: other, events: otherEvents } = await signedRun('T-2');
    const last = otherEvents.length;
    db.prepare('DELETE FROM events WHERE run_id = ? AND seq = ?').run(other, last);
    expect((await verify(other)).problem).toMatchObject({ kind: 'head', seq: last, found: 'no event' });
    // Covering the tracks in the run record too: the signed checkpoint still tells.
    const before = otherEvents[last - 2]!;
    db.prepare('UPDATE runs SET last_seq = ?, head_hash = ? WHERE run_id = ?').run(
      before.seq,
      before.hash,
      other,
    );
    expect((await verify(other)).problem).toMatchObject({
      kind: 'checkpoint',
      seq: last,
      expected: otherEvents[last - 1]!.hash,
      found: 'no event',
    });
    expect(events.length).toBeGreaterThan(4);
  });

  it('detects two events swapped', async () => {
    const { runId } = await signedRun();
    const move = db.prepare('UPDATE events SET seq = ? WHERE run_id = ? AND seq = ?');
    move.run(-1, runId, 3);
    move.run(3, runId, 4);
    move.run(4, runId, -1);
    const report = await verify(runId);
    expect(report.ok).toBe(false);
    expect(report.problem?.seq).toBe(3);
    expect(['prevHash', 'hash']).toContain(report.problem?.kind);
  });

  it('detects a history rewritten with fresh hashes, by the signature', async () => {
    const { runId, events } = await signedRun();
    // Rewrite event 2's result and re-chain everything after it, as someone with database access could.
    let prevHash = events[0]!.hash;
    const rewrite = db.prepare(
      'UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE run_id = ? AND seq = ?',
    );
    for (const original of events.slice(1)) {
      const event = { ...original, prevHash };
      if (event.seq === 2) event.payload = { ...event.payload, result: { id: 'acct_666' } };
      const hash = hashEvent(event);
      rewrite.run(JSON.stringify(event.payload), prevHash, hash, runId, event.seq);
      prevHash = hash;
    }
    db.prepare('UPDATE runs SET head_hash = ? WHERE run_id = ? ').run(prevHash, runId);
    const report = await verify(runId);
    expect(report.problems).toEqual([
      { kind: 'checkpoint', seq: events.length, expected: events[events.length - 1]!.hash, found: prevHash },
    ]);
  });

  it('reports a bad signature, and checkpoints signed with another key', async () => {
    const { runId } = await signedRun();
    const other = SigningKey.generate();
    expect((await verify(runId, other.publicKey)).problem).toMatchObject({
      kind: 'key',
      found: key.keyId,
      expected: other.keyId,
    });
    db.prepare(`UPDATE checkpoints SET signature = ? WHERE run_id = ?`).run(
      Buffer.alloc(64, 7).toString('base64url'),
      runId,
    );
    expect((await verify(runId)).problem).toMatchObject({
      kind: 'signature',
      keyId: key.keyId,
      reason: 'the signature does not verify',
    });
  });

  it('a long run is signed when it first parks and again when it finishes', async () => {
    const run = await h.baton.start(twoWaits, null, { as: 'user:alice', tenant: 'acme' });
    const parked = await h.settle(run.runId, 'waiting');
    await until(
      async () => (await h.store.checkpoints!.listCheckpoints(run.runId)).length === 1,
      'a checkpoint of the parked run',
    );
    expect((await h.store.checkpoints!.listCheckpoints(run.runId))[0]).toMatchObject({
      seq: parked.lastSeq,
      headHash: parked.headHash,
    });
    await h.baton.signal(run.runId, 'first', 'hello');
    await h.settle(run.runId, 'waiting', parked.lastSeq);
    await h.baton.signal(run.runId, 'second', 'world');
    await run.result();
    const done = (await h.store.getRun(run.runId))!;
    await until(
      async () => (await h.store.checkpoints!.listCheckpoints(run.runId)).some((c) => c.seq === done.lastSeq),
      'the final checkpoint',
    );
    expect((await verify(run.runId)).signedSeq).toBe(done.lastSeq);
  });

  it('the signer refuses to vouch for events altered since its last checkpoint', async () => {
    const run = await h.baton.start(twoWaits, null, { as: 'user:alice', tenant: 'acme' });
    const parked = await h.settle(run.runId, 'waiting');
    await until(
      async () => (await h.store.checkpoints!.listCheckpoints(run.runId)).length === 1,
      'the first checkpoint',
    );
    await h.baton.signal(run.runId, 'first', 'hello');
    await h.settle(run.runId, 'waiting', parked.lastSeq);
    // Edited while parked, after the last checkpoint and before the next.
    db.prepare(
      `UPDATE events SET payload = json_set(payload, '$.payload', 'HELLO') WHERE run_id = ? AND seq = ?`,
    ).run(run.runId, parked.lastSeq + 1);
    await h.baton.signal(run.runId, 'second', 'world');
    await run.result();
    await h.baton.signer!.flush();
    await until(
      () =>
        h.logs.find((line) => line.includes(`run ${run.runId}: event ${parked.lastSeq + 1} does not chain`)),
      'the refusal in the log',
    );
    expect((await h.store.checkpoints!.listCheckpoints(run.runId)).map((c) => c.seq)).toEqual([
      parked.lastSeq,
    ]);
    expect((await verify(run.runId)).problem).toMatchObject({ kind: 'hash', seq: parked.lastSeq + 1 });
  });

  it('verifyAll reports the tampered run among intact ones', async () => {
    const one = await signedRun('T-1');
    const two = await signedRun('T-2');
    const three = await signedRun('T-3');
    db.prepare(`UPDATE events SET actor = 'agent:someone-else' WHERE run_id = ? AND seq = 3`).run(two.runId);
    const seen: string[] = [];
    const report = await verifyAll(h.store, key, { onRun: (run) => seen.push(run.runId), pageSize: 2 });
    expect(report.runs).toBe(3);
    expect(report.ok).toBe(2);
    expect(report.failed.map((run) => [run.runId, run.problem?.kind, run.problem?.seq])).toEqual([
      [two.runId, 'hash', 3],
    ]);
    expect(report.unsigned).toEqual([]);
    expect(seen.sort()).toEqual([one.runId, two.runId, three.runId].sort());
  });
});
