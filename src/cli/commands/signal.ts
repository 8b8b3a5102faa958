import { UsageError, defineCommand } from '../command.ts';

export const signal = defineCommand({
  name: 'signal',
  summary: 'Send a signal to a run (its ctx.waitFor(name) receives the data)',
  args: [
    { name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' },
    { name: 'name', required: true, description: 'The signal name the workflow waits for' },
  ],
  options: {
    payload: { type: 'string', value: 'JSON', description: 'The payload, as JSON (default: none)' },
    data: { type: 'string', value: 'JSON', description: 'Old name of --payload', hidden: true },
    as: {
      type: 'string',
      value: 'principal',
      description: 'Who sends it (default: user:anonymous). Trusted operator input, not checked',
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
    'idempotency-key': {
      type: 'string',
      value: 'key',
      description: 'Deliver once: sending again with this key sends nothing',
    },
  },
  details: [
    'A signal sent before the run waits for it is kept and delivered when it does. Sending to a run',
    'that has finished is an error. A worker resumes the run: `baton worker`, or a running `baton start`.',
    'With --idempotency-key the signal is delivered once however often the command is repeated; the',
    'same key with other data is an error.',
    '',
    'Example:',
    `  baton signal run_01jd… approve --payload '{"approved": true}' --as user:bob`,
  ].join('\n'),
  async run({ args, options, out, json, openBaton, findRun, parseJson, command }) {
    if (options.payload !== undefined && options.data !== undefined)
      throw new UsageError('Give the payload once, with --payload (--data is its old name).', command.name);
    const data =
      options.data === undefined ? parseJson('payload', options.payload) : parseJson('data', options.data);
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const name = args.name!;
    const key = options['idempotency-key'];
    const receipt = await baton.signal(run.runId, name, data, {
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(key === undefined ? {} : { idempotencyKey: key }),
      ...(scope ?? {}),
    });
    if (json) out.json({ runId: run.runId, signal: name, sent: !receipt.duplicate, ...receipt });
    else if (receipt.duplicate)
      out.line(`Signal '${name}' with key '${key}' was already delivered to run ${run.runId}: nothing sent.`);
    else out.line(`Sent signal '${name}' to run ${run.runId} (${run.workflow}, ${run.status}).`);
  },
});
