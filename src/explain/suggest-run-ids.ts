import { editDistance } from '../edit-distance.ts';
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
        distance: Math.min(editDistance(given, id), editDistance(given, id.slice(0, given.length))),
      }))
      .filter((candidate) => candidate.distance <= threshold)
      .sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((candidate) => candidate.id);
  }
  return [];
}
