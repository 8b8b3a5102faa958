import { defineCommand } from '../command.ts';

export const resume = defineCommand({
  name: 'resume',
  summary: 'Resume a paused run, or a failed, timed-out or cancelled run in place',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    as: { type: 'string', value: 'principal', description: 'Who resumes it, as journaled (user:ops)' },
    reason: { type: 'string', value: 'text', description: 'Why; journaled in run.resumed' },
    timeout: {
      type: 'string',
      value: 'duration',
      description: 'A new deadline from now (e.g. 2h); default none',
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details: [
    'A paused run is claimable again: a worker takes it at once when it is due (`baton worker`).',
    'A failed, timed-out or cancelled run goes on under the same id from where it stopped: run.resumed',
    'is journaled (who, why) and the step whose failure ended it is tried again. A running, waiting or',
    'completed run cannot be resumed (fork a completed run to try something different).',
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const resumed = await baton.resume(run.runId, {
      ...(scope ?? {}),
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
    if (json) out.json({ runId: resumed.runId, status: resumed.status, paused: resumed.paused === true });
    else out.line(`Resumed run ${resumed.runId} (${resumed.workflow}, ${resumed.status}).`);
  },
});
