import { setTimeout as delay } from 'node:timers/promises';
import type { Baton } from '../baton.ts';
import type { JournalEvent } from '../journal/events.ts';
import { successorOf } from '../engine/continue-as-new.ts';
import { isTerminal, type RunRecord } from '../store/store.ts';
import { summarizeEvent } from './event-summary.ts';
import { formatDuration, formatTimeOfDay, type Output } from './output.ts';
import { describeWait, openWaits, type RunWait } from './run-waits.ts';

export interface FollowOptions {
  baton: Baton;
  runId: string;
  out: Output;
  /** Stops following (the run itself goes on). */
  signal: AbortSignal;
  /** Print each journal event as it lands. */
  printEvents: boolean;
  /** A run parked on a timer (or retry) due within this long is waited for; parked longer, following ends. Default 60 s. */
  waitHorizonMs?: number;
  /** How often the journal is read. Default 50 ms. */
  pollMs?: number;
}

export interface FollowEnd {
  /** finished: completed, failed or cancelled. parked: waiting on something not due soon. interrupted: the signal fired. */
  reason: 'finished' | 'parked' | 'interrupted';
  run: RunRecord;
  waits: RunWait[];
}

/**
 * Follows a run through its journal until it finishes, parks on something not due soon, or the
 * caller stops following. Reads the store, so it follows a run executed by any worker, in this
 * process or another. On a terminal, a spinner line shows the elapsed time and what the run is doing.
 */
export async function followRun(options: FollowOptions): Promise<FollowEnd> {
  const { baton, out } = options;
  let runId = options.runId;
  const horizon = options.waitHorizonMs ?? 60_000;
  const pollMs = options.pollMs ?? 50;
  const began = Date.now();
  const events: JournalEvent[] = [];
  let lastSeq = 0;
  let run = await baton.getRun(runId);
  let doing = 'starting';

  const spinner = out.spinner(() => `${run.status} · ${formatDuration(Date.now() - began)} · ${doing}`);
  try {
    for (;;) {
      run = await baton.getRun(runId);
      const fresh = await baton.store.readEvents(runId, lastSeq + 1);
      for (const event of fresh) {
        events.push(event);
        lastSeq = event.seq;
        if (options.printEvents) out.line(formatEventLine(event, out));
        doing = `last: ${event.type} ${summarizeEvent(event, 40)}`;
      }
      // A run continued as new (ctx.continueAsNew): follow its successor, whose journal starts afresh.
      const successor = run.status === 'continued' ? successorOf(events) : undefined;
      if (successor !== undefined) {
        if (options.printEvents) out.line(out.style('dim', `continued as ${successor}`));
        runId = successor;
        events.length = 0;
        lastSeq = 0;
        continue;
      }
      if (isTerminal(run.status)) return { reason: 'finished', run, waits: [] };
      const waits = openWaits(events);
      if (run.status === 'waiting') {
        const dueIn = run.wakeAt === undefined ? Infinity : run.wakeAt - Date.now();
        if (dueIn > horizon) return { reason: 'parked', run, waits };
        doing = `waiting for ${waits.map((wait) => describeWait(wait, formatTimeOfDay)).join(', ') || 'a wake-up'} (due in ${formatDuration(Math.max(0, dueIn))})`;
      }
      if (options.signal.aborted) return { reason: 'interrupted', run, waits };
      await delay(pollMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  } finally {
    spinner.stop();
  }
}

/** `   5  06:19:17.123  step.completed       load-account → {...}` */
export function formatEventLine(event: JournalEvent, out: Output): string {
  return `${out.style('dim', String(event.seq).padStart(4))}  ${out.style('dim', formatTimeOfDay(event.at))}  ${event.type.padEnd(20)} ${summarizeEvent(event)}`;
}
