import { defineCommand } from '../command.ts';

export const pause = defineCommand({
  name: 'pause',
  summary: 'Pause a run: no worker takes it until it is resumed',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details:
    'A worker running it releases it at its next heartbeat (in-flight steps are aborted and run again\n' +
    'after the resume, with the same idempotency key). Timers and signals that come due meanwhile wait.\n' +
    'Pausing a finished run is an error; cancelling a paused run ends it.',
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const paused = await baton.pause(run.runId, scope ?? {});
    if (json) out.json({ runId: paused.runId, status: paused.status, paused: paused.paused === true });
    else
      out.line(
        `Paused run ${paused.runId} (${paused.workflow}, ${paused.status}); resume it with 'baton resume ${paused.runId}'.`,
      );
  },
});
