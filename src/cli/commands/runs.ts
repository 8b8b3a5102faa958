import type { RunStatus } from '../../store/store.ts';
import { searchRuns } from '../../server/run-search.ts';
import { UsageError, defineCommand } from '../command.ts';
import { formatDateTime } from '../output.ts';
import { RUN_STATUSES, runJson, statusText } from '../run-format.ts';
import { openWaits, shortWait, type RunWait } from '../../journal/run-waits.ts';

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
    agent: { type: 'string', value: 'name', description: 'Only runs in which this agent ran' },
    since: {
      type: 'string',
      value: 'time',
      description: 'Only runs created at or after this time (ISO-8601, or epoch ms)',
    },
    until: { type: 'string', value: 'time', description: 'Only runs created before this time' },
    tenant: { type: 'string', value: 'tenant', description: 'Only runs of this tenant' },
    limit: { type: 'string', value: 'N', description: 'At most N runs (default 20)' },
  },
  details:
    "The filters are the HTTP API's (GET /api/runs): status, workflow, agent, since, until, tenant.\n" +
    'WAITING ON names what each parked run waits for: a signal, a timer, an approval, a child run,\n' +
    'a retry, or a tool call in doubt (`baton in-doubt`).',
  async run({ options, out, json, openStore, parseInteger, command }) {
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
    const since = parseTime('since', options.since, command.name);
    const until = parseTime('until', options.until, command.name);
    // Only the store: listing runs loads nothing above it.
    const store = await openStore();
    const { runs: list } = await searchRuns(
      { store },
      {
        // Without --tenant, every tenant's runs (the store's filter is left unset).
        tenant: options.tenant as string,
        limit,
        ...(status.length > 0 ? { status: status as RunStatus[] } : {}),
        ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
      },
    );
    // What each parked run waits on, from its journal.
    const waits = new Map<string, RunWait[]>();
    for (const run of list)
      if (run.status === 'waiting') waits.set(run.runId, openWaits(await store.readEvents(run.runId)));
    if (json) {
      out.json({
        runs: list.map((run) => ({
          ...runJson(run),
          ...(waits.has(run.runId) ? { waits: waits.get(run.runId) } : {}),
        })),
      });
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
        { key: 'waits', title: 'WAITING ON' },
        { key: 'events', title: 'EVENTS', align: 'right' },
        { key: 'created', title: 'CREATED (UTC)' },
        { key: 'updated', title: 'UPDATED (UTC)' },
        { key: 'principal', title: 'FOR' },
      ],
      list.map((run) => ({
        run: run.runId,
        workflow: run.workflow,
        status: statusText(out, run.status),
        waits:
          (waits.get(run.runId) ?? [])
            .map((wait) => shortWait(wait, (time) => formatDateTime(time).slice(11, 16)))
            .join(', ') || '-',
        events: String(run.lastSeq),
        created: formatDateTime(run.createdAt),
        updated: formatDateTime(run.updatedAt),
        principal: run.tenant === 'default' ? run.principal : `${run.principal} (${run.tenant})`,
      })),
    );
  },
});

/** A time given as ISO-8601 or epoch ms, as epoch ms (the API's rule). */
function parseTime(option: string, text: string | undefined, command: string): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value))
    throw new UsageError(
      `--${option} '${text}' is not a time: use ISO-8601 (2026-05-01T09:00Z) or epoch ms.`,
      command,
    );
  return value;
}
