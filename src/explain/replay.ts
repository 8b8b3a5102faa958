import { ContinueAsNewRequest } from '../engine/continue-as-new.ts';
import type { WorkflowContext } from '../engine/context.ts';
import { RunContext, type ReplayOnlyObserver } from '../engine/context-impl.ts';
import type { ContextLayers } from '../engine/context-layer.ts';
import { ENGINE_FLAGS } from '../engine/engine-flags.ts';
import { History, keptEvents, readableOp } from '../engine/history.ts';
import type { PoolGate } from '../engine/pool-gate.ts';
import { RunJournal } from '../engine/run-journal.ts';
import type { WorkflowDefinition } from '../engine/workflow.ts';
import {
  BatonError,
  InvalidArgumentError,
  type NonDeterminismError,
  type SerializedError,
  serializeErrorWithoutStack,
} from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEvent } from '../journal/events.ts';
import type { RunRecord } from '../store/store.ts';
import { InvalidHistoryError } from './explain-errors.ts';
import { checkHistory } from './history-document.ts';

export interface ReplayOptions {
  /**
   * The context layers the live run had (src/context-layers.ts: `contextLayers({ access, agents })`
   * outside a Baton; `baton.replay` passes its own). Default: the engine's context alone.
   */
  layers?: ContextLayers<WorkflowContext>;
  /** Compare what the code returns with the result the history recorded. Default true. */
  checkResult?: boolean;
  /** Give up on code that neither finishes nor waits on a ctx call within this long, in ms. Default 30 000. */
  timeoutMs?: number;
  /** The run's tenant, as its ctx sees it. Default 'default'. */
  tenant?: string;
}

/** Where today's code first parts from a recorded history. */
export interface ReplayDivergence {
  /**
   * `mismatch`: at an op, the code asked for something else; `extra`: the code asked for more than
   * a finished history holds; `missing`: the code returned while recorded ops were left; `outcome`:
   * it ended otherwise (threw where the run completed, waits where it finished); `result`: it
   * returned another value than the recorded one.
   */
  kind: 'mismatch' | 'extra' | 'missing' | 'outcome' | 'result';
  /** The recorded event where it parted (absent when it is past the end of the history). */
  seq?: number;
  /** The ctx call, by its position among the run's ctx calls. */
  op?: number;
  /** What the history holds there. */
  recorded: string;
  /** What the code asked for, or did. */
  requested: string;
  message: string;
}

export interface ReplayReport {
  /** True when today's code reproduces the history (up to its end). */
  ok: boolean;
  runId: string;
  workflow: string;
  events: number;
  /** Recorded ops (ctx calls) in the history. */
  ops: number;
  /** How the recorded run ended. */
  recorded: 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'continued' | 'unfinished';
  /**
   * How the replay ended: the code returned, threw, continued as new (ctx.continueAsNew), waits
   * past the history's end, or did neither in time.
   */
  replayed: 'completed' | 'failed' | 'continued' | 'waiting' | 'stuck';
  divergence?: ReplayDivergence;
  /** For a history that ends before the run did: what the code asks for next (not a divergence). */
  next?: { op: number; wants: string };
  result?: unknown;
  error?: SerializedError;
}

/** Run failures that came from outside the workflow's code: a replay that does not reproduce them is fine. */
const EXTERNAL_FAILURES = new Set([
  'RUN_TIMEOUT',
  'RUN_CANCELLED',
  'RUN_UNREADABLE',
  'UNKNOWN_POOL',
  'NON_DETERMINISM',
  'WORKER_STOPPING',
]);

/**
 * Re-executes today's workflow code against a recorded history, with no side effects: every ctx
 * call is answered from the history, and nothing runs — no step function, model call or tool, no
 * write. Reports the first place the code parts from the history, precisely (seq, op, what the
 * history holds, what the code asked for). Use it before deploying a change, on golden histories
 * (`replayHistories` in 'baton/testing'), or on a live run (`baton replay <run>`).
 *
 * A history that ends before its run did (a run still waiting) replays up to its end; what the
 * code would do next is reported in `next`, not as a divergence.
 *
 * @example
 * const report = await replay(await baton.history(runId), support);
 * if (!report.ok) console.error(report.divergence!.message);
 * @throws InvalidHistoryError / HistoryFormatError (a newer journal format), InvalidArgumentError
 * when the history is of another workflow.
 */
