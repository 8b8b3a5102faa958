import { defineCommand } from '../command.ts';

export const resume = defineCommand({
  name: 'resume',
  summary: 'Resume a paused run',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details: 'The run is claimable again: a worker takes it at once when it is due (`baton worker`).',
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const resumed = await baton.resume(run.runId, scope ?? {});
    if (json) out.json({ runId: resumed.runId, status: resumed.status, paused: resumed.paused === true });
    else out.line(`Resumed run ${resumed.runId} (${resumed.workflow}, ${resumed.status}).`);
  },
});
