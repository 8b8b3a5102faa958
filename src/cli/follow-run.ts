import type { Baton } from '../baton.ts';
import type { RunStreamPart } from '../engine/run-stream-parts.ts';
import type { JournalEvent } from '../journal/events.ts';
import { successorOf } from '../engine/continue-as-new.ts';
import { isTerminal, type RunRecord } from '../store/store.ts';
import { summarizeEvent } from './event-summary.ts';
import { formatDuration, formatTimeOfDay, type Output } from './output.ts';
import { describeWait, openWaits, type RunWait } from '../journal/run-waits.ts';

export interface FollowOptions {
  baton: Baton;
  runId: string;
  out: Output;
  /** Stops following (the run itself goes on). */
  signal: AbortSignal;
  /** Print each journal event as it lands. */
  printEvents: boolean;
  /** Print models' text as it streams (default: as printEvents). */
  printTokens?: boolean;
  /** A run parked on a timer (or retry) due within this long is waited for; parked longer, following ends. Default 60 s. */
  waitHorizonMs?: number;
  /** Keep following a run that parks, whatever it waits for (`baton follow`). Default false. */
  throughParks?: boolean;
  /** Resume after this cursor of the run's stream (as a part's `cursor` gave it). */
  after?: string;
  /** Called with every part of the run's stream (`baton follow --json`). */
  onPart?: (part: RunStreamPart) => void;
}

export interface FollowEnd {
  /** finished: completed, failed or cancelled. parked: waiting on something not due soon. interrupted: the signal fired. */
  reason: 'finished' | 'parked' | 'interrupted';
  run: RunRecord;
  waits: RunWait[];
}

/**
 * Follows a run through its live stream (its journal events and the deltas of work in flight)
 * until it finishes, parks on something not due soon, or the caller stops following. Reads the
 * store, so it follows a run executed by any worker, in this process or another; models' text is
 * printed as it streams. On a terminal, a spinner line shows the elapsed time and what the run is doing.
 */
export async function followRun(options: FollowOptions): Promise<FollowEnd> {
  const { baton, out } = options;
  const printTokens = options.printTokens ?? options.printEvents;
  const horizon = options.waitHorizonMs ?? 60_000;
  const began = Date.now();
  let runId = options.runId;
  let after = options.after;
  let run = await baton.getRun(runId);
  let doing = 'starting';
  const spinner = out.spinner(() => `${run.status} · ${formatDuration(Date.now() - began)} · ${doing}`);
  const text = new TextLine(out);
  try {
    for (;;) {
      const events: JournalEvent[] = [];
      let parked: FollowEnd | undefined;
      const stop = new AbortController();
      const onAbort = (): void => stop.abort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const part of baton.stream(runId, { signal: stop.signal, ...(after ? { after } : {}) })) {
          options.onPart?.(part);
          switch (part.type) {
            case 'event':
              events.push(part.event);
              text.end();
              if (options.printEvents) out.line(formatEventLine(part.event, out));
              doing = `last: ${part.event.type} ${summarizeEvent(part.event, 40)}`;
              break;
            case 'text-delta':
              if (printTokens) text.add(part.op, part.agent, part.delta);
              doing = `${part.agent} is answering`;
              break;
            case 'step-started':
              doing = `running step ${part.name}`;
              break;
            case 'interrupted':
              text.end();
              if (options.printEvents) out.line(out.style('yellow', `      interrupted: ${part.reason}`));
              break;
            case 'model-finish':
            case 'model-error':
              text.end();
              break;
            case 'progress':
              text.end();
              if (options.printEvents)
                out.line(out.style('dim', `      progress ${JSON.stringify(part.data)}`));
              break;
            case 'waiting':
              text.end();
              run = await baton.getRun(runId);
              parked = options.throughParks ? undefined : parkedBeyond(run, openWaits(events), horizon);
              if (parked) stop.abort();
              else doing = describeParked(run, openWaits(events));
              break;
            default:
              break;
          }
        }
      } finally {
        options.signal.removeEventListener('abort', onAbort);
      }
      text.end();
      run = await baton.getRun(runId);
      if (parked) return { ...parked, run };
      if (options.signal.aborted) return { reason: 'interrupted', run, waits: openWaits(events) };
      // A run continued as new (ctx.continueAsNew): follow its successor, whose journal starts afresh.
      const successor =
        run.status === 'continued' ? successorOf(await baton.store.readEvents(runId)) : undefined;
      if (successor !== undefined) {
        if (options.printEvents) out.line(out.style('dim', `continued as ${successor}`));
        runId = successor;
        after = undefined;
        continue;
      }
      if (isTerminal(run.status)) return { reason: 'finished', run, waits: [] };
    }
  } finally {
    text.end();
    spinner.stop();
  }
}

function parkedBeyond(run: RunRecord, waits: RunWait[], horizon: number): FollowEnd | undefined {
  if (run.status !== 'waiting') return undefined;
  const dueIn = run.wakeAt === undefined ? Infinity : run.wakeAt - Date.now();
  return dueIn > horizon ? { reason: 'parked', run, waits } : undefined;
}

function describeParked(run: RunRecord, waits: RunWait[]): string {
  const dueIn = run.wakeAt === undefined ? undefined : Math.max(0, run.wakeAt - Date.now());
  const what = waits.map((wait) => describeWait(wait, formatTimeOfDay)).join(', ') || 'a wake-up';
  return `waiting for ${what}${dueIn === undefined ? '' : ` (due in ${formatDuration(dueIn)})`}`;
}

/** A model's text printed as it streams, on a line of its own that says which agent speaks. */
class TextLine {
  readonly #out: Output;
  #op: number | undefined;

  constructor(out: Output) {
    this.#out = out;
  }

  add(op: number, agent: string, delta: string): void {
    if (this.#op !== op) {
      this.end();
      this.#op = op;
      this.#out.write(`${this.#out.style('dim', '      ')}${this.#out.style('cyan', `${agent}:`)} `);
    }
    this.#out.write(delta.replace(/\n/g, '\n        '));
  }

  end(): void {
    if (this.#op === undefined) return;
    this.#op = undefined;
    this.#out.line();
  }
}

/** `   5  06:19:17.123  step.completed       load-account → {...}` */
export function formatEventLine(event: JournalEvent, out: Output): string {
  return `${out.style('dim', String(event.seq).padStart(4))}  ${out.style('dim', formatTimeOfDay(event.at))}  ${event.type.padEnd(20)} ${summarizeEvent(event)}`;
}