export async function replay(
  history: readonly JournalEvent[] | { events: readonly JournalEvent[] },
  workflow: WorkflowDefinition<any, any, any>,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const events = checkHistory([...('events' in history ? history.events : history)]);
  const started = startOf(events, workflow);
  const end = recordedEnd(events);

  const watch: ReplayWatch = { mismatch: undefined, beyond: undefined };
  const observer: ReplayOnlyObserver = {
    finished: end.finished,
    beyondHistory: (op, describe, what) => void (watch.beyond ??= { op, describe, what }),
    diverged: (error, op) => void (watch.mismatch ??= { error, op }),
  };
  const last = events[events.length - 1]!;
  const run = runRecord(started, last, options.tenant);
  const history_ = new History(events);
  const context = replayContext(run, history_, last, observer);
  const ctx = options.layers
    ? options.layers.apply(context, { mode: 'replay', startedAt: context.startedAt })
    : context;
  const outcome = await runToRest(workflow, ctx, started, context, options.timeoutMs ?? 30_000);

  const report: ReplayReport = {
    ok: true,
    runId: run.runId,
    workflow: workflow.name,
    events: events.length,
    ops: history_.maxOp,
    recorded: end.recorded,
    replayed: replayedOf(outcome),
    ...(outcome.kind === 'returned' ? { result: outcome.value } : {}),
    ...(outcome.kind === 'threw' ? { error: serializeErrorWithoutStack(outcome.error) } : {}),
  };
  return judge({ report, end, watch, outcome, context, options });
}

/** How the workflow code's replay came to rest. */
type ReplayOutcome =
  | { kind: 'returned'; value: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'idle' }
  | { kind: 'stuck' };

/** What the replay-only context saw first: a mismatch, and a call past the history's end. */
interface ReplayWatch {
  mismatch: { error: NonDeterminismError; op: number } | undefined;
  beyond: { op: number; describe: string; what: 'op' | 'work' | 'write' } | undefined;
}

/** How the history says the run ended. */
interface RecordedEnd {
  ended: JournalEvent | undefined;
  recorded: ReplayReport['recorded'];
  failedByCode: boolean;
  /** The code's own path ended the run: what it did then is the whole of what it should do. */
  finished: boolean;
}

/** What judging a replay against its history needs. */
interface Judging {
  report: ReplayReport;
  end: RecordedEnd;
  watch: ReplayWatch;
  outcome: ReplayOutcome;
  context: RunContext;
  options: ReplayOptions;
}

/** The history's run.started, checked to be of this workflow and of flags this engine knows. */
function startOf(
  events: readonly JournalEvent[],
  workflow: WorkflowDefinition<any, any, any>,
): JournalEvent<'run.started'> {
  const started = events[0] as JournalEvent<'run.started'>;
  if (started.payload.workflow !== workflow.name) {
    throw new InvalidArgumentError(
      `The history is of workflow '${started.payload.workflow}', not '${workflow.name}'.`,
    );
  }
  const unknownFlags = (started.payload.flags ?? []).filter((flag) => !ENGINE_FLAGS.includes(flag));
  if (unknownFlags.length > 0) {
    throw new InvalidHistoryError({
      source: `run ${started.runId}`,
      reason: `it was written by a newer engine (flags ${unknownFlags.join(', ')}); upgrade Baton to replay it`,
    });
  }
  return started;
}

/** A resumed run's earlier end is voided (run.resumed): its end is the last one replay follows. */
function recordedEnd(events: readonly JournalEvent[]): RecordedEnd {
  const ended = keptEvents(events).find(
    (event) =>
      event.type === 'run.completed' ||
      event.type === 'run.failed' ||
      event.type === 'run.cancelled' ||
      event.type === 'run.continued' ||
      event.type === 'run.timedOut',
  );
  const recorded: ReplayReport['recorded'] = !ended
    ? 'unfinished'
    : ended.type === 'run.completed'
      ? 'completed'
      : ended.type === 'run.failed'
        ? 'failed'
        : ended.type === 'run.continued'
          ? 'continued'
          : ended.type === 'run.timedOut'
            ? 'timed_out'
            : 'cancelled';
  const failedByCode =
    recorded === 'failed' &&
    !EXTERNAL_FAILURES.has((ended!.payload as { error: SerializedError }).error.code ?? '');
  const finished = recorded === 'completed' || recorded === 'continued' || failedByCode;
  return { ended, recorded, failedByCode, finished };
}

