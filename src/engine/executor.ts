import {
  BatonError,
  LeaseLostError,
  NonDeterminismError,
  RunCancelledError,
  RunTimeoutError,
  serializeError,
} from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import { isTerminal, type RunRecord, type Store } from '../store/store.ts';
import type { Committer } from './committer.ts';
import { RunContext, checkPayload, type ChildStartRequest } from './context-impl.ts';
import { ContinueAsNewRequest, lastOfChain } from './continue-as-new.ts';
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
  /** Wraps the engine's context with the layers above it (agents…). */
  extendContext?: (ctx: RunContext) => RunContext;
  log: (message: string, error?: unknown) => void;
}

export type ActivationOutcome =
  | { status: 'completed' | 'failed' | 'cancelled' | 'continued' }
  | { status: 'waiting'; wakeAt: number | undefined }
  | { status: 'released' | 'lost' };

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
): Promise<ActivationOutcome> {
  const events = await deps.store.readEvents(run.runId);
  const journal = new RunJournal({
    runId: run.runId,
    owner,
    lastSeq: run.lastSeq,
    headHash: run.headHash,
    committer: deps.committer,
    clock: deps.clock,
    identity: () => ({ actor: `workflow:${run.workflow}`, onBehalfOf: [run.principal] }),
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
  if (run.cancelRequested) return cancel(deps, journal, run);
  if (run.deadlineAt !== undefined && now >= run.deadlineAt) {
    return fail(
      deps,
      journal,
      run,
      new RunTimeoutError({ runId: run.runId, timeoutMs: started.payload.timeoutMs ?? 0 }),
    );
  }

  // A workflow that names a pool holds one of its slots while it runs; without one, the run parks.
  let slot: Extract<RunSlot, { granted: true }> | undefined;
  if (definition.options.pool !== undefined && deps.pools) {
    let entered: RunSlot;
    try {
      entered = await deps.pools.enterRun(run, definition.options.pool);
    } catch (error) {
      // The pool was removed from the configuration while the run waited in it.
      if (BatonError.isInstance(error) && error.code === 'UNKNOWN_POOL')
        return fail(deps, journal, run, error);
      throw error;
    }
    if (!entered.granted) {
      const wakeAt = deps.clock() + entered.retryAfterMs;
      await journal.append([], { transition: { status: 'waiting', wakeAt, seenWakeGen: run.wakeGen } });
      return { status: 'waiting', wakeAt };
    }
    slot = entered;
  }

  const signals = await deps.store.pendingSignals(run.runId);
  const context = new RunContext({
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
    ...(deps.pools ? { pools: deps.pools } : {}),
  });
  const ctx = deps.extendContext ? deps.extendContext(context) : context;

  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadlineAt = run.deadlineAt;
  if (deadlineAt !== undefined) {
    // Timers longer than MAX_TIMER_MS fire at once, so a far deadline is re-armed in steps.
    const armDeadline = (): void => {
      const remaining = deadlineAt - deps.clock();
      if (remaining <= MAX_TIMER_MS) {
        deadlineTimer = setTimeout(
          () =>
            abort.abort(new RunTimeoutError({ runId: run.runId, timeoutMs: started.payload.timeoutMs ?? 0 })),
          Math.max(0, remaining),
        );
      } else {
        deadlineTimer = setTimeout(armDeadline, MAX_TIMER_MS);
      }
    };
    armDeadline();
  }
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
    if (journal.broken || (outcome.kind === 'aborted' && outcome.reason instanceof LeaseLostError)) {
      return { status: 'lost' };
    }
    switch (outcome.kind) {
      case 'returned': {
        const divergence = context.unreplayed();
        if (divergence) return await fail(deps, journal, run, divergence);
        const result = outcome.value;
        try {
          checkPayload(result ?? null, `The result of workflow '${run.workflow}'`, deps.maxPayloadBytes);
        } catch (error) {
          return await fail(deps, journal, run, error);
        }
        await journal.append([{ type: 'run.completed', payload: { result } }], {
          transition: { status: 'completed', result },
        });
        return { status: 'completed' };
      }
      case 'threw': {
        const error = outcome.error;
        if (abort.signal.aborted) return await stopped(deps, journal, run, abort.signal.reason);
        if (error instanceof ContinueAsNewRequest && deps.startSuccessor)
          return await continueAsNew(deps, journal, run, error.input);
        return await fail(deps, journal, run, error);
      }
      case 'idle': {
        const wakeAt = context.wakeAt;
        await journal.append([], { transition: { status: 'waiting', wakeAt, seenWakeGen: run.wakeGen } });
        return { status: 'waiting', wakeAt };
      }
      case 'aborted':
        return await stopped(deps, journal, run, outcome.reason);
    }
    throw new Error('unreachable');
  } catch (error) {
    if (journal.broken || error instanceof LeaseLostError) return { status: 'lost' };
    if (BatonError.isInstance(error) && error.code === 'NOT_SERIALIZABLE')
      return fail(deps, journal, run, error);
    if (BatonError.isInstance(error) && error.code === 'PAYLOAD_TOO_LARGE')
      return fail(deps, journal, run, error);
    throw error;
  } finally {
    clearTimeout(deadlineTimer);
    if (!abort.signal.aborted) abort.abort(new WorkerStoppingError());
    await slot?.release();
  }
}

async function stopped(
  deps: ExecutorDeps,
  journal: RunJournal,
  run: RunRecord,
  reason: unknown,
): Promise<ActivationOutcome> {
  if (reason instanceof RunCancelledError) return cancel(deps, journal, run);
  if (reason instanceof RunTimeoutError) return fail(deps, journal, run, reason);
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
  if (error instanceof RunTimeoutError) await cancelChildren(deps, run, 'the parent run timed out');
  const serialized = serializeError(error);
  await journal.append([{ type: 'run.failed', payload: { error: serialized } }], {
    transition: { status: 'failed', error: serialized },
  });
  return { status: 'failed' };
}

async function cancel(deps: ExecutorDeps, journal: RunJournal, run: RunRecord): Promise<ActivationOutcome> {
  const fresh = await deps.store.getRun(run.runId);
  const reason = fresh?.metadata.cancelReason as string | undefined;
  await cancelChildren(deps, run, 'the parent run was cancelled');
  await journal.append([{ type: 'run.cancelled', payload: reason === undefined ? {} : { reason } }], {
    transition: { status: 'cancelled' },
  });
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

async function cancelChildren(deps: ExecutorDeps, run: RunRecord, reason: string): Promise<void> {
  const children = await deps.store.listRuns({ parentRunId: run.runId, limit: 10_000 });
  for (const child of children) {
    if (isTerminal(child.status)) continue;
    try {
      await deps.store.requestCancel(child.runId, reason, deps.clock());
    } catch (error) {
      if (!(BatonError.isInstance(error) && error.code === 'RUN_FINISHED')) throw error;
      continue;
    }
    deps.onCancelRequested?.(child.runId, reason);
  }
}
