import { audit as queryAudit, formatAuditTable } from '../../access/audit.ts';
import { UsageError, defineCommand } from '../command.ts';

export const audit = defineCommand({
  name: 'audit',
  summary: 'List who did what, for whom, under which authorization (tool calls, hand-offs, approvals…)',
  options: {
    agent: {
      type: 'string',
      value: 'agent',
      description: 'The acting agent (writer, agent:writer) or identity; * matches anything',
    },
    action: {
      type: 'string',
      value: 'action',
      description: "A Cedar action (InvokeTool, HandOff…) or grant action ('tool:email.*')",
    },
    as: {
      type: 'string',
      value: 'principal',
      description: 'Done as or for this principal (user:alice), anywhere in the chain',
    },
    since: {
      type: 'string',
      value: 'time',
      description: 'From this time: ISO-8601, or a duration back from now (24h, 7d)',
    },
    until: { type: 'string', value: 'time', description: 'Before this time' },
    decision: { type: 'string', value: 'allow|deny', description: 'Only allowed or only denied actions' },
    run: { type: 'string', value: 'run', description: 'Only this run' },
    tenant: { type: 'string', value: 'tenant', description: 'Only this tenant' },
    limit: { type: 'string', value: 'N', description: 'At most N entries (default 1000)' },
  },
  details:
    "Examples:\n  baton audit --as user:alice --decision deny --since 7d\n  baton audit --agent writer --action 'tool:email.*' --json",
  async run({ options, out, json, openBaton, parseInteger }) {
    if (options.decision !== undefined && options.decision !== 'allow' && options.decision !== 'deny') {
      throw new UsageError(`--decision is 'allow' or 'deny', not '${options.decision}'.`, 'audit');
    }
    const limit = parseInteger('limit', options.limit, { min: 1 });
    const baton = await openBaton({ readOnly: true });
    const entries = await queryAudit(baton.store, {
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(options.action === undefined ? {} : { action: options.action }),
      ...(options.as === undefined ? {} : { as: options.as }),
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.until === undefined ? {} : { until: options.until }),
      ...(options.decision === undefined ? {} : { decision: options.decision }),
      ...(options.run === undefined ? {} : { runId: options.run }),
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (json) {
      out.json({ entries });
      return;
    }
    out.line(formatAuditTable(entries));
  },
});