/** A run context that answers from the history and refuses to run or write anything. */
function replayContext(
  run: RunRecord,
  history: History,
  last: JournalEvent,
  observer: ReplayOnlyObserver,
): RunContext {
  const clock = (): number => Date.parse(last.at);
  const refuse = (): Promise<never> =>
    Promise.reject(new BatonError('REPLAY_ONLY', 'A replay runs nothing and writes nothing.'));
  return new RunContext({
    run,
    history,
    journal: new RunJournal({
      runId: run.runId,
      owner: 'replay',
      lastSeq: last.seq,
      headHash: last.hash,
      committer: { commit: refuse },
      clock,
      identity: () => ({ actor: `workflow:${run.workflow}`, onBehalfOf: [run.principal] }),
    }),
    signals: [],
    clock,
    abort: new AbortController().signal,
    maxPayloadBytes: Number.MAX_SAFE_INTEGER,
    inlineRetryMs: 0,
    startChild: refuse,
    getRun: refuse,
    pools: REPLAY_POOLS,
    replayOnly: observer,
  });
}

/** Runs the workflow code until it returns, throws, waits on a ctx call, or is stuck past timeoutMs. */
async function runToRest(
  workflow: WorkflowDefinition<any, any, any>,
  ctx: WorkflowContext,
  started: JournalEvent<'run.started'>,
  context: RunContext,
  timeoutMs: number,
): Promise<ReplayOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<{ kind: 'stuck' }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'stuck' }), timeoutMs);
  });
  const execution = Promise.resolve()
    .then(() => workflow.fn(ctx, started.payload.input))
    .then(
      (value: unknown) => ({ kind: 'returned' as const, value }),
      (error: unknown) => ({ kind: 'threw' as const, error }),
    );
  return Promise.race([execution, context.idle.then(() => ({ kind: 'idle' as const })), stuck]).finally(() =>
    clearTimeout(timer),
  );
}

function replayedOf(outcome: ReplayOutcome): ReplayReport['replayed'] {
  return outcome.kind === 'returned'
    ? 'completed'
    : outcome.kind === 'threw'
      ? outcome.error instanceof ContinueAsNewRequest
        ? 'continued'
        : 'failed'
      : outcome.kind === 'idle'
        ? 'waiting'
        : 'stuck';
}

function diverge(
  report: ReplayReport,
  divergence: Omit<ReplayDivergence, 'message'>,
  message: string,
): ReplayReport {
  return { ...report, ok: false, divergence: { ...divergence, message } };
}

/** The report, or the first way the replay parted from its history. */
function judge(judging: Judging): ReplayReport {
  const { report, end, watch, outcome, context, options } = judging;
  if (watch.mismatch) {
    const { error, op } = watch.mismatch;
    return diverge(
      report,
      { kind: 'mismatch', seq: error.seq!, op, recorded: error.expected, requested: error.actual },
      error.message,
    );
  }
  if (outcome.kind === 'stuck') {
    return diverge(
      report,
      { kind: 'outcome', recorded: describeEnd(end.ended), requested: 'to finish or wait on a ctx call' },
      `The workflow neither finished nor waited on a ctx call within ${options.timeoutMs ?? 30_000} ms of replay: it awaits something other than ctx calls.`,
    );
  }
  if (outcome.kind === 'returned') {
    const untaken = context.unreplayed();
    if (untaken)
      return diverge(
        report,
        { kind: 'missing', seq: untaken.seq!, recorded: untaken.expected, requested: untaken.actual },
        untaken.message,
      );
  }
  if (watch.beyond) return beyondEnd(report, end, watch.beyond);
  return endDivergence(judging) ?? report;
}

