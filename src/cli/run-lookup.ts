import { InvalidArgumentError, RunNotFoundError } from '../errors.ts';
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
  throw new RunNotFoundError({ runId: given, suggestions: await nearRunIds(store, given, scope) });
}

/** The shortest prefix taken as meaning one run: past `run_` and the first characters of its time. */
export const MIN_PREFIX = 8;

/**
 * Run ids near `given`: ids sharing the longest prefix with it (found with store.findRunIds, shortening
 * the prefix until some match), ranked by edit distance, the close ones only.
 */
export async function nearRunIds(
  store: Store,
  given: string,
  scope?: TenantScope,
  limit = 3,
): Promise<string[]> {
  for (let length = Math.min(given.length - 1, 40); length >= 4; length--) {
    const candidates = await store.findRunIds(given.slice(0, length), 50, scope);
    if (candidates.length === 0) continue;
    const threshold = Math.max(3, Math.floor(given.length / 3));
    return (
      candidates
        // A short id is compared with as much of each candidate, so a mistyped prefix finds its run too.
        .map((id) => ({
          id,
          distance: Math.min(editDistance(given, id), editDistance(given, id.slice(0, given.length))),
        }))
        .filter((candidate) => candidate.distance <= threshold)
        .sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id))
        .slice(0, limit)
        .map((candidate) => candidate.id)
    );
  }
  return [];
}

/** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one edit. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}
