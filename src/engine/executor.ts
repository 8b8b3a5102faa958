import {
  BatonError,
  LeaseLostError,
  NonDeterminismError,
  NotSerializableError,
  PayloadTooLargeError,
  RunCancelledError,
  RunFinishedError,
  RunTimeoutError,
  UnknownPoolError,
  serializeError,
} from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import { isTerminal, type RunRecord, type SignalRecord, type Store } from '../store/store.ts';
import type { Committer } from './committer.ts';
import type { WorkflowContext } from './context.ts';
import type { ContextLayers } from './context-layer.ts';
import { CancelledError } from './cancellation-scope.ts';
import { checkPayload } from './check-payload.ts';
import { RunContext, type ChildStartRequest, type RunStreamSink } from './context-impl.ts';
import { ContinueAsNewRequest, lastOfChain } from './continue-as-new.ts';
import { CATCHABLE_CANCELLATION, hasFlag } from './engine-flags.ts';
import { MAX_TIMER_MS } from './duration.ts';
import { History } from './history.ts';
import type { PoolGate, RunSlot } from './pool-gate.ts';
import { RunJournal } from './run-journal.ts';
import type { WorkflowDefinition } from './workflow.ts';

/** Why an activation was stopped from outside. */
export class WorkerStoppingError extends BatonError {
  constructor() {
    super('WORKER_STOPPING', 'The worker is shutting down; the run is released to another worker.', {
      disposition: 'retryable',
    });
  }
}

/**
 * The reason given to work still listening when an activation ends (a step's abandoned promise).
 * Made without a stack trace: one is made per activation, and where it was made says nothing.
 */
function activationOver(): WorkerStoppingError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new WorkerStoppingError();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export interface ExecutorDeps {
  store: Store;
  committer: Committer;
  workflows: ReadonlyMap<string, WorkflowDefinition>;
  clock: () => number;
  maxPayloadBytes: number;
  inlineRetryMs: number;
  startChild: (request: ChildStartRequest) => Promise<string>;
  /** Starts (or, after a crash, finds) the successor of a run closed by ctx.continueAsNew. */
  startSuccessor?: (run: RunRecord, input: unknown) => Promise<string>;
  /** Told when this process asked a run (a child) to cancel, so a local activation stops at once. */
  onCancelRequested?: (runId: string, reason: string) => void;
  /** Resource pools steps and calls wait in (src/resources). */
  pools?: PoolGate;
  /** The context layers above the engine (src/context-layers.ts), put on each activation's context. */
  layers?: () => ContextLayers<WorkflowContext>;
  /** Told when an activation of a run begins. */
  onActivate?: (run: RunRecord) => void;
  /** Where runs' live stream parts go (src/engine/run-stream-writer.ts); none: runs stream nothing. */
  stream?: RunStreamSink;
  log: (message: string, error?: unknown) => void;
}

export type ActivationOutcome =
  | { status: 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'continued' }
  | { status: 'waiting'; wakeAt: number | undefined }
  | { status: 'released' | 'lost' };

/**
 * How the worker reaches an activation besides its abort signal: while `onCancelRequested` is set,
 * a cancel request goes there instead of stopping the activation. It is set from the activation's
 * start (a request during set-up is held), and stays set while the code runs for a run whose
 * cancellation the workflow can handle (engine flag CATCHABLE_CANCELLATION): the request is
 * delivered to its awaits.
 */
export interface ActivationControl {
  onCancelRequested?: () => void;
}

/**
 * Runs one activation of a leased run: replays its history through the workflow function, lets it
 * go on live, and ends by completing, failing, cancelling or parking the run. The abort signal
 * carries why it must stop early (lease lost, cancel requested, run timeout, worker stopping).
 */
