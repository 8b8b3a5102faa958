import { defineCommand } from '../command.ts';
import { formatDuration, truncate } from '../output.ts';

export const workers = defineCommand({
  name: 'workers',
  summary: 'List the workers connected to the store and what each is running',
  options: {
    all: { type: 'boolean', description: 'Also list workers that stopped beating (crashed) in the last day' },
  },
  details: [
    'Every worker beats into the store every few seconds (a third of its lease), naming the runs it',
    'executes. A worker that stops cleanly leaves the list; one that crashed is gone once its beat',
    'expires (its runs are then taken over by any other worker), and is forgotten a day later.',
    'Runs of every tenant are listed: this reads the store directly.',
  ].join('\n'),
  async run({ options, out, json, openBaton }) {
    const baton = await openBaton({ readOnly: true });
    const registry = baton.store.workers;
    const now = baton.clock();
    const listed = registry ? await registry.list() : [];
    const shown = listed.filter((worker) => options.all || worker.expiresAt > now);
    if (json) {
      out.json({
        tracked: registry !== undefined,
        workers: shown.map((worker) => ({ ...worker, alive: worker.expiresAt > now })),
      });
      return;
    }
    if (!registry) {
      out.line(`The store at ${baton.store.location} keeps no worker list.`);
      return;
    }
    if (shown.length === 0) {
      out.line('No worker is running. Start one: baton worker (or baton server --worker).');
      return;
    }
    out.table(
      [
        { key: 'worker', title: 'WORKER' },
        { key: 'host', title: 'HOST' },
        { key: 'pid', title: 'PID', align: 'right' },
        { key: 'state', title: 'STATE' },
        { key: 'beat', title: 'LAST BEAT' },
        { key: 'busy', title: 'BUSY', align: 'right' },
        { key: 'runs', title: 'RUNS' },
      ],
      shown.map((worker) => ({
        worker: worker.workerId,
        host: worker.host,
        pid: String(worker.pid),
        state: worker.expiresAt > now ? 'alive' : 'gone',
        beat: `${formatDuration(Math.max(0, now - worker.beatAt))} ago`,
        busy: `${worker.runIds.length}/${worker.concurrency}`,
        runs: truncate(worker.runIds.join(', ') || '—', 60),
      })),
    );
  },
});
