import { anyWorkerAlive } from '../../store/worker-registry.ts';
import { UsageError, defineCommand } from '../command.ts';

export const cancel = defineCommand({
  name: 'cancel',
  summary: 'Cancel a run and its children',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    reason: { type: 'string', value: 'text', description: 'Why; kept with the run and journaled' },
    as: { type: 'string', value: 'principal', description: 'Who cancels, as journaled (user:bob)' },
    children: {
      type: 'string',
      value: 'cancel|abandon',
      description: "Cancel the run's children too (default), or leave them running",
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details:
    'The cancellation is recorded at once and journaled as run.cancelRequested (who and why). The workflow\n' +
    'sees CancelledError at its current awaits (in-flight steps see their abort signal) and may clean up;\n' +
    'the run ends as it decides (cancelled when the error escapes). Children are cancelled too, unless\n' +
    '--children abandon or they were started detached. Cancelling a finished run is an error.',
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    if (options.children !== undefined && options.children !== 'cancel' && options.children !== 'abandon')
      throw new UsageError(`--children is 'cancel' or 'abandon', got '${options.children}'.`, 'cancel');
    await baton.cancel(run.runId, {
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(options.children === undefined ? {} : { children: options.children }),
      ...(scope ?? {}),
    });
    const workerAlive = await anyWorkerAlive(baton.store.workers, baton.clock());
    if (json)
      out.json({
        runId: run.runId,
        cancelRequested: true,
        ...(workerAlive === undefined ? {} : { workerAlive }),
      });
    else if (workerAlive === false)
      out.line(
        `Cancellation of run ${run.runId} (${run.workflow}) recorded, but no worker is running: the run ends when one starts (baton worker).`,
      );
    else out.line(`Cancellation of run ${run.runId} (${run.workflow}) requested; its worker ends it.`);
  },
});
