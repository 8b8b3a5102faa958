import type { OperationApi, OperationHandle } from './context.ts';

/**
 * One intercepted operation: a call that the layers above decide on before it runs, that runs with
 * retry, and whose outcome is journaled, as one durable op. Model calls, tool calls, handoffs and
 * child starts are all this protocol (docs/decisions/0019); each kind says what happens in each
 * phase, the order of the phases is written once, here:
 *
 * 1. **replay** — the op's recorded events are folded into the kind's state; an op the journal
 *    already settles answers from it (or throws what it threw), and nothing runs again.
 * 2. **decide** — interceptors (or a policy) allow, deny or park the call; a recorded decision
 *    stands. A call that ends here (denied, skipped) answers without running.
 * 3. **attempt** — the call runs, with retry (src/engine/attempt-with-retry.ts).
 * 4. **commit** — its outcome is journaled; the kind's `attempt` phase ends with it.
 *
 * Failure semantics: what each phase journals is committed before the next phase starts (or with
 * the attempt's start, where a kind says so), so a crash at any point replays to the same phase.
 */
export interface InterceptedOperation<State, Result> {
  /** The op's name in the journal, as `prefix:name` (`llm:billing`, `tool:payments.refund`). */
  readonly describe: string;
  /** Phase 1: the state the recorded events leave, or the result they settle. */
  replay(op: OperationHandle): Replayed<State, Result>;
  /**
   * Phase 2: decides the call; a result ends the operation without running it. A decision made
   * synchronously is returned as is, so the attempt starts in the same tick (its events join the
   * op's next write, as the kind's callers expect).
   */
  decide(
    op: OperationHandle,
    state: State,
  ): Settled<Result> | undefined | Promise<Settled<Result> | undefined>;
  /** Phases 3 and 4: runs the call (with retry) and commits its outcome. */
  attempt(op: OperationHandle, state: State): Promise<Result>;
}

/** An operation's result, found before it ran (in the journal, or by a decision not to run it). */
export interface Settled<Result> {
  readonly settled: Result | Promise<Result>;
}

/** What replay found: a settled result, or the state the next phases continue from. */
export type Replayed<State, Result> = Settled<Result> | { readonly state: State };

/** The result an operation settled with, if it did. */
export function settled<Result>(value: Result | Promise<Result>): Settled<Result> {
  return { settled: value };
}

/** Runs one intercepted operation as the next op of the run: replay → decide → attempt → commit. */
export function runInterceptedOperation<State, Result>(
  operations: Pick<OperationApi, 'run'>,
  operation: InterceptedOperation<State, Result>,
): Promise<Result> {
  return operations.run(operation.describe, (op) => runPhases(op, operation));
}

/**
 * Runs the phases of an intercepted operation inside an op someone else took (a handoff decided
 * within the calling agent's op): its events are that op's, told apart by what the kind records.
 */
export async function runPhases<State, Result>(
  op: OperationHandle,
  operation: Omit<InterceptedOperation<State, Result>, 'describe'>,
): Promise<Result> {
  const replayed = operation.replay(op);
  if ('settled' in replayed) return replayed.settled;
  const deciding = operation.decide(op, replayed.state);
  const decided = deciding instanceof Promise ? await deciding : deciding;
  if (decided) return decided.settled;
  return operation.attempt(op, replayed.state);
}
