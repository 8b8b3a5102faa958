import type { Store, TenantScope } from '../store/store.ts';

/**
 * Run ids near one that does not exist, for "did you mean": ids that share the longest prefix with
 * it (shortening the prefix until some match), ranked by edit distance, close ones only.
 */
export async function suggestRunIds(
  store: Store,
  given: string,
  scope?: TenantScope,
  limit = 3,
): Promise<string[]> {
  for (let length = Math.min(given.length - 1, 40); length >= 4; length--) {
    const candidates = await store.findRunIds(given.slice(0, length), 50, scope);
    if (candidates.length === 0) continue;
    const threshold = Math.max(3, Math.floor(given.length / 3));
    return candidates
      .map((id) => ({
        id,
        distance: Math.min(distance(given, id), distance(given, id.slice(0, given.length))),
      }))
      .filter((candidate) => candidate.distance <= threshold)
      .sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((candidate) => candidate.id);
  }
  return [];
}

/** Edits (insert, delete, substitute, swap neighbours) from `a` to `b`. */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, before[j - 2]! + 1);
      row.push(best);
    }
    before = previous;
    previous = row;
  }
  return previous[b.length]!;
}
