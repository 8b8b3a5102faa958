/**
 * Numbered changes in replay behaviour (as Temporal's SdkFlags). A run records, in `run.started`,
 * the flags of the engine that started it; replay keeps to the behaviour of those flags, so
 * histories written by older versions still replay. Add a number here with every such change,
 * and never reuse or remove one.
 */
export const ENGINE_FLAGS: readonly number[] = [];

export function hasFlag(recorded: readonly number[], flag: number): boolean {
  return recorded.includes(flag);
}