export async function activate(
  deps: ExecutorDeps,
  run: RunRecord,
  owner: string,
  abort: AbortController,
  control: ActivationControl = {},
): Promise<ActivationOutcome> {
  // A cancel request that comes while the activation is being set up (reading the history, entering
  // a pool) is held until it is known whether the workflow can catch it: then a run that catches
  // its cancellation is told of it once its code runs, as if it had come a moment later.
  const early = { cancelRequested: false };
  control.onCancelRequested = () => void (early.cancelRequested = true);
  // The run's pending signals are read beside its history (one round trip less per activation);
  // only the lease holder consumes signals, so neither read can invalidate the other.
  const signals = deps.store.pendingSignals(run.runId);
  signals.catch(() => {}); // awaited below unless the activation ends before its workflow runs
  const events = await deps.store.readEvents(run.runId);
  const identity = { actor: `workflow:${run.workflow}`, onBehalfOf: [run.principal] } as const;
  const journal = new RunJournal({
    runId: run.runId,
    owner,
    lastSeq: run.lastSeq,
    headHash: run.headHash,
    committer: deps.committer,
    clock: deps.clock,
    identity: () => identity,
  });
  const started = events[0] as JournalEvent<'run.started'> | undefined;
  const definition = deps.workflows.get(run.workflow);
  if (!started || started.type !== 'run.started' || events.length !== run.lastSeq || !definition) {
    const reason = !definition
      ? `workflow '${run.workflow}' is not registered in this worker`
      : `its journal is inconsistent (${events.length} events, run row says ${run.lastSeq})`;
    return fail(
      deps,
      journal,
      run,
      new BatonError('RUN_UNREADABLE', `Run ${run.runId} cannot resume: ${reason}.`),
    );
  }

  const now = deps.clock();
  const catchable = hasFlag(started.payload.flags ?? [], CATCHABLE_CANCELLATION);
  if (!catchable) {
    control.onCancelRequested = undefined; // from here on a cancel request stops the activation
    if (run.cancelRequested || early.cancelRequested) return cancel(deps, journal, run);
  }
  if (run.deadlineAt !== undefined && now >= run.deadlineAt) {
    return timedOut(
      deps,
      journal,
      run,
      new RunTimeoutError({ runId: run.runId, timeoutMs: timeoutOf(run, events) }),
    );
  }

  const entered = await enterPool(deps, journal, run, definition);
  if (entered.outcome) return entered.outcome;
  const slot = entered.slot;

  const context = await runContext(deps, run, events, await signals, journal, abort);
  deps.onActivate?.(run);
  const ctx = deps.layers
    ? deps.layers().apply(context, { mode: 'live', startedAt: context.startedAt })
    : context;
  const cancellation: CancelDelivery = { delivering: undefined };
  if (catchable) listenForCancel(deps, run, context, control, cancellation, early.cancelRequested);

  const deadline = armDeadline(deps, run, events, abort);
  const aborted = new Promise<{ kind: 'aborted'; reason: unknown }>((resolve) => {
    if (abort.signal.aborted) resolve({ kind: 'aborted', reason: abort.signal.reason });
    abort.signal.addEventListener('abort', () => resolve({ kind: 'aborted', reason: abort.signal.reason }), {
      once: true,
    });
  });
  const execution = Promise.resolve()
    .then(() => definition.fn(ctx, started.payload.input))
    .then(
      (value) => ({ kind: 'returned' as const, value }),
      (error: unknown) => ({ kind: 'threw' as const, error }),
    );

  try {
    const outcome = await Promise.race([
      execution,
      context.idle.then(() => ({ kind: 'idle' as const })),
      aborted,
    ]);
    // The run's live stream holds all it made before the run ends or parks: a reader that sees
    // the end (or the wait) has seen every delta before it.
    if (deps.stream?.flush) await deps.stream.flush();
    if (journal.broken || (outcome.kind === 'aborted' && outcome.reason instanceof LeaseLostError)) {
      return { status: 'lost' };
    }
    return await settle({ deps, journal, run, context, abort, cancellation }, outcome);
  } catch (error) {
    if (journal.broken || error instanceof LeaseLostError) return { status: 'lost' };
    if (NotSerializableError.isInstance(error) || PayloadTooLargeError.isInstance(error))
      return fail(deps, journal, run, error);
    throw error;
  } finally {
    clearTimeout(deadline.timer);
    control.onCancelRequested = undefined;
    if (!abort.signal.aborted) abort.abort(activationOver());
    await slot?.release();
  }
}

