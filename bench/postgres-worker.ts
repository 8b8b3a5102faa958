// A worker process for bench/postgres.ts:
//   node bench/postgres-worker.ts <store-url>
// Prints "ready" once its store is open. On stdin, "go <concurrency>" starts a Baton worker and "stop" stops it,
// answering "stopped <writes> <transactions>" (its committer's counts) once its runs are released.
import { createInterface } from 'node:readline';
import { Baton } from '../src/baton.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { tenStepsOnPostgres } from './postgres-workflows.ts';

const [url] = process.argv.slice(2);
if (!url) throw new Error('usage: postgres-worker.ts <store-url>');

const store = await PostgresStore.open({ url, poolSize: 4 });
let baton: Baton | undefined;
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, concurrency] = line.split(' ');
  if (command === 'go' && !baton) {
    baton = await Baton.open({
      store,
      workflows: [tenStepsOnPostgres],
      worker: { concurrency: Number(concurrency) },
    });
  } else if (command === 'stop' && baton) {
    const { writes, transactions } = baton.commitStats;
    await baton.close();
    baton = undefined;
    process.stdout.write(`stopped ${writes} ${transactions}\n`);
  }
}
await baton?.close();
await store.close();
