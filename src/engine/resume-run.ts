import { InvalidArgumentError, RunNotFoundError, RunNotResumableError } from '../errors.ts';
import { eventOp, type JournalEvent } from '../journal/events.ts';
import { sealEvent } from '../journal/hash-chain.ts';
import type { RunRecord, Store, TenantScope } from '../store/store.ts';
import { toMilliseconds, type Duration } from './duration.ts';
import { keptEvents } from './history.ts';

export interface ResumeInPlaceOptions {
  /** Who resumes the run (journaled in `run.resumed`). Default `user:anonymous`. */
  as?: string;
  /** Why (journaled). */
  reason?: string;
  /** A new deadline from now. Without it, the resumed run has none. */
  timeout?: Duration;
  tenant?: string;
}

/** The final failures of an op: what a resume of a failed run tries again. */
const OP_FAILURES = new Set(['step.failed', 'child.failed', 'llm.failed', 'signal.timedOut']);

/**
 * Resumes a failed, timed-out or cancelled run under its own id from where it stopped (DBOS's
 * `resumeWorkflow`, Temporal's reset to the last point): journals `run.resumed` with who and why,
 * and the run is pending again. Replay then ignores the events from `voidFromSeq` on (they stay in
 * the journal): for a failed run, the final failure of the op that ended it (so that op is tried
 * again) or, when the code itself threw, only `run.failed`; for a timed-out run, `run.timedOut`; for
 * a cancelled run, the cancel request and everything after it (the cleanup included).
 *
 * @throws RunNotFoundError, RunNotResumableError (running, waiting, pending or completed).
 */
export async function resumeInPlace(
  deps: { store: Store; clock: () => number },
  run: RunRecord,
  options: ResumeInPlaceOptions = {},
): Promise<RunRecord> {
  if (run.status !== 'failed' && run.status !== 'cancelled' && run.status !== 'timed_out')
    throw new RunNotResumableError({ runId: run.runId, status: run.status });
  const by = options.as ?? 'user:anonymous';
  if (!/^[a-z][a-z0-9_-]*:.+$/.test(by)) {
    throw new InvalidArgumentError(`A principal reads 'kind:name' (user:alice, service:cron), got '${by}'.`);
  }
  const timeoutMs =
    options.timeout === undefined ? undefined : toMilliseconds(options.timeout, 'resume timeout');
  const scope: TenantScope | undefined =
    options.tenant === undefined ? undefined : { tenant: options.tenant };
  const events = await deps.store.readEvents(run.runId, 1, scope);
  if (events.length === 0) throw new RunNotFoundError({ runId: run.runId });
  const now = deps.clock();
  const resumed = sealEvent<'run.resumed'>({
    runId: run.runId,
    seq: run.lastSeq + 1,
    type: 'run.resumed',
    at: new Date(now).toISOString(),
    actor: by,
    onBehalfOf: [],
    payload: {
      by,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      from: run.status,
      voidFromSeq: voidFrom(run.status, keptEvents(events)),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
    prevHash: run.headHash,
  });
  return deps.store.reopenRun(
    run.runId,
    resumed,
    { now, ...(timeoutMs === undefined ? {} : { deadlineAt: now + timeoutMs }) },
    scope,
  );
}

/** Where replay stops following the journal of a run resumed from `status`. */
export function voidFrom(
  status: 'failed' | 'cancelled' | 'timed_out',
  events: readonly JournalEvent[],
): number {
  const last = events[events.length - 1]!;
  if (status === 'timed_out')
    return events.findLast((event) => event.type === 'run.timedOut')?.seq ?? last.seq;
  if (status === 'cancelled') {
    const requested = events.findLast((event) => event.type === 'run.cancelRequested');
    return (requested ?? events.findLast((event) => event.type === 'run.cancelled') ?? last).seq;
  }
  const failed = events.findLastIndex((event) => event.type === 'run.failed');
  if (failed < 0) return last.seq;
  // The op whose failure ended the run: the last final failure, followed only by its own events
  // and the failures it caused (an agent's, a pattern's).
  for (let index = failed - 1; index >= 0; index--) {
    const event = events[index]!;
    if (!OP_FAILURES.has(event.type)) {
      if (event.type.endsWith('.failed')) continue;
      break;
    }
    const op = eventOp(event);
    const after = events.slice(index + 1, failed);
    if (after.every((later) => eventOp(later) === op || later.type.endsWith('.failed'))) return event.seq;
    break;
  }
  return events[failed]!.seq;
}
