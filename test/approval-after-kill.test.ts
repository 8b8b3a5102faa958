import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { eventsOfType as of } from './support/journal-events.ts';
import { spawnNode } from './support/child-process.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

// Real processes: a worker parks a run on an approval gate before an irreversible refund and is
// SIGKILLed; a new worker is started (and killed too, while the run is still parked), and another
// replaces it; then a person approves from a separate `baton approve` process. The refund must
// happen exactly once, counted in a file the kills cannot touch.

const ROOT = resolve(import.meta.dirname, '..');
const CHILD = resolve(import.meta.dirname, 'fixtures/approval-kill-child.ts');
// The CLI from its sources (bin/baton.js would run dist/, which may be older than them in a checkout).
const BIN = ['--import', resolve(ROOT, 'bin/source-hooks.js'), resolve(ROOT, 'src/cli/main.ts')];

const cleanup = cleanupsAfterAll();

describe('an approval across a crash', () => {
  it('survives SIGKILLs while the run waits; once approved, the gated irreversible tool runs exactly once', async () => {
    const dir = await cleanup.directory('baton-approval-kill-');
    const db = join(dir, 'baton.db');
    const effects = join(dir, 'refunds.log');

    // 1. A worker starts the run, which parks on the gate; the worker is killed.
    const first = spawnNode([CHILD, db, effects, 'start'], { cwd: dir });
    const runLine = await first.line('run ');
    if ((await first.line('parked')) === undefined)
      throw new Error(`the first worker ended early:\n${(await first.exited).stderr}`);
    first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');
    const runId = runLine!.slice('run '.length);
    expect(existsSync(effects)).toBe(false);

    // 2. A new worker comes up and finds the run parked; it is killed too.
    const second = spawnNode([CHILD, db, effects, 'work'], { cwd: dir });
    expect(await second.line('ready')).toBe('ready');
    second.kill();
    expect((await second.exited).signal).toBe('SIGKILL');

    // 3. The approval is still pending, and the journal says what waits for whom.
    const store = SqliteStore.open({ path: db });
    cleanup.push(() => store.close());
    const parked = await store.readEvents(runId);
    const [requested] = of(parked, 'approval.requested');
    expect(requested!.payload).toMatchObject({
      kind: 'tool',
      name: 'payments.refund',
      requestedBy: 'user:alice',
      stages: [{ approvers: ['group:finance'], members: ['user:bob'] }],
      tool: { name: 'payments.refund', effect: 'irreversible', args: { chargeId: 'ch_42', cents: 2500 } },
    });
    expect(of(parked, 'tool.called')).toEqual([]);

    // 4. A third worker runs; a person approves from another process (`baton approve`).
    const third = spawnNode([CHILD, db, effects, 'work'], { cwd: dir });
    expect(await third.line('ready')).toBe('ready');
    const wrong = spawnNode(
      [
        ...BIN,
        'approve',
        runId,
        requested!.payload.approvalId,
        '--as',
        'user:carol',
        '--store',
        `sqlite:${db}`,
      ],
      { cwd: dir },
    );
    const refused = await wrong.exited;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('user:carol may not decide');
    const approve = spawnNode(
      [
        ...BIN,
        'approve',
        runId,
        requested!.payload.approvalId,
        '--as',
        'user:bob',
        '--comment',
        'customer verified',
        '--store',
        `sqlite:${db}`,
        '--json',
      ],
      { cwd: dir },
    );
    const approved = await approve.exited;
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approve.lines.join('\n'))).toEqual({
      runId,
      approvalId: requested!.payload.approvalId,
      decision: 'approved',
      by: 'user:bob',
    });
    expect(await third.line('done')).toBe('done');
    expect((await third.exited).code).toBe(0);

    // 5. Exactly one refund, under the call's idempotency key; the journal tells the whole story once.
    const events = await store.readEvents(runId);
    const [call] = of(events, 'tool.requested');
    expect(readFileSync(effects, 'utf8').trim().split('\n')).toEqual([`${runId}:${call!.payload.op} 2500`]);
    expect(of(events, 'tool.requested')).toHaveLength(1);
    expect(of(events, 'tool.called')).toHaveLength(1);
    expect(of(events, 'tool.inDoubt')).toEqual([]);
    expect(of(events, 'approval.requested')).toHaveLength(1);
    expect(of(events, 'approval.decided').map((event) => event.payload)).toEqual([
      {
        op: call!.payload.op,
        name: 'payments.refund',
        approvalId: requested!.payload.approvalId,
        decision: 'approved',
        by: 'user:bob',
        comment: 'customer verified',
      },
    ]);
    expect((await store.getRun(runId))?.result).toBe('Refund done: {"refunded":2500}');
    expect(verifyChain(events).ok).toBe(true);
  }, 120_000);
});
