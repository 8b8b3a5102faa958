import { InvalidArgumentError } from '../errors.ts';
import { checkStages, textOf, type Guardrail, type GuardStage } from './guardrail.ts';

/**
 * Blocks a value longer than a limit: characters of its text (a string, or its JSON), and/or
 * approximate tokens (characters / 4). With `truncate: true` a string is cut to the limit instead.
 *
 * @example maxLength({ chars: 8000 }) // a tool result the model may read
 */
export function maxLength(options: {
  chars?: number;
  tokens?: number;
  truncate?: boolean;
  name?: string;
  stages?: readonly GuardStage[];
}): Guardrail {
  const name = options.name ?? 'max-length';
  for (const key of ['chars', 'tokens'] as const) {
    const limit = options[key];
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new InvalidArgumentError(`maxLength({ ${key} }) must be an integer ≥ 0, got ${limit}.`);
    }
  }
  if (options.chars === undefined && options.tokens === undefined) {
    throw new InvalidArgumentError('maxLength() needs a limit: { chars } or { tokens }.');
  }
  const limit = Math.min(
    options.chars ?? Infinity,
    options.tokens === undefined ? Infinity : options.tokens * 4,
  );
  return Object.freeze({
    kind: 'guardrail' as const,
    name,
    stages: checkStages(name, options.stages),
    check: (value: unknown) => {
      const length = textOf(value).length;
      if (length <= limit) return { verdict: 'pass' as const };
      const what =
        options.chars !== undefined && limit === options.chars
          ? `${options.chars} characters`
          : `about ${options.tokens} tokens`;
      if (options.truncate && typeof value === 'string') {
        return {
          verdict: 'rewrite' as const,
          value: value.slice(0, limit),
          reason: `cut from ${length} to ${what}`,
          data: { length },
        };
      }
      return {
        verdict: 'block' as const,
        reason: `it is ${length} characters long, over the limit of ${what}`,
        data: { length, limit },
      };
    },
  });
}
