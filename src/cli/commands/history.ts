import type { JournalEvent } from '../../journal/events.ts';
import { defineCommand } from '../command.ts';
import { agentEventLine } from '../event-lines.ts';
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
  details:
    'Agents, model calls and tools read as one line each (what was asked, what came back, tokens,\n' +
    'time); lines are cut to the terminal width, and the hash prefix shows from 140 columns. With --json, the events are printed whole: payloads,\n' +
    'the chain of principals, both hashes.',
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
    // The hash prefix only where there is room for it: the summary comes first.
    const withHash = out.columns >= 140;
    out.table(
      [
        { key: 'seq', title: 'SEQ', align: 'right' },
        { key: 'time', title: 'TIME (UTC)' },
        { key: 'type', title: 'TYPE' },
        { key: 'actor', title: 'ACTOR' },
        ...(withHash ? [{ key: 'hash' as const, title: 'HASH' }] : []),
        { key: 'summary', title: 'SUMMARY' },
      ],
      events.map((event) => ({
        seq: String(event.seq),
        time: time(event.at),
        type: event.type,
        actor: actorOf(event),
        hash: out.style('dim', shortHash(event.hash)),
        summary: agentEventLine(event, out.style.bind(out)) ?? summarizeEvent(event, 200),
      })),
      { fit: true },
    );
  },
});

/** Who acted, and for whom: the person (or service) at the top of the chain, not the workflow between. */
function actorOf(event: JournalEvent): string {
  const principal = event.onBehalfOf.at(-1);
  return principal === undefined ? event.actor : `${event.actor} for ${principal}`;
}
