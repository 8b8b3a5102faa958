// A worker process for the agent-shaped figures (bench/agent-scale-out.ts, bench/parked-runs.ts):
//   node --expose-gc bench/bench-worker.ts <postgres-url | sqlite:path> [pool-size]
// Prints "ready" once its store is open. Commands on stdin, one a line, each answered by one line:
//   go <concurrency>  starts a Baton worker                → started {…same as stats, memory before a GC…}
//   stats             its resources now (memory after a full GC) → stats {cpuMicros, rss, heapUsed, writes, transactions}
//   stop              stops the worker, releasing its runs  → stopped {…same…}
import { createInterface } from 'node:readline';
import { Baton } from '../src/baton.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { agentSteps, parkedOnSignal } from './agent-workflows.ts';

const [url, poolSize] = process.argv.slice(2);
if (!url) throw new Error('usage: bench-worker.ts <postgres-url | sqlite:path> [pool-size]');

const store: Store = url.startsWith('sqlite:')
  ? SqliteStore.open({ path: url.slice('sqlite:'.length) })
  : await PostgresStore.open({ url, poolSize: Number(poolSize ?? 4) });
let baton: Baton | undefined;
process.stdout.write('ready\n');

function stats(collect = true): string {
  // CPU is read before the collection, which is the measurement's own cost, not the worker's.
  const cpu = process.cpuUsage();
  if (collect) (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  return JSON.stringify({
    cpuMicros: cpu.user + cpu.system,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    writes: baton?.commitStats.writes ?? 0,
    transactions: baton?.commitStats.transactions ?? 0,
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, concurrency] = line.split(' ');
  if (command === 'go' && !baton) {
    baton = await Baton.open({
      store,
      workflows: [agentSteps, parkedOnSignal],
      worker: { concurrency: Number(concurrency) },
    });
    // What it has used once started, so a measurement can leave out opening the worker.
    process.stdout.write(`started ${stats(false)}\n`);
  } else if (command === 'stats') {
    process.stdout.write(`stats ${stats()}\n`);
  } else if (command === 'stop') {
    const before = stats();
    await baton?.close();
    baton = undefined;
    process.stdout.write(`stopped ${before}\n`);
  }
}
await baton?.close();
await store.close();
