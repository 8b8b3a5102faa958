import { defineCommand } from '../command.ts';

export const cancel = defineCommand({
  name: 'cancel',
  summary: 'Cancel a run and its children',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    reason: { type: 'string', value: 'text', description: 'Why; kept with the run and journaled' },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details:
    'The cancellation is recorded at once; the worker holding the run (or the next to claim it) aborts\n' +
    'in-flight steps, cancels the children and journals run.cancelled. Cancelling a finished run is an error.',
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    await baton.cancel(run.runId, {
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(scope ?? {}),
    });
    if (json) out.json({ runId: run.runId, cancelRequested: true });
    else out.line(`Cancellation of run ${run.runId} (${run.workflow}) requested; its worker ends it.`);
  },
});
