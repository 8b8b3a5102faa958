import { defineCommand } from '../command.ts';
import { followRun } from '../follow-run.ts';
import { statusText } from '../run-format.ts';

export const follow = defineCommand({
  name: 'follow',
  summary: "Follow a run live: its journal as it lands and its models' text as it streams",
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    after: {
      type: 'string',
      value: 'cursor',
      description: "Resume after this cursor of the run's stream (a part's cursor, as --json prints it)",
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details:
    "Prints the run's journal events as they are committed and its models' text token by token, from\n" +
    'whichever worker process runs it, until the run finishes (or Ctrl-C: the run goes on). A run that\n' +
    'parks is followed on: a signal or an approval wakes it and the stream goes on. A model call cut short\n' +
    'by a worker that died shows as interrupted, and goes on when the run resumes. With --json, every\n' +
    'part of the stream is one JSON line, each with the cursor to resume after (--after).',
  async run({ args, options, out, json, openBaton, findRun, shutdown }) {
    // Not read-only: a follower closes the model calls of a worker that died (`interrupted`).
    const baton = await openBaton({ worker: false });
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    if (!json)
      out.line(`Following run ${out.style('bold', run.runId)} (${run.workflow}); Ctrl-C stops following.`);
    const end = await followRun({
      baton,
      runId: run.runId,
      out,
      signal: shutdown,
      printEvents: !json,
      throughParks: true,
      ...(options.after === undefined ? {} : { after: options.after }),
      ...(json ? { onPart: (part) => out.jsonLine(part) } : {}),
    });
    if (!json) {
      if (end.reason === 'interrupted') out.line(`Stopped following run ${end.run.runId}; it goes on.`);
      else out.line(`Run ${end.run.runId} ${statusText(out, end.run.status)}.`);
    }
    if (end.reason === 'interrupted') return 130;
    return end.run.status === 'failed' || end.run.status === 'cancelled' ? 1 : 0;
  },
});
