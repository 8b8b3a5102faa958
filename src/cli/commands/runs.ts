import type { RunStatus } from '../../store/store.ts';
import { UsageError, defineCommand } from '../command.ts';
import { formatDateTime } from '../output.ts';
import { RUN_STATUSES, statusText } from '../run-format.ts';

export const runs = defineCommand({
  name: 'runs',
  summary: 'List runs, newest first',
  options: {
    status: {
      type: 'string',
      multiple: true,
      value: 'status',
      description: `Only runs in these states (${RUN_STATUSES.join(', ')}); repeat or comma-separate`,
    },
    workflow: { type: 'string', value: 'name', description: 'Only runs of this workflow' },
    tenant: { type: 'string', value: 'tenant', description: 'Only runs of this tenant' },
    limit: { type: 'string', value: 'N', description: 'At most N runs (default 20)' },
  },
  async run({ options, out, json, openBaton, parseInteger, command }) {
    const status = options.status
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter(Boolean);
    const unknown = status.filter((value) => !RUN_STATUSES.includes(value as RunStatus));
    if (unknown.length > 0) {
      throw new UsageError(
        `Unknown status ${unknown.map((value) => `'${value}'`).join(', ')}; use ${RUN_STATUSES.join(', ')}.`,
        command.name,
      );
    }
    const limit = parseInteger('limit', options.limit, { min: 1, max: 100_000 }) ?? 20;
    const baton = await openBaton({ readOnly: true });
    const list = await baton.listRuns({
      limit,
      ...(status.length > 0 ? { status: status as RunStatus[] } : {}),
      ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
      ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    });
    if (json) {
      out.json({ runs: list });
      return;
    }
    if (list.length === 0) {
      out.line('No runs.');
      return;
    }
    out.table(
      [
        { key: 'run', title: 'RUN' },
        { key: 'workflow', title: 'WORKFLOW' },
        { key: 'status', title: 'STATUS' },
        { key: 'events', title: 'EVENTS', align: 'right' },
        { key: 'created', title: 'CREATED (UTC)' },
        { key: 'updated', title: 'UPDATED (UTC)' },
        { key: 'principal', title: 'FOR' },
      ],
      list.map((run) => ({
        run: run.runId,
        workflow: run.workflow,
        status: statusText(out, run.status),
        events: String(run.lastSeq),
        created: formatDateTime(run.createdAt),
        updated: formatDateTime(run.updatedAt),
        principal: run.tenant === 'default' ? run.principal : `${run.principal} (${run.tenant})`,
      })),
    );
  },
});
