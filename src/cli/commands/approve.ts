import { UsageError, defineCommand } from '../command.ts';

export const approve = defineCommand({
  name: 'approve',
  summary: 'Approve a pending approval of a run (ctx.approval, a gated tool call, a budget, a loop)',
  args: [
    { name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' },
    {
      name: 'approval',
      required: true,
      description: 'The approval id (`baton approvals` lists them), e.g. tool-7',
    },
  ],
  options: {
    as: {
      type: 'string',
      value: 'principal',
      description:
        'Who approves (e.g. user:bob); required. Trusted operator input: the CLI has the database, so it is not checked',
    },
    reason: { type: 'string', value: 'text', description: 'Why; journaled with the decision' },
    comment: { type: 'string', value: 'text', description: 'Old name of --reason', hidden: true },
    args: {
      type: 'string',
      value: 'JSON',
      description: "Edited arguments for a gated tool call (checked against the tool's schema)",
    },
    tenant: { type: 'string', value: 'tenant', description: "The run's tenant: refuse runs of any other" },
  },
  details: [
    'Nothing is sent when the approval is unknown, already decided, expired, the run has finished, the',
    "approver may not decide it, or the edited arguments fail the tool's schema. The run journals",
    'approval.decided (decision, approver, comment) when a worker takes the decision.',
    '',
    'Example:',
    `  baton approve run_01jd… tool-7 --as user:bob --reason 'verified' --args '{"chargeId":"ch_1","cents":500}'`,
  ].join('\n'),
  async run({ command, args, options, out, json, openBaton, findRun, parseJson }) {
    const edited = parseJson('args', options.args);
    if (options.reason !== undefined && options.comment !== undefined)
      throw new UsageError('Give the reason once, with --reason (--comment is its old name).', command.name);
    const reason = options.reason ?? options.comment;
    const baton = await openBaton();
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const run = await findRun(baton, args.run!, scope);
    const receipt = await baton.approve(run.runId, args.approval!, {
      as: options.as ?? '',
      ...(reason === undefined ? {} : { comment: reason }),
      ...(edited === undefined ? {} : { args: edited }),
      ...(scope ?? {}),
    });
    if (json) out.json(receipt);
    else
      out.line(
        `Approved ${receipt.approvalId} of run ${receipt.runId} as ${receipt.by}; a worker resumes the run.`,
      );
  },
});
