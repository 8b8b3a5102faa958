/**
 * Numbered changes in replay behaviour (as Temporal's SdkFlags). A run records, in `run.started`,
 * the flags of the engine that started it; replay keeps to the behaviour of those flags, so
 * histories written by older versions still replay. Add a number here with every such change,
 * and never reuse or remove one.
 */
export const ENGINE_FLAGS: readonly number[] = [1, 2, 3];

/**
 * @since flag 1: `ctx.patched(id)` journals one marker per id per run and answers later calls with
 * the same id from the first one, without taking an op. Before it, every call took an op.
 */
export const FLAG_PATCH_MARKER_ONCE = 1;

/**
 * @since flag 2: a cancel request is journaled (`run.cancelRequested`) and raised as CancelledError
 * at the workflow's awaits, which may catch it; ops in flight are journaled as `op.cancelled`.
 * Without it (runs started by older engines), a cancel stops the run where it is.
 */
export const CATCHABLE_CANCELLATION = 2;

/**
 * @since flag 3: a live model call or tool call may journal a start event (`llm.started`,
 * `tool.started`) before each attempt (`Baton.open({ agents: { startEvents: true } })`), so every
 * view can show what is in flight. A start takes no op, and replay folds it as "sent, no outcome
 * yet" (the rules for a call in flight apply as before). Runs started by older engines journal none.
 */
export const START_EVENTS = 3;

export function hasFlag(recorded: readonly number[], flag: number): boolean {
  return recorded.includes(flag);
}