/** How the workflow function's race ended. */
type ExecutionOutcome =
  | { kind: 'returned'; value: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'idle' }
  | { kind: 'aborted'; reason: unknown };

/** The delivery of a cancellation to a run that catches it, once started. */
interface CancelDelivery {
  delivering: Promise<void> | undefined;
}

/** What an activation's ending needs to know. */
interface Settling {
  deps: ExecutorDeps;
  journal: RunJournal;
  run: RunRecord;
  context: RunContext;
  abort: AbortController;
  cancellation: CancelDelivery;
}

/**
 * A workflow that names a pool holds one of its slots while it runs; without one, the run parks
 * (the outcome is then set).
 */
async function enterPool(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  definition: WorkflowDefinition,
): Promise<{ slot?: Extract<RunSlot, { granted: true }>; outcome?: ActivationOutcome }> {
  if (definition.options.pool === undefined || !deps.pools) return {};
  let entered: RunSlot;
  try {
    entered = await deps.pools.enterRun(run, definition.options.pool);
  } catch (error) {
    // The pool was removed from the configuration while the run waited in it.
    if (UnknownPoolError.isInstance(error)) return { outcome: await fail(deps, journal, run, error) };
    throw error;
  }
  if (!entered.granted) {
    const wakeAt = deps.clock() + entered.retryAfterMs;
    await journal.append([], { transition: { status: 'waiting', wakeAt, seenWakeGen: run.wakeGen } });
    return { outcome: { status: 'waiting', wakeAt } };
  }
  return { slot: entered };
}

/** The context the workflow function runs in for this activation. */
async function runContext(
  deps: ExecutorDeps,
  run: RunRecord,
  events: JournalEvent[],
  signals: SignalRecord[],
  journal: RunJournal,
  abort: AbortController,
): Promise<RunContext> {
  return new RunContext({
    run,
    history: new History(events),
    journal,
    signals,
    clock: deps.clock,
    abort: abort.signal,
    maxPayloadBytes: deps.maxPayloadBytes,
    inlineRetryMs: deps.inlineRetryMs,
    startChild: deps.startChild,
    // Children are awaited to the end of their chain of continue-as-new successors.
    getRun: (runId) => lastOfChain(deps.store, runId),
    cancelChild: (childRunId, reason) => requestChildCancel(deps, childRunId, reason),
    ...(deps.pools ? { pools: deps.pools } : {}),
    ...(deps.stream ? { stream: deps.stream } : {}),
  });
}

/** A run that catches its cancellation is told of it, once, while it runs. */
function listenForCancel(
  deps: ExecutorDeps,
  run: RunRecord,
  context: RunContext,
  control: ActivationControl,
  cancellation: CancelDelivery,
  requestedWhileSettingUp: boolean,
): void {
  const deliver = (known?: RunRecord): void => {
    cancellation.delivering ??= deliverCancel(deps, run, context, known).catch((error: unknown) =>
      deps.log(`run ${run.runId}: delivering its cancellation failed`, error),
    );
  };
  control.onCancelRequested = () => deliver();
  // Asked before this activation: the claimed record says who and why, so it is told at once.
  if (run.cancelRequested) deliver(run);
  // Asked while it was set up: who and why are read from the store.
  else if (requestedWhileSettingUp) deliver();
}

