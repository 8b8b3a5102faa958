import { AsyncLocalStorage } from 'node:async_hooks';
import { BatonError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import type { RunRecord, Store } from '../store/store.ts';

/**
 * Set while a step's function runs (the step's name), so ctx calls that may not run inside a step
 * can tell.
 */
export const stepScope = new AsyncLocalStorage<string>();

/**
 * Thrown by `ctx.continueAsNew(input)`: the executor closes the run as `continued` and starts its
 * successor with `input`. Not an error of the workflow; let it propagate (a catch-all that swallows
 * it keeps the run going).
 */
export class ContinueAsNewRequest extends BatonError {
  readonly input: unknown;
  constructor(args: { runId: string; input: unknown }) {
    super(
      'CONTINUE_AS_NEW',
      `Run ${args.runId} continues as a new run. (This is how ctx.continueAsNew ends a run: rethrow it if you catch it.)`,
    );
    this.input = args.input;
  }
}

/** ctx.continueAsNew was called from inside a step's function. */
export class ContinueAsNewInStepError extends BatonError {
  constructor(args: { runId: string; step: string }) {
    super(
      'CONTINUE_AS_NEW_IN_STEP',
      `Run ${args.runId} called ctx.continueAsNew inside step '${args.step}'. A step's function does outside ` +
        `work and returns; call ctx.continueAsNew from the workflow, after the step has returned.`,
    );
  }
}

/** The successor a continued run's journal names (its `run.continued`), if the run was continued. */
export function successorOf(events: readonly JournalEvent[]): string | undefined {
  const last = events[events.length - 1];
  return last?.type === 'run.continued' ? last.payload.runId : undefined;
}

/**
 * The run that ends the chain starting at `runId`: the run itself, or, when it was continued with
 * ctx.continueAsNew, its last successor (maybe still running). Undefined for an unknown run.
 */
export async function lastOfChain(store: Store, runId: string): Promise<RunRecord | undefined> {
  let run = await store.getRun(runId);
  while (run?.status === 'continued') {
    const next = successorOf(await store.readEvents(run.runId, run.lastSeq));
    if (next === undefined) return run;
    run = await store.getRun(next);
  }
  return run;
}
