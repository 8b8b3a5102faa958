import { defineCommand } from '../command.ts';
import { brief, formatDateTime, formatRelative, shortHash } from '../output.ts';
import { statusText } from '../run-format.ts';
import { describeWait, openWaits } from '../run-waits.ts';

export const show = defineCommand({
  name: 'show',
  summary: 'Show a run: its state, what it waits on, its result or error',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  },
  async run({ args, options, out, json, openBaton, findRun }) {
    const baton = await openBaton();
    const run = await findRun(
      baton,
      args.run!,
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    const [events, children, signals] = await Promise.all([
      baton.store.readEvents(run.runId),
      baton.store.listRuns({ parentRunId: run.runId, limit: 1000 }),
      baton.store.pendingSignals(run.runId),
    ]);
    const waits =
      run.status === 'waiting' || run.status === 'pending' || run.status === 'running'
        ? openWaits(events)
        : [];
    const childSummaries = children.map((child) => ({
      runId: child.runId,
      workflow: child.workflow,
      status: child.status,
    }));
    if (json) {
      out.json({ run, waits, children: childSummaries, pendingSignals: signals });
      return;
    }
    const now = Date.now();
    const rows: [string, string][] = [
      ['run', out.style('bold', run.runId)],
      ['workflow', run.workflow],
      [
        'status',
        `${statusText(out, run.status)}${run.cancelRequested && run.status !== 'cancelled' ? ' (cancel requested)' : ''}`,
      ],
      ['for', run.principal],
      ['tenant', run.tenant],
      ['created', `${formatDateTime(run.createdAt)} UTC (${formatRelative(run.createdAt, now)})`],
      ['updated', `${formatDateTime(run.updatedAt)} UTC (${formatRelative(run.updatedAt, now)})`],
      ['journal', `${run.lastSeq} events, head ${shortHash(run.headHash)}`],
    ];
    if (run.parentRunId) rows.push(['parent', run.parentRunId]);
    if (run.idempotencyKey) rows.push(['idempotency key', run.idempotencyKey]);
    if (run.priority !== 0) rows.push(['priority', String(run.priority)]);
    if (run.deadlineAt !== undefined)
      rows.push([
        'deadline',
        `${formatDateTime(run.deadlineAt)} UTC (${formatRelative(run.deadlineAt, now)})`,
      ]);
    if (run.leaseOwner)
      rows.push(['lease', `${run.leaseOwner} until ${formatDateTime(run.leaseExpiresAt ?? 0)} UTC`]);
    if (run.wakeAt !== undefined)
      rows.push(['wakes', `${formatDateTime(run.wakeAt)} UTC (${formatRelative(run.wakeAt, now)})`]);
    for (const wait of waits)
      rows.push(['waiting for', describeWait(wait, (iso) => `${formatDateTime(iso)} UTC`)]);
    if (signals.length > 0) rows.push(['pending signals', signals.map((signal) => signal.name).join(', ')]);
    rows.push(['input', brief(run.input, 200)]);
    if (run.status === 'completed') rows.push(['result', brief(run.result, 200)]);
    if (run.error) rows.push(['error', out.style('red', `${run.error.name}: ${run.error.message}`)]);
    if (run.cancelRequested || run.status === 'cancelled') {
      const { cancelledBy, cancelReason, cancelChildren } = run.metadata as Record<
        string,
        string | undefined
      >;
      const who = [cancelledBy && `by ${cancelledBy}`, cancelReason].filter(Boolean).join(': ');
      if (who || cancelChildren === 'abandon')
        rows.push([
          'cancelled',
          `${who || 'yes'}${cancelChildren === 'abandon' ? ' (children abandoned)' : ''}`,
        ]);
    }
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) out.line(`${out.style('dim', label.padEnd(width))}  ${value}`);
    if (childSummaries.length > 0) {
      out.line(out.style('dim', 'children'));
      for (const child of childSummaries)
        out.line(`  ${child.runId}  ${child.workflow}  ${statusText(out, child.status)}`);
    }
  },
});
