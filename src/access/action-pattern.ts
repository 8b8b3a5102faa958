import { InvalidGrantError } from './access-errors.ts';

/**
 * Grant actions are `scope:name` strings (`tool:payments.refund`, `handoff:billing`, `child:report`,
 * `secret:stripe`), and patterns over them where `*` stands for any run of characters
 * (`tool:search.*`, `handoff:*`, `*`).
 */
const PATTERN = /^(\*|[a-z][a-z0-9_-]*:[^\s]+)$/;

/** Throws InvalidGrantError unless `pattern` reads as a grant action or pattern. */
export function checkActionPattern(pattern: string): void {
  if (typeof pattern !== 'string' || !PATTERN.test(pattern) || pattern.length > 256) {
    throw new InvalidGrantError(
      `'${String(pattern)}' is not a grant action: write 'scope:name' ('tool:payments.refund', 'tool:search.*', ` +
        `'handoff:*', 'child:*', 'secret:stripe') or '*'.`,
    );
  }
}

/** True when the action (no wildcards) is one the pattern allows. */
export function actionMatches(pattern: string, action: string): boolean {
  return covers(pattern, action, false);
}

/**
 * True when every action `specific` allows is also allowed by `general`: `tool:*` covers
 * `tool:search.*`, which covers `tool:search.web`. Sound for any patterns (it never says yes when
 * some action of `specific` escapes `general`).
 */
export function patternCovers(general: string, specific: string): boolean {
  return covers(general, specific, true);
}

/**
 * Glob containment: the `*`s of `specific` are opaque symbols that only a `*` of `general` can
 * absorb; if `general` still matches, it matches every string `specific` does.
 */
function covers(general: string, specific: string, specificHasWildcards: boolean): boolean {
  const g = general;
  const s = specific;
  const memo = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    const key = i * (s.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === g.length) result = j === s.length;
    else if (g[i] === '*') result = at(i + 1, j) || (j < s.length && at(i, j + 1));
    else if (j === s.length) result = false;
    else if (specificHasWildcards && s[j] === '*') result = false;
    else result = g[i] === s[j] && at(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return at(0, 0);
}

/** The patterns with every one covered by another removed, in their first order. */
export function simplifyPatterns(patterns: readonly string[]): string[] {
  const unique = [...new Set(patterns)];
  return unique.filter(
    (pattern, index) =>
      !unique.some(
        (other, otherIndex) =>
          otherIndex !== index &&
          patternCovers(other, pattern) &&
          !(patternCovers(pattern, other) && otherIndex > index),
      ),
  );
}
