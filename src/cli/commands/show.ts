import { dirname, resolve } from 'node:path';
import { findVerificationKey } from '../../access/deployment-key.ts';
import { runView } from '../../access/run-view.ts';
import { defineCommand } from '../command.ts';
import { brief, formatDateTime, formatRelative, shortHash, truncate } from '../output.ts';
import { runJson, statusText } from '../run-format.ts';
import { describeWait, openWaits } from '../../journal/run-waits.ts';
import { latestValues } from '../../engine/published-values.ts';

export const show = defineCommand({
  name: 'show',
  summary: 'Show a run: its state, what it waits on, its result or error',
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
    key: {
      type: 'string',
      value: 'file',
      description:
        "The public key to check the run's signatures with. Default: the config's signing key, or .baton/keys",
    },
  },
  details:
    'What the journal holds (principal, tenant, input, status, result, parent) is shown from the journal;\n' +
    'a run record that disagrees with it is reported. With the deployment key, signatures are checked too.',
  async run({ args, options, out, json, cwd, loadConfig, openBaton, findRun }) {
    const baton = await openBaton({ readOnly: true });
    const record = await findRun(
      baton,
      args.run!,
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    const [events, children, signals] = await Promise.all([
      baton.store.readEvents(record.runId),
      baton.store.listRuns({ parentRunId: record.runId, limit: 1000 }),
      baton.store.pendingSignals(record.runId),
    ]);
    // What the journal holds is shown from the journal; a record that disagrees is reported.
    const loaded = await loadConfig();
    const found = await findVerificationKey({
      ...(options.key === undefined ? {} : { keyFile: resolve(cwd, options.key) }),
      ...(loaded.config?.signing ? { signing: loaded.config.signing } : {}),
      projectDir: loaded.path ? dirname(loaded.path) : cwd,
    });
    const { run, evidence } = await runView(
      baton.store,
      record,
      events,
      found?.key,
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    const waits =
      run.status === 'waiting' || run.status === 'pending' || run.status === 'running'
        ? openWaits(events)
        : [];
    const published = [...latestValues(events).values()];
    const childSummaries = children.map((child) => ({
      runId: child.runId,
      workflow: child.workflow,
      status: child.status,
    }));
    if (json) {
      out.json({
        run: runJson(run),
        evidence,
        waits,
        children: childSummaries,
        pendingSignals: signals.map((signal) => ({
          ...signal,
          sentAt: new Date(signal.sentAt).toISOString(),
        })),
        published,
      });
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
    // Values the run published (ctx.setEvent): the progress of long work, for one.
    for (const entry of published) rows.push([`event ${entry.key}`, brief(entry.value, 200)]);
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) out.line(`${out.style('dim', label.padEnd(width))}  ${value}`);
    if (!evidence.consistent) {
      out.line(out.style('red', '✗ This run does not verify; shown above is what its journal holds.'));
      if (evidence.broken)
        out.line(out.style('red', `  seq ${evidence.broken.seq}: ${evidence.broken.reason}`));
      for (const problem of evidence.signatures?.problems ?? []) out.line(out.style('red', `  ${problem}`));
      for (const disagreement of evidence.disagreements)
        out.line(
          out.style(
            'red',
            `  ${disagreement.field}: the record reads ${truncate(disagreement.record, 80)}, the journal ${truncate(disagreement.journal, 80)}`,
          ),
        );
      out.line(out.style('red', `  Run 'baton verify ${run.runId}' to check its signatures.`));
    }
    if (childSummaries.length > 0) {
      out.line(out.style('dim', 'children'));
      for (const child of childSummaries)
        out.line(`  ${child.runId}  ${child.workflow}  ${statusText(out, child.status)}`);
    }
  },
});