/** Aborts the activation at the run's deadline; the returned timer is cleared when it ends. */
function armDeadline(
  deps: ExecutorDeps,
  run: RunRecord,
  events: JournalEvent[],
  abort: AbortController,
): { timer: NodeJS.Timeout | undefined } {
  const deadline: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
  const deadlineAt = run.deadlineAt;
  if (deadlineAt === undefined) return deadline;
  // Timers longer than MAX_TIMER_MS fire at once, so a far deadline is re-armed in steps.
  const arm = (): void => {
    const remaining = deadlineAt - deps.clock();
    if (remaining <= MAX_TIMER_MS) {
      deadline.timer = setTimeout(
        () => abort.abort(new RunTimeoutError({ runId: run.runId, timeoutMs: timeoutOf(run, events) })),
        Math.max(0, remaining),
      );
    } else {
      deadline.timer = setTimeout(arm, MAX_TIMER_MS);
    }
  };
  arm();
  return deadline;
}

/** Ends the activation as its workflow function's race ended. */
async function settle(settling: Settling, outcome: ExecutionOutcome): Promise<ActivationOutcome> {
  const { deps, journal, run } = settling;
  switch (outcome.kind) {
    case 'returned':
      return completed(settling, outcome.value);
    case 'threw':
      return threw(settling, outcome.error);
    case 'idle':
      return parked(settling);
    case 'aborted':
      return stopped(deps, journal, run, outcome.reason);
  }
}

async function completed(
  { deps, journal, run, context }: Settling,
  result: unknown,
): Promise<ActivationOutcome> {
  const divergence = context.unreplayed();
  if (divergence) return fail(deps, journal, run, divergence);
  try {
    checkPayload(result ?? null, `The result of workflow '${run.workflow}'`, deps.maxPayloadBytes);
  } catch (error) {
    return fail(deps, journal, run, error);
  }
  await journal.append([{ type: 'run.completed', payload: { result } }], {
    transition: { status: 'completed', result },
  });
  return { status: 'completed' };
}

async function threw(
  { deps, journal, run, context, abort, cancellation }: Settling,
  error: unknown,
): Promise<ActivationOutcome> {
  if (abort.signal.aborted) return stopped(deps, journal, run, abort.signal.reason);
  if (error instanceof ContinueAsNewRequest && deps.startSuccessor)
    return continueAsNew(deps, journal, run, error.input);
  // The run was asked to cancel and let CancelledError escape: it ends as cancelled.
  const request = context.cancelRequest;
  if (request && CancelledError.isInstance(error)) {
    await cancellation.delivering;
    return cancel(deps, journal, run, request);
  }
  return fail(deps, journal, run, error);
}

async function parked({ journal, run, context }: Settling): Promise<ActivationOutcome> {
  const wakeAt = context.wakeAt;
  // A run that was told of its cancellation may wait (its cleanup waits on something).
  const cancelHandled = context.cancelRequest !== undefined;
  await journal.append([], {
    transition: {
      status: 'waiting',
      wakeAt,
      seenWakeGen: run.wakeGen,
      ...(cancelHandled ? { cancelHandled } : {}),
    },
  });
  return { status: 'waiting', wakeAt };
}

async function stopped(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  reason: unknown,
): Promise<ActivationOutcome> {
  if (reason instanceof RunCancelledError) return cancel(deps, journal, run);
  if (reason instanceof RunTimeoutError) return timedOut(deps, journal, run, reason);
  if (reason instanceof LeaseLostError) return { status: 'lost' };
  await journal.append([], { transition: { status: 'pending' } });
  return { status: 'released' };
}

async function fail(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  error: unknown,
): Promise<ActivationOutcome> {
  if (error instanceof NonDeterminismError) deps.log(error.message);
  const serialized = serializeError(error);
  await journal.append([{ type: 'run.failed', payload: { error: serialized } }], {
    transition: { status: 'failed', error: serialized },
  });
  return { status: 'failed' };
}

/** The run passed its deadline: its children are cancelled and it ends as `timed_out`. */
async function timedOut(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  error: RunTimeoutError,
): Promise<ActivationOutcome> {
  await cancelChildren(deps, run, 'the parent run timed out');
  const serialized = serializeError(error);
  await journal.append(
    [{ type: 'run.timedOut', payload: { timeoutMs: error.timeoutMs, error: serialized } }],
    {
      transition: { status: 'timed_out', error: serialized },
    },
  );
  return { status: 'timed_out' };
}

