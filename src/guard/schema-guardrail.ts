import type { z } from 'zod';
import { zod } from '../lazy-module.ts';
import { InvalidArgumentError } from '../errors.ts';
import { checkStages, type Guardrail, type GuardStage } from './guardrail.ts';

/**
 * Blocks a value that does not match a zod schema (a run's input, a tool's result, a structured
 * answer), naming what is wrong. With `{ coerce: true }` it rewrites the value to the schema's
 * parsed output (defaults filled, unknown keys stripped) instead of passing it as is.
 *
 * @example schema(zod().object({ ticket: zod().string().max(2000) }), { stages: ['run.input'] })
 */
export function schema(
  shape: z.ZodType,
  options: { name?: string; coerce?: boolean; stages?: readonly GuardStage[] } = {},
): Guardrail {
  if (typeof (shape as { safeParse?: unknown })?.safeParse !== 'function') {
    throw new InvalidArgumentError('schema() needs a zod schema.');
  }
  const name = options.name ?? 'schema';
  return Object.freeze({
    kind: 'guardrail' as const,
    name,
    stages: checkStages(name, options.stages),
    check: (value: unknown) => {
      const parsed = shape.safeParse(value);
      if (!parsed.success)
        return {
          verdict: 'block' as const,
          reason: `it does not match the schema:\n${zod().prettifyError(parsed.error)}`,
        };
      if (options.coerce && JSON.stringify(parsed.data) !== JSON.stringify(value)) {
        return { verdict: 'rewrite' as const, value: parsed.data, reason: 'normalized by the schema' };
      }
      return { verdict: 'pass' as const };
    },
  });
}
