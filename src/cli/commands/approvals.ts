import { defineCommand } from '../command.ts';

export const approvals = defineCommand({
  name: 'approvals',
  summary: 'List approvals waiting for a decision (the approval inbox)',
  options: {
    mine: { type: 'boolean', description: 'Only those --as may decide now' },
    as: { type: 'string', value: 'principal', description: 'Who is asking (with --mine)' },
    tenant: { type: 'string', value: 'tenant', description: 'Only approvals of runs of this tenant' },
    run: { type: 'string', value: 'run', description: 'Only approvals of this run' },
    limit: { type: 'string', value: 'N', description: 'At most N approvals (default 100)' },
  },
  details: 'Decide with `baton approve <run> <approval> --as …` or `baton deny …`.',
  async run({ options, out, json, openBaton, findRun, parseInteger }) {
    const limit = parseInteger('limit', options.limit, { min: 1, max: 10_000 }) ?? 100;
    const baton = await openBaton({ readOnly: true });
    const scope = options.tenant === undefined ? undefined : { tenant: options.tenant };
    const runId = options.run === undefined ? undefined : (await findRun(baton, options.run, scope)).runId;
    const list = await baton.approvals({
      limit,
      ...(options.mine ? { mine: true } : {}),
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(scope ?? {}),
      ...(runId === undefined ? {} : { runId }),
    });
    if (json) {
      out.json({ approvals: list });
      return;
    }
    if (list.length === 0) {
      out.line(options.mine ? `Nothing waits for ${options.as}.` : 'No approvals are pending.');
      return;
    }
    out.table(
      [
        { key: 'run', title: 'RUN' },
        { key: 'approval', title: 'APPROVAL' },
        { key: 'action', title: 'ACTION' },
        { key: 'approvers', title: 'WHO MAY DECIDE' },
        { key: 'until', title: 'UNTIL (UTC)' },
        { key: 'summary', title: 'SUMMARY' },
      ],
      list.map((approval) => ({
        run: approval.runId,
        approval: approval.approvalId,
        action: approval.action,
        approvers: approval.approvers.length
          ? approval.approvers.join(', ')
          : `anyone but ${approval.requestedBy}`,
        until: approval.until === undefined ? '-' : approval.until.replace('T', ' ').slice(0, 19),
        summary: approval.summary.length > 80 ? `${approval.summary.slice(0, 77)}...` : approval.summary,
      })),
    );
  },
});