async function cancel(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  request?: { reason?: string; by?: string; children?: 'cancel' | 'abandon' },
): Promise<ActivationOutcome> {
  const fresh = request ? undefined : await deps.store.getRun(run.runId);
  const reason = request ? request.reason : (fresh?.metadata.cancelReason as string | undefined);
  const by = request ? request.by : (fresh?.metadata.cancelledBy as string | undefined);
  const children = request ? request.children : (fresh?.metadata.cancelChildren as string | undefined);
  if (children !== 'abandon') await cancelChildren(deps, run, 'the parent run was cancelled');
  await journal.append(
    [
      {
        type: 'run.cancelled',
        payload: { ...(reason === undefined ? {} : { reason }), ...(by === undefined ? {} : { by }) },
      },
    ],
    { transition: { status: 'cancelled' } },
  );
  return { status: 'cancelled' };
}

async function continueAsNew(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  input: unknown,
): Promise<ActivationOutcome> {
  let successor: string;
  try {
    successor = await deps.startSuccessor!(run, input);
  } catch (error) {
    // The successor could not start (its grant expired, its input is refused): the run fails with why.
    if (BatonError.isInstance(error) && error.disposition === 'terminal')
      return fail(deps, journal, run, error);
    throw error;
  }
  await journal.append([{ type: 'run.continued', payload: { runId: successor } }], {
    transition: { status: 'continued' },
  });
  return { status: 'continued' };
}

/**
 * A cancel request reached a run that handles its cancellation: it is journaled and raised at the
 * workflow's awaits (src/engine/context-impl.ts), and its children are asked to cancel now, unless
 * the request abandons them.
 */
async function deliverCancel(
  deps: ExecutorDeps,
  run: RunRecord,
  context: RunContext,
  known?: RunRecord,
): Promise<void> {
  const metadata = (known ?? (await deps.store.getRun(run.runId)) ?? run).metadata;
  const reason = metadata.cancelReason as string | undefined;
  const by = metadata.cancelledBy as string | undefined;
  const children = metadata.cancelChildren === 'abandon' ? 'abandon' : undefined;
  context.deliverCancel({
    ...(reason === undefined ? {} : { reason }),
    ...(by === undefined ? {} : { by }),
    ...(children === undefined ? {} : { children }),
  });
  const request = context.cancelRequest;
  if (request?.children !== 'abandon') await cancelChildren(deps, run, 'the parent run was cancelled');
}

/** Asks the run's children to cancel, but those started with `parentClose: 'abandon'`. */
async function cancelChildren(deps: ExecutorDeps, run: RunRecord, reason: string): Promise<void> {
  const children = await deps.store.listRuns({ parentRunId: run.runId, limit: 10_000 });
  for (const child of children) {
    if (isTerminal(child.status) || child.metadata.parentClose === 'abandon' || child.cancelRequested)
      continue;
    await requestChildCancel(deps, child.runId, reason);
  }
}

async function requestChildCancel(deps: ExecutorDeps, childRunId: string, reason: string): Promise<void> {
  try {
    await deps.store.requestCancel(childRunId, reason, deps.clock());
  } catch (error) {
    if (!RunFinishedError.isInstance(error)) throw error;
    return;
  }
  deps.onCancelRequested?.(childRunId, reason);
}

/** The run's timeout: from its `run.started`, or from the last resume that set a new one. */
function timeoutOf(run: RunRecord, events: readonly JournalEvent[]): number {
  const resumed = events.findLast((event) => event.type === 'run.resumed');
  if (resumed) return resumed.payload.timeoutMs ?? 0;
  return (events[0] as JournalEvent<'run.started'>).payload.timeoutMs ?? 0;
}
