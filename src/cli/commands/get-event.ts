import { defineCommand } from '../command.ts';
import { brief } from '../output.ts';

export const getEvent = defineCommand({
  name: 'get-event',
  summary: 'Read a value a run published with ctx.setEvent (its progress, say)',
  args: [
    { name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' },
    { name: 'key', required: true, description: 'The key the workflow published under' },
  ],
  options: {
    timeout: {
      type: 'string',
      value: 'duration',
      description: "Wait up to this long for the value to appear ('30s'); default: no wait",
    },
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  },
  details: [
    "Reads the latest value from the run's journal: no worker needs to be running. Exits 1 when the",
    'run has not published the key (within --timeout).',
    '',
    'Example:',
    '  baton get-event run_01jd… progress --timeout 10s',
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const key = args.key!;
    const value = await baton.getEvent(run.runId, key, {
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(scope ?? {}),
    });
    if (json) out.json({ runId: run.runId, key, found: value !== undefined, value: value ?? null });
    else if (value === undefined) out.line(`Run ${run.runId} has not published '${key}'.`);
    else out.line(brief(value, 10_000));
    return value === undefined ? 1 : 0;
  },
});
