import { InvalidArgumentError } from '../errors.ts';
import { checkStages, textOf, type Guardrail, type GuardStage } from './guardrail.ts';

/**
 * Blocks a value whose text holds a denied word, phrase or pattern. Strings match as whole words,
 * case-insensitively (unless `caseSensitive`); regular expressions match as written. The verdict
 * names what matched.
 *
 * @example denyList(['rm -rf', /\bDROP\s+TABLE\b/i], { stages: ['tool.before'] })
 */
export function denyList(
  entries: readonly (string | RegExp)[],
  options: { caseSensitive?: boolean; name?: string; stages?: readonly GuardStage[] } = {},
): Guardrail {
  if (!Array.isArray(entries) || entries.length === 0)
    throw new InvalidArgumentError('denyList() needs at least one word or pattern.');
  const patterns = entries.map((entry) => {
    if (entry instanceof RegExp)
      return { label: String(entry), pattern: new RegExp(entry.source, entry.flags.replace('g', '')) };
    if (typeof entry !== 'string' || entry.trim() === '')
      throw new InvalidArgumentError('denyList() entries are non-empty strings or RegExps.');
    const escaped = entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const start = /^\w/.test(entry) ? '\\b' : '';
    const end = /\w$/.test(entry) ? '\\b' : '';
    return {
      label: JSON.stringify(entry),
      pattern: new RegExp(`${start}${escaped}${end}`, options.caseSensitive ? '' : 'i'),
    };
  });
  const name = options.name ?? 'deny-list';
  return Object.freeze({
    kind: 'guardrail' as const,
    name,
    stages: checkStages(name, options.stages),
    check: (value: unknown) => {
      const text = textOf(value);
      const matched = patterns.filter(({ pattern }) => pattern.test(text)).map(({ label }) => label);
      if (matched.length === 0) return { verdict: 'pass' as const };
      return { verdict: 'block' as const, reason: `it contains ${matched.join(', ')}`, data: { matched } };
    },
  });
}
