import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalKeyConflictError } from '../src/engine/signal-delivery.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { waiter } from './support/sample-workflows.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const { start } = harnessesClosedAfterEach();

/** Adds up deposits until `close`; each deposit is one signal. */
const account = defineWorkflow('account', async (ctx) => {
  let balance = 0;
  for (;;) {
    const deposit = await ctx.waitFor<{ cents: number } | 'close'>('deposit');
    if (deposit === 'close') return balance;
    balance += deposit.cents;
  }
});

function received(events: readonly JournalEvent[]): unknown[] {
  return events.filter((event) => event.type === 'signal.received').map((event) => event.payload);
}

describe('exactly-once signals', () => {
  it('a signal sent many times with one idempotency key is delivered once', async () => {
    const h = await start({ workflows: [account] });
    const run = await h.baton.start(account, null);
    await h.settle(run.runId, 'waiting');
    const receipts = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      receipts.push(await h.baton.signal(run.runId, 'deposit', { cents: 500 }, { idempotencyKey: 'dep-1' }));
    }
    expect(receipts.map((receipt) => receipt.duplicate)).toEqual([false, true, true]);
    expect(new Set(receipts.map((receipt) => receipt.signalId)).size).toBe(1);
    // After the run consumed it, the key still stands.
    await h.settle(run.runId, 'waiting', 3);
    expect(
      (await h.baton.signal(run.runId, 'deposit', { cents: 500 }, { idempotencyKey: 'dep-1' })).duplicate,
    ).toBe(true);
    await h.baton.signal(run.runId, 'deposit', { cents: 250 }, { idempotencyKey: 'dep-2' });
    // Without a key, each send is a signal of its own.
    await h.baton.signal(run.runId, 'deposit', { cents: 1 });
    await h.baton.signal(run.runId, 'deposit', { cents: 1 });
    await h.baton.signal(run.runId, 'deposit', 'close', { idempotencyKey: 'close' });
    expect(await run.result()).toBe(752);
    expect(received(await run.history())).toHaveLength(5);
    // A resend after the run finished is a duplicate, not an error: the sender can retry blindly.
    const late = await h.baton.signal(run.runId, 'deposit', 'close', { idempotencyKey: 'close' });
    expect(late.duplicate).toBe(true);
  });

  it('the same key with another payload or name is refused and sends nothing', async () => {
    // No worker: the signals stay pending, for the test to count.
    const h = await start({ workflows: [account], worker: false });
    const run = await h.baton.start(account, null);
    await h.baton.signal(run.runId, 'deposit', { cents: 500 }, { idempotencyKey: 'dep-1' });
    const other = h.baton.signal(run.runId, 'deposit', { cents: 900 }, { idempotencyKey: 'dep-1' });
    await expect(other).rejects.toBeInstanceOf(SignalKeyConflictError);
    await expect(other).rejects.toMatchObject({
      code: 'SIGNAL_KEY_CONFLICT',
      message: expect.stringContaining("idempotency key 'dep-1'"),
    });
    await expect(
      h.baton.signal(run.runId, 'withdraw', { cents: 500 }, { idempotencyKey: 'dep-1' }),
    ).rejects.toMatchObject({
      code: 'SIGNAL_KEY_CONFLICT',
      message: expect.stringContaining("name ('deposit')"),
    });
    // Key order does not make a payload different.
    await h.baton.signal(run.runId, 'deposit', { a: 1, b: 2 }, { idempotencyKey: 'obj' });
    expect(
      (await h.baton.signal(run.runId, 'deposit', { b: 2, a: 1 }, { idempotencyKey: 'obj' })).duplicate,
    ).toBe(true);
    expect(await h.store.pendingSignals(run.runId)).toHaveLength(2);
  });

  it('refuses an empty or overlong idempotency key before sending', async () => {
    const h = await start({ workflows: [account], worker: false });
    const run = await h.baton.start(account, null);
    await expect(h.baton.signal(run.runId, 'deposit', 1, { idempotencyKey: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      h.baton.signal(run.runId, 'deposit', 1, { idempotencyKey: 'k'.repeat(257) }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('at most 256') });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
  });
});

describe('exactly-once signals over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [waiter], worker: false });
  });
  afterAll(async () => server.close());

  it('accepts an idempotency key, answers a resend as a duplicate and a changed payload with 409', async () => {
    const run = await server.baton.start(waiter, { name: 'Ada' }, { as: 'user:alice', tenant: 'acme' });
    const send = (payload: unknown) =>
      server.call(`/api/runs/${run.runId}/signals`, {
        method: 'POST',
        json: { name: 'go', payload, idempotencyKey: 'reply-1' },
      });
    const first = await send({ reply: 'hi' });
    expect(first.status).toBe(202);
    const firstBody = (await first.json()) as { signalId: string; duplicate: boolean };
    expect(firstBody.duplicate).toBe(false);
    const again = await send({ reply: 'hi' });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ ok: true, signalId: firstBody.signalId, duplicate: true });
    const changed = await send({ reply: 'bye' });
    expect(changed.status).toBe(409);
    expect(((await changed.json()) as { error: { code: string } }).error.code).toBe('SIGNAL_KEY_CONFLICT');
    expect(await server.baton.store.pendingSignals(run.runId)).toHaveLength(1);
  });
});
