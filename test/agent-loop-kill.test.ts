import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { startOpenAICompatibleServer } from '../src/testing/index.ts';
import { killWorkflows, modelReply, TICKETS } from './fixtures/agent-kill-workflows.ts';
import { spawnNode } from './support/child-process.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

// Real processes, real SIGKILLs, in the middle of agent loops: the child works agent workflows
// against a local OpenAI-compatible server in this process; we kill it at random points (and one
// tool kills its own process between its effect and its result), restart it, and check what the
// server and the outside world saw.

const child = fileURLToPath(new URL('./fixtures/agent-kill-child.ts', import.meta.url));
const cleanup = cleanupsAfterAll();

interface ChildRun {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  ready: Promise<boolean>;
  settled: Promise<boolean>;
  kill(): void;
}

function spawnChild(args: string[]): ChildRun {
  const proc = spawnNode([child, ...args], {
    env: { ...process.env, BATON_KILL_CHILD: '1' },
    limitMs: 240_000,
  });
  void proc.exited.then(({ code, signal, stderr }) => {
    if (code !== 0 && signal === null) throw new Error(`child exited with ${code}: ${stderr}`);
  });
  const printed = async (line: string): Promise<boolean> => (await proc.line(line)) === line;
  return {
    exited: proc.exited,
    ready: printed('ready'),
    settled: printed('settled'),
    kill: () => proc.kill(),
  };
}

describe('agent loops killed at random points', () => {
  it('never resend a completed model call, never run a tool twice, and park an in-doubt irreversible call', async () => {
    const dir = await cleanup.directory('baton-kill-agents-');
    const identities = new Map<number, string>();
    const server = await startOpenAICompatibleServer((request) => {
      const { identity, reply } = modelReply(request.messages);
      identities.set(request.index, identity);
      return reply;
    });
    cleanup.push(() => server.close());
    const dbPath = join(dir, 'baton.db');
    const args = [dbPath, server.url, dir];

    let kills = 0;
    for (let round = 0; round < 20 && kills < 8; round++) {
      const proc = spawnChild(args);
      let finished = false;
      void proc.settled.then((settled) => (finished = settled));
      const before = server.requests.length;
      if (await proc.ready) {
        // Kill in the middle of the work: after 1–4 more model requests (a killed child's leases
        // expire after 1 s, so the next child starts where it left off), plus up to 80 ms.
        const target = before + 1 + Math.floor(Math.random() * 4);
        while (server.requests.length < target && !finished)
          await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 80)));
        proc.kill();
      }
      const { signal } = await proc.exited;
      if (finished) break;
      if (signal === 'SIGKILL') kills++;
    }
    // Let it finish: restart until a child reports every run finished or parked.
    for (let attempt = 0; attempt < 5; attempt++) {
      const proc = spawnChild(args);
      const settled = await proc.settled;
      await proc.exited;
      if (settled) break;
    }
    // Under load the work may finish before all eight kills land; three still cut loops mid-turn.
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(existsSync(join(dir, 'crashed-once'))).toBe(true);

    // Now a person resolves what is in doubt, from the outside world's records.
    const store = SqliteStore.open({ path: dbPath });
    const { handle } = killWorkflows({ baseURL: server.url, effectsDir: dir });
    const baton = await Baton.open({ store, workflows: [handle], worker: { pollMs: 20 }, log: () => {} });
    cleanup.push(async () => {
      await baton.close();
      await store.close();
    });
    const runs = await baton.listRuns({ workflow: 'kill.ticket' });
    expect(runs).toHaveLength(TICKETS);
    let parked = 0;
    for (const run of runs) {
      for (const call of await baton.inDoubt(run.runId)) {
        parked++;
        expect(run.status).toBe('waiting');
        const charged = readFileSync(join(dir, 'charges.log'), 'utf8')
          .split('\n')
          .some((line) => line.startsWith(`${call.idempotencyKey} `));
        if (charged) {
          await baton.resolveInDoubt(run.runId, {
            op: call.op,
            action: 'skip',
            result: { charged: true, from: 'ledger' },
            as: 'user:ops',
          });
        } else {
          await baton.resolveInDoubt(run.runId, { op: call.op, action: 'retry', as: 'user:ops' });
        }
      }
    }
    expect(parked).toBeGreaterThanOrEqual(1);
    for (const run of runs) {
      const ticket = (run.input as { ticket: number }).ticket;
      expect(await baton.result(run.runId, { timeout: '30s' })).toBe(`Done ticket ${ticket}.`);
    }

    // No tool ran twice: the ledger holds each charge once, the CRM applied each update once.
    const charges = readFileSync(join(dir, 'charges.log'), 'utf8').trim().split('\n');
    const chargeKeys = charges.map((line) => line.split(' ')[0]);
    expect(new Set(chargeKeys).size).toBe(chargeKeys.length);
    expect(charges.map((line) => Number(line.split(' ')[1])).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const crm = readFileSync(join(dir, 'crm.log'), 'utf8').trim().split('\n');
    const applied = crm.filter((line) => line.endsWith(' applied')).map((line) => line.split(' ')[0]);
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied).toHaveLength(TICKETS);

    // No completed model call was sent again: a call is journaled only after its response was sent,
    // so no request for the same turn may reach the server after the journaled response left it.
    // (A request sent again while the first was still in flight, its response lost with the
    // process, is allowed: that call never completed.)
    const journaled = new Map<string, string>();
    let inDoubtEvents = 0;
    for (const run of runs) {
      const events: JournalEvent[] = await baton.store.readEvents(run.runId);
      expect(verifyChain(events).ok).toBe(true);
      const ticket = (run.input as { ticket: number }).ticket;
      for (const event of events) {
        if (event.type === 'tool.inDoubt') inDoubtEvents++;
        if (event.type !== 'llm.called') continue;
        const payload = event.payload as { turn: number; response: { id?: string } };
        const identity = `${ticket}:${payload.turn - 1}`;
        expect(journaled.has(identity)).toBe(false);
        journaled.set(identity, payload.response.id!);
      }
      // Each tool op has one result.
      const results = events.filter(
        (event) =>
          event.type === 'tool.called' ||
          event.type === 'tool.failed' ||
          (event.type === 'tool.resolved' && (event.payload as { action: string }).action === 'skip'),
      );
      const ops = results.map((event) => (event.payload as { op: number }).op);
      expect(new Set(ops).size).toBe(ops.length);
    }
    expect(journaled.size).toBe(TICKETS * 4);
    for (const [identity, id] of journaled) {
      const response = server.responses.find((candidate) => candidate.id === id);
      expect(response, `the journaled response ${id} of ${identity} came from the server`).toBeDefined();
      const later = server.requests.filter(
        (request) => identities.get(request.index) === identity && request.sequence > response!.sequence,
      );
      expect(
        later.map((request) => request.index),
        `requests for ${identity} after ${id} was sent`,
      ).toEqual([]);
    }
    expect(inDoubtEvents).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