/** The code asks for more than the history holds: what it waits for next, or past a finished end. */
function beyondEnd(
  report: ReplayReport,
  { ended, finished }: RecordedEnd,
  beyond: NonNullable<ReplayWatch['beyond']>,
): ReplayReport {
  const wants = `${readableOp(beyond.describe)}${beyond.what === 'op' ? '' : beyond.what === 'work' ? ' (to run it)' : ' (to write its result)'}`;
  if (!finished) return { ...report, next: { op: beyond.op, wants } };
  return diverge(
    report,
    {
      kind: 'extra',
      op: beyond.op,
      recorded: `the run to end at seq ${ended!.seq} (${ended!.type})`,
      requested: wants,
    },
    `Run ${report.runId} no longer matches its history after its end: the history ends at seq ${ended!.seq} with ${ended!.type}, ` +
      `but the workflow code now asks, at op ${beyond.op}, for ${wants}. Guard the change with ctx.patched(id).`,
  );
}

/** The code ends otherwise than the history's end (completed, continued, failed by the code). */
function endDivergence({ report, end, outcome, options }: Judging): ReplayReport | undefined {
  const { ended, recorded, failedByCode } = end;
  const runId = report.runId;
  if (recorded === 'completed')
    return completedDivergence(report, ended as JournalEvent<'run.completed'>, outcome, options);
  if (recorded === 'continued' && report.replayed !== 'continued') {
    return diverge(
      report,
      {
        kind: 'outcome',
        seq: ended!.seq,
        recorded: 'the run to continue as new',
        requested: report.replayed,
      },
      `Run ${runId} continued as a new run at seq ${ended!.seq}, but the workflow code now ${report.replayed === 'completed' ? `returns ${json(report.result)}` : report.replayed === 'failed' ? `throws ${report.error!.name}: ${report.error!.message}` : 'waits for more'}.`,
    );
  }
  if (failedByCode && outcome.kind !== 'threw') {
    return diverge(
      report,
      {
        kind: 'outcome',
        seq: ended!.seq,
        recorded: 'the run to fail',
        requested: outcome.kind === 'returned' ? 'to return' : 'to wait',
      },
      `Run ${runId} failed at seq ${ended!.seq}, but the workflow code now ${outcome.kind === 'returned' ? `returns ${json(report.result)}` : 'waits for more'}.`,
    );
  }
  return undefined;
}

/** The run completed: the code must return, and (unless told not to check) the same result. */
function completedDivergence(
  report: ReplayReport,
  completed: JournalEvent<'run.completed'>,
  outcome: ReplayOutcome,
  options: ReplayOptions,
): ReplayReport | undefined {
  const runId = report.runId;
  if (outcome.kind !== 'returned') {
    const now =
      outcome.kind === 'threw' ? `throws ${report.error!.name}: ${report.error!.message}` : 'waits for more';
    return diverge(
      report,
      {
        kind: 'outcome',
        seq: completed.seq,
        recorded: 'the run to complete',
        requested: outcome.kind === 'threw' ? 'to throw' : 'to wait',
      },
      `Run ${runId} completed at seq ${completed.seq}, but the workflow code now ${now}.`,
    );
  }
  if ((options.checkResult ?? true) && !sameJson(outcome.value, completed.payload.result)) {
    return diverge(
      report,
      {
        kind: 'result',
        seq: completed.seq,
        recorded: json(completed.payload.result),
        requested: json(outcome.value),
      },
      `Run ${runId} completed with ${json(completed.payload.result)} (seq ${completed.seq}), but the workflow code now returns ${json(outcome.value)}.`,
    );
  }
  return undefined;
}

/** Replay holds no pool slots: every pooled call is beyond the history or answered from it. */
const REPLAY_POOLS: PoolGate = {
  assertPool: () => {},
  run: (op) => op.block(),
  enterRun: () => Promise.resolve({ granted: true, release: () => Promise.resolve() }),
};

function runRecord(started: JournalEvent<'run.started'>, last: JournalEvent, tenant = 'default'): RunRecord {
  return {
    runId: started.runId,
    workflow: started.payload.workflow,
    tenant,
    principal: started.actor,
    status: 'running',
    input: started.payload.input,
    priority: 0,
    metadata: {},
    createdAt: Date.parse(started.at),
    updatedAt: Date.parse(last.at),
    lastSeq: last.seq,
    headHash: last.hash,
    wakeGen: 0,
    cancelRequested: false,
  };
}

function describeEnd(ended: JournalEvent | undefined): string {
  return ended ? `the run to end at seq ${ended.seq} (${ended.type})` : 'the run to go on';
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return (
      canonicalJson(a ?? null, 'The replayed result') === canonicalJson(b ?? null, 'The recorded result')
    );
  } catch {
    return false;
  }
}

function json(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
