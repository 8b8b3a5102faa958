import { InvalidArgumentError, RunNotFoundError } from '../errors.ts';
import { suggestRunIds } from '../explain/suggest-run-ids.ts';
import type { RunRecord, Store, TenantScope } from '../store/store.ts';

/**
 * Finds the run a person means: the exact id, or an unambiguous prefix of at least
 * {@link MIN_PREFIX} characters. Otherwise throws RunNotFoundError naming the nearest ids.
 */
export async function findRun(store: Store, given: string, scope?: TenantScope): Promise<RunRecord> {
  const exact = await store.getRun(given, scope);
  if (exact) return exact;
  if (given.length >= MIN_PREFIX) {
    const matches = await store.findRunIds(given, 6, scope);
    if (matches.length === 1) {
      const run = await store.getRun(matches[0]!, scope);
      if (run) return run;
    }
    if (matches.length > 1) {
      const shown = matches.slice(0, 5).join(', ');
      throw new InvalidArgumentError(
        `'${given}' is the start of several run ids (${shown}${matches.length > 5 ? ', …' : ''}); give more of it.`,
      );
    }
  }
  throw new RunNotFoundError({ runId: given, suggestions: await suggestRunIds(store, given, scope) });
}

/** The shortest prefix taken as meaning one run: past `run_` and the first characters of its time. */
export const MIN_PREFIX = 8;
