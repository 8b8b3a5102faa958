// The worker side of the crash tests (test/fixtures/*-worker.ts, run by workerLife in
// child-process.ts): what each worker prints, how it applies an outside effect, how it opens and
// closes its Baton.
import { randomInt, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Baton } from '../../src/baton.ts';
import type { WorkflowDefinition } from '../../src/engine/workflow.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/**
 * A step function that appends `<idempotency key> <token>` to the ledger file (the outside world a
 * kill cannot roll back), prints `effect`, and returns the token; it waits 0–3 ms before and after,
 * so a kill lands on either side of the append.
 */
export function ledgerEffect(ledgerPath: string): (context: { idempotencyKey: string }) => Promise<string> {
  return async ({ idempotencyKey }) => {
    await delay(randomInt(0, 4));
    const token = randomUUID();
    appendFileSync(ledgerPath, `${idempotencyKey} ${token}\n`);
    process.stdout.write('effect\n');
    await delay(randomInt(0, 4));
    return token;
  };
}

/**
 * Opens the SQLite store and a Baton working `workflows` with short leases (a killed worker's runs
 * are taken over within half a second), logging to stderr, and prints `ready`.
 */
export async function openKillWorker(
  dbPath: string,
  workflows: readonly WorkflowDefinition[],
): Promise<{ baton: Baton; close: () => Promise<void> }> {
  const store = SqliteStore.open({ path: dbPath });
  const baton = await Baton.open({
    store,
    workflows,
    worker: { leaseMs: 500, pollMs: 25, concurrency: 8 },
    log: (message, error) =>
      process.stderr.write(
        `[worker] ${message} ${error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error)}\n`,
      ),
  });
  process.stdout.write('ready\n');
  return {
    baton,
    close: async () => {
      process.stdout.write('done\n');
      await baton.close();
      await store.close();
    },
  };
}
