import { defineCommand } from '../command.ts';
import { brief } from '../output.ts';

export const query = defineCommand({
  name: 'query',
  summary: "Answer a query the run's workflow declares, from the values the run published",
  args: [
    { name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' },
    { name: 'name', required: true, description: "The query's name (workflow(…, { queries }))" },
  ],
  options: {
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  },
  details: [
    "Queries are read-only functions of the run's published values (ctx.setEvent): no worker replays",
    'the run. The workflow must be in baton.config.ts.',
    '',
    'Example:',
    '  baton query run_01jd… percent',
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const result = await baton.query(run.runId, args.name!, scope ?? {});
    if (json) out.json({ runId: run.runId, query: args.name!, result: result ?? null });
    else out.line(brief(result, 10_000));
  },
});
