import { UsageError, defineCommand } from '../command.ts';

export const deny = defineCommand({
  name: 'deny',
  summary: 'Deny a pending approval of a run',
  args: [
    { name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' },
    { name: 'approval', required: true, description: 'The approval id (`baton approvals` lists them)' },
  ],
  options: {
    as: {
      type: 'string',
      value: 'principal',
      description: 'Who denies (e.g. user:bob); required. Trusted operator input, not checked',
    },
    reason: {
      type: 'string',
      value: 'text',
      description: 'Why; journaled with the decision (and told to the agent)',
    },
    comment: { type: 'string', value: 'text', description: 'Old name of --reason', hidden: true },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details:
    'A denied tool call does not run and the agent is told why; ctx.approval resolves with approved: false.',
  async run({ command, args, options, out, json, openBaton, findRun }) {
    if (options.reason !== undefined && options.comment !== undefined)
      throw new UsageError('Give the reason once, with --reason (--comment is its old name).', command.name);
    const reason = options.reason ?? options.comment;
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const receipt = await baton.deny(run.runId, args.approval!, {
      as: options.as ?? '',
      ...(reason === undefined ? {} : { comment: reason }),
      ...(scope ?? {}),
    });
    if (json) out.json(receipt);
    else
      out.line(
        `Denied ${receipt.approvalId} of run ${receipt.runId} as ${receipt.by}; a worker resumes the run.`,
      );
  },
});
