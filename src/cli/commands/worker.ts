import type { ActivationOutcome } from '../../engine/executor.ts';
import type { RunRecord } from '../../store/store.ts';
import { defineCommand } from '../command.ts';
import { displayStore } from '../load-config.ts';
import { formatDateTime, formatTimeOfDay } from '../output.ts';

export const worker = defineCommand({
  name: 'worker',
  summary: "Run a worker for the config's workflows until Ctrl-C",
  options: {
    concurrency: {
      type: 'string',
      value: 'N',
      description: "Runs executed at once (default: the config's, else 32)",
    },
  },
  details: [
    'The worker claims runnable runs under a lease, runs them, and parks those that wait. Many workers,',
    'in one process or many, may share a store. On SIGINT or SIGTERM it stops claiming, releases the',
    'runs it holds (another worker resumes them by replay) and exits; a second Ctrl-C exits at once.',
    'With --json it prints one JSON object per line: started, activation, stopped.',
  ].join('\n'),
  async run({ options, out, json, shutdown, openBaton, loadConfig, parseInteger }) {
    const concurrency = parseInteger('concurrency', options.concurrency, { min: 1, max: 10_000 });
    const loaded = await loadConfig({ required: true });
    const onActivationEnd = (run: RunRecord, outcome: ActivationOutcome): void => {
      if (json) {
        out.jsonLine({
          event: 'activation',
          at: new Date().toISOString(),
          runId: run.runId,
          workflow: run.workflow,
          outcome,
        });
        return;
      }
      out.line(
        `${out.style('dim', formatTimeOfDay(Date.now()))}  ${run.runId}  ${run.workflow}  ${describeOutcome(outcome)}`,
      );
    };
    const baton = await openBaton({
      requireConfig: true,
      create: true,
      worker: concurrency === undefined ? {} : { concurrency },
      onActivationEnd,
    });
    const id = baton.worker!.id;
    const workflows = [...baton.workflows.keys()];
    if (json) {
      out.jsonLine({
        event: 'started',
        at: new Date().toISOString(),
        workerId: id,
        store: displayStore(loaded.store),
        workflows,
      });
    } else {
      out.line(`Worker ${id}`);
      out.line(
        out.style(
          'dim',
          `  store ${displayStore(loaded.store)} · workflows ${workflows.join(', ') || '(none)'}`,
        ),
      );
      out.line(out.style('dim', '  Ctrl-C stops it gracefully.'));
    }
    if (!shutdown.aborted)
      await new Promise((resolve) => shutdown.addEventListener('abort', resolve, { once: true }));
    const active = baton.worker!.activeRuns;
    if (!json) out.line(`Stopping: releasing ${active} active run(s)…`);
    await baton.close();
    if (json)
      out.jsonLine({ event: 'stopped', at: new Date().toISOString(), workerId: id, released: active });
    else out.line('Stopped.');
    return 0;
  },
});

function describeOutcome(outcome: ActivationOutcome): string {
  switch (outcome.status) {
    case 'waiting':
      return outcome.wakeAt === undefined ? 'parked' : `parked until ${formatDateTime(outcome.wakeAt)}`;
    case 'released':
      return 'released';
    case 'lost':
      return 'lost its lease (another worker has it)';
    default:
      return outcome.status;
  }
}
