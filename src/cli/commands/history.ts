import { defineCommand } from '../command.ts';
import { summarizeEvent } from '../event-summary.ts';
import { formatDateTime, formatTimeOfDay, shortHash } from '../output.ts';

export const history = defineCommand({
  name: 'history',
  summary: "Print a run's journal: seq, time, type, actor, what happened, hash",
  args: [{ name: 'run', required: true, description: 'A run id (or an unambiguous start of one)' }],
  options: {
    from: { type: 'string', value: 'seq', description: 'Start at this seq (default 1)' },
    tenant: { type: 'string', value: 'tenant', description: 'Look in this tenant only' },
  },
  details: 'With --json, the events are printed whole: payloads, the chain of principals, both hashes.',
  async run({ args, options, out, json, openBaton, findRun, parseInteger }) {
    const from = parseInteger('from', options.from, { min: 1 }) ?? 1;
    const baton = await openBaton({ readOnly: true });
    const run = await findRun(
      baton,
      args.run!,
      options.tenant === undefined ? undefined : { tenant: options.tenant },
    );
    const events = await baton.store.readEvents(run.runId, from);
    if (json) {
      out.json({ runId: run.runId, workflow: run.workflow, status: run.status, events });
      return;
    }
    const first = events[0];
    out.line(
      `${out.style('bold', run.runId)} · ${run.workflow} · ${events.length} event(s)` +
        (first ? ` from ${formatDateTime(first.at)} UTC` : ''),
    );
    if (events.length === 0) return;
    // Time of day alone when the events share a date; the full date and time when they do not.
    const oneDay = first!.at.slice(0, 10) === events[events.length - 1]!.at.slice(0, 10);
    const time = oneDay ? formatTimeOfDay : formatDateTime;
    out.table(
      [
        { key: 'seq', title: 'SEQ', align: 'right' },
        { key: 'time', title: 'TIME (UTC)' },
        { key: 'type', title: 'TYPE' },
        { key: 'actor', title: 'ACTOR' },
        { key: 'hash', title: 'HASH' },
        { key: 'summary', title: 'SUMMARY' },
      ],
      events.map((event) => ({
        seq: String(event.seq),
        time: time(event.at),
        type: event.type,
        actor: event.onBehalfOf.length > 0 ? `${event.actor} for ${event.onBehalfOf[0]}` : event.actor,
        hash: out.style('dim', shortHash(event.hash)),
        summary: summarizeEvent(event),
      })),
    );
  },
});
