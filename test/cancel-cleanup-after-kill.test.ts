import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { NODE } from './support/pinned-node.ts';

/**
 * Real processes run workflows that clean up after a cancel (three release steps in a
 * non-cancellable scope, each appending to an outside ledger with its idempotency key). Each process
 * is SIGKILLed at a random point of that cleanup (between a ledger append and its journal commit,
 * while the cancellation is being journaled, while replaying) and a new one takes its place; then one
 * runs the work to its end. Every run must end cancelled with its cleanup journaled exactly once.
 */
const RUNS = 8;
const KILLS = 10;
const FIXTURE = resolve(import.meta.dirname, 'fixtures/cancel-cleanup-worker.ts');
const ROOT = resolve(import.meta.dirname, '..');

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'baton-cancel-kill-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Life {
  ended: 'killed' | 'exited';
  code: number | null;
  done: boolean;
  stderr: string;
}

function life(db: string, ledger: string, afterEffects: number | undefined, limitMs: number): Promise<Life> {
  return new Promise((resolvePromise, reject) => {
    const child: ChildProcess = spawn(
      NODE,
      ['--disable-warning=ExperimentalWarning', FIXTURE, db, ledger, String(RUNS)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const result: Life = { ended: 'exited', code: null, done: false, stderr: '' };
    let effects = 0;
    let killing = false;
    const kill = (): void => {
      if (killing) return;
      killing = true;
      child.kill('SIGKILL');
    };
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker did not finish within ${limitMs} ms; stderr:\n${result.stderr}`));
    }, limitMs);
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'effect') effects++;
        if (line === 'done') result.done = true;
      }
      if (afterEffects !== undefined && effects >= afterEffects) {
        const extra = randomInt(0, 6);
        if (extra === 0) kill();
        else setTimeout(kill, extra);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (result.stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      result.ended = signal === 'SIGKILL' ? 'killed' : 'exited';
      result.code = code;
      resolvePromise(result);
    });
  });
}

describe('cancel cleanup after kill', () => {
  it('a run killed during its cleanup after a cancel finishes the cleanup exactly once', async () => {
    const db = join(directory, 'baton.db');
    const ledger = join(directory, 'ledger.txt');
    let kills = 0;
    let finished = false;
    while (kills < KILLS && !finished) {
      const current = await life(db, ledger, randomInt(1, 8), 30_000);
      if (current.ended === 'killed') kills++;
      else {
        expect(current.code, current.stderr).toBe(0);
        finished = current.done;
      }
    }
    const last = await life(db, ledger, undefined, 30_000);
    expect(last.code, last.stderr).toBe(0);
    expect(last.done).toBe(true);
    expect(kills, 'the work ended before enough kills landed').toBeGreaterThanOrEqual(KILLS / 3);

    const store = SqliteStore.open({ path: db });
    try {
      const runs = await store.listRuns({ limit: 1000 });
      expect(runs).toHaveLength(RUNS);
      expect(runs.map((run) => run.status)).toEqual(Array(RUNS).fill('cancelled'));
      const applied = new Map<string, Set<string>>();
      for (const line of readFileSync(ledger, 'utf8').split('\n').filter(Boolean)) {
        const [key, token] = line.split(' ');
        if (!applied.has(key!)) applied.set(key!, new Set());
        applied.get(key!)!.add(token!);
      }
      for (const run of runs) {
        const events = await store.readEvents(run.runId);
        expect(verifyChain(events, run.runId).ok).toBe(true);
        expect(events.filter((event) => event.type === 'run.cancelRequested')).toHaveLength(1);
        expect(events.at(-1)).toMatchObject({
          type: 'run.cancelled',
          payload: { reason: 'customer left', by: 'user:ops' },
        });
        const steps = events.filter(
          (event): event is JournalEvent<'step.completed'> => event.type === 'step.completed',
        );
        const releases = steps.filter((step) => step.payload.name.startsWith('release-'));
        // The cleanup is journaled exactly once per step, and what it journaled was applied.
        expect(releases.map((step) => step.payload.name).sort()).toEqual([
          'release-0',
          'release-1',
          'release-2',
        ]);
        for (const step of releases) {
          const key = `${run.runId}:${step.payload.op}`;
          expect(applied.get(key)?.has(step.payload.result as string), `ledger entry for ${key}`).toBe(true);
        }
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
