import { UnknownWorkflowError } from '../../errors.ts';
import type { RunRecord } from '../../store/store.ts';
import { defineCommand } from '../command.ts';
import { followRun, type FollowEnd } from '../follow-run.ts';
import { formatDateTime, type Output } from '../output.ts';
import { describeWait } from '../../journal/run-waits.ts';
import { statusText } from '../run-format.ts';

export const start = defineCommand({
  name: 'start',
  summary: 'Start a run and follow it until it finishes or parks',
  args: [{ name: 'workflow', required: true, description: 'A workflow named in baton.config.ts' }],
  options: {
    input: { type: 'string', value: 'JSON', description: "The run's input, as JSON (default: null)" },
    as: {
      type: 'string',
      value: 'principal',
      description:
        'Who the run acts for: user:alice, service:cron (default: user:anonymous). Trusted operator input: anyone who can run the CLI against the store can name anyone; the server takes identity only from tokens',
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant (default: default)" },
    'idempotency-key': {
      type: 'string',
      value: 'key',
      description: 'Starting again with the same key returns the same run',
    },
    detach: { type: 'boolean', description: 'Only create the run; a `baton worker` runs it' },
  },
  details: [
    'Without --detach, start runs a worker in this process (it also works on other runnable runs of the',
    "config's workflows meanwhile) and prints each journal event as it lands. It returns when the run",
    'finishes (exit 0, or 1 if it failed or was cancelled) or parks on something not due within a minute,',
    'such as a signal (exit 0). Ctrl-C stops following; the run is released and any worker resumes it.',
    '',
    'Examples:',
    `  baton start support --input '{"ticket": "T-1"}' --as user:alice --idempotency-key T-1`,
    '  baton start nightly-report --detach --json',
  ].join('\n'),
  async run({ args, options, out, json, shutdown, openBaton, parseJson }) {
    const input = parseJson('input', options.input) ?? null;
    const baton = await openBaton({ requireConfig: true, create: true, worker: options.detach ? false : {} });
    const name = args.workflow!;
    if (!baton.workflows.has(name))
      throw new UnknownWorkflowError({ name, known: [...baton.workflows.keys()] });
    const handle = await baton.start(name, input, {
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(options['idempotency-key'] === undefined ? {} : { idempotencyKey: options['idempotency-key'] }),
    });
    const runId = handle.runId;

    if (options.detach) {
      const run = await handle.get();
      if (json) out.json({ runId, created: handle.created, status: run.status });
      else {
        out.line(
          handle.created
            ? `Started run ${runId} (${name}).`
            : `Run ${runId} already exists for this idempotency key (${run.status}).`,
        );
        if (handle.created)
          out.line(out.style('dim', `A worker runs it: baton worker. Follow it: baton show ${runId}`));
      }
      return 0;
    }

    if (!json) {
      out.line(
        handle.created
          ? `Started run ${out.style('bold', runId)} (${name})`
          : `Run ${out.style('bold', runId)} already exists for this idempotency key; following it`,
      );
    }
    const end = await followRun({ baton, runId, out, signal: shutdown, printEvents: !json });
    const { run, waits } = end;
    if (json) {
      out.json({
        runId,
        created: handle.created,
        status: run.status,
        ...(run.result === undefined ? {} : { result: run.result }),
        ...(run.error === undefined ? {} : { error: run.error }),
        ...(end.reason === 'finished' ? {} : { waits }),
      });
    } else {
      printEnd(out, end);
    }
    if (end.reason === 'interrupted') return 130;
    return run.status === 'failed' || run.status === 'cancelled' ? 1 : 0;
  },
});

function printEnd(out: Output, end: FollowEnd): void {
  const { run, waits } = end;
  if (end.reason === 'interrupted') {
    out.line(`Stopped following. Run ${run.runId} is released; any worker resumes it (baton worker).`);
    return;
  }
  if (end.reason === 'parked') {
    const what =
      waits.length > 0 ? waits.map((wait) => describeWait(wait, formatDateTime)).join(', ') : 'a wake-up';
    out.line(`Run ${run.runId} is ${statusText(out, run.status)}, waiting for ${what}.`);
    for (const wait of waits) {
      if (wait.kind === 'signal')
        out.line(out.style('dim', `  Send it: baton signal ${run.runId} ${wait.name} --payload '{…}'`));
      if (wait.kind === 'approval')
        out.line(
          out.style('dim', `  Decide it: baton approve|deny ${run.runId} ${wait.approvalId} --as user:…`),
        );
    }
    out.line(out.style('dim', '  A worker resumes the run when it is woken: baton worker'));
    return;
  }
  printOutcome(out, run);
}

function printOutcome(out: Output, run: RunRecord): void {
  out.line(`Run ${run.runId} ${statusText(out, run.status)}.`);
  if (run.status === 'completed' && run.result !== undefined) out.line(JSON.stringify(run.result, null, 2));
  if (run.error) out.line(out.style('red', `${run.error.name}: ${run.error.message}`));
}
