import { canonicalJson } from '../journal/canonical-json.ts';
import {
  toGuardrail,
  type Guardrail,
  type GuardrailContext,
  type GuardrailLike,
  type GuardrailVerdict,
} from './guardrail.ts';

interface MemberVerdict {
  name: string;
  verdict: GuardrailVerdict['verdict'];
  reason?: string;
  data?: Record<string, unknown>;
}

/**
 * Every guardrail checks the same value, all at once (judges run in parallel). Blocks when any
 * blocks, giving every reason; a single rewrite is kept, two different rewrites block (chain
 * rewrites with {@link sequence}). A member that throws makes the whole throw (fail closed).
 *
 * @example all(denyList(['DROP TABLE']), judge({ model, rubric: 'No medical advice.' }))
 */
export function all(...members: GuardrailLike[]): Guardrail {
  const guards = members.map(toGuardrail);
  return composite('all', guards, async (active, value, context) => {
    const verdicts = await Promise.all(
      active.map(async (guard) => ({ guard, verdict: await guard.check(value, context) })),
    );
    const seen = verdicts.map(({ guard, verdict }) => member(guard, verdict));
    const blocked = seen.filter((entry) => entry.verdict === 'block');
    if (blocked.length > 0) {
      return {
        verdict: 'block',
        reason: blocked.map((entry) => `${entry.name}: ${entry.reason}`).join('; '),
        data: { members: seen },
      };
    }
    const rewrites = verdicts.filter(({ verdict }) => verdict?.verdict === 'rewrite') as {
      guard: Guardrail;
      verdict: GuardrailVerdict & { verdict: 'rewrite' };
    }[];
    const distinct = new Set(
      rewrites.map(({ verdict }) => canonicalJson(verdict.value ?? null, 'A rewritten value')),
    );
    if (distinct.size > 1) {
      return {
        verdict: 'block',
        reason: `${rewrites.map(({ guard }) => guard.name).join(' and ')} rewrote the value differently; chain rewrites with sequence()`,
        data: { members: seen },
      };
    }
    const [first] = rewrites;
    if (first)
      return {
        verdict: 'rewrite',
        value: first.verdict.value,
        reason: first.verdict.reason,
        data: { members: seen },
      };
    return { verdict: 'pass', data: { members: seen } };
  });
}

/**
 * The value passes when any guardrail passes it (the first in order that does, with its rewrite if
 * it rewrote); blocks when every one blocks, giving every reason. All run at once.
 *
 * @example any(schema(refundSchema), guardrail('manager-override', (args) => args.override === true))
 */
export function any(...members: GuardrailLike[]): Guardrail {
  const guards = members.map(toGuardrail);
  return composite('any', guards, async (active, value, context) => {
    const verdicts = await Promise.all(
      active.map(async (guard) => ({ guard, verdict: await guard.check(value, context) })),
    );
    const seen = verdicts.map(({ guard, verdict }) => member(guard, verdict));
    const passed = verdicts.find(({ verdict }) => verdict?.verdict !== 'block');
    if (!passed)
      return {
        verdict: 'block',
        reason: seen.map((entry) => `${entry.name}: ${entry.reason}`).join('; '),
        data: { members: seen },
      };
    const verdict = passed.verdict;
    if (verdict?.verdict === 'rewrite')
      return { verdict: 'rewrite', value: verdict.value, reason: verdict.reason, data: { members: seen } };
    return { verdict: 'pass', reason: `passed by ${passed.guard.name}`, data: { members: seen } };
  });
}

/**
 * The guardrails in order, each checking the value as the previous one left it (rewrites chain);
 * stops at the first that blocks.
 *
 * @example sequence(redact(), maxLength({ chars: 4000 }))
 */
export function sequence(...members: GuardrailLike[]): Guardrail {
  const guards = members.map(toGuardrail);
  return composite('sequence', guards, async (active, value, context) => {
    const seen: MemberVerdict[] = [];
    let current = value;
    const reasons: string[] = [];
    for (const guard of active) {
      const verdict = await guard.check(current, context);
      seen.push(member(guard, verdict));
      if (verdict?.verdict === 'block')
        return { verdict: 'block', reason: `${guard.name}: ${verdict.reason}`, data: { members: seen } };
      if (verdict?.verdict === 'rewrite') {
        current = verdict.value;
        reasons.push(`${guard.name}: ${verdict.reason}`);
      }
    }
    return reasons.length > 0
      ? { verdict: 'rewrite', value: current, reason: reasons.join('; '), data: { members: seen } }
      : { verdict: 'pass', data: { members: seen } };
  });
}

function composite(
  kind: string,
  guards: readonly Guardrail[],
  check: (
    active: readonly Guardrail[],
    value: unknown,
    context: GuardrailContext,
  ) => Promise<GuardrailVerdict>,
): Guardrail {
  return Object.freeze({
    kind: 'guardrail' as const,
    name: `${kind}(${guards.map((guard) => guard.name).join(', ')})`,
    stages: undefined,
    check: (value: unknown, context: GuardrailContext) => {
      // Members that do not check at this stage are left out (all of them: the composite passes).
      const active = guards.filter((guard) => !guard.stages || guard.stages.includes(context.stage));
      if (active.length === 0) return { verdict: 'pass' as const };
      return check(active, value, context);
    },
  });
}

function member(guard: Guardrail, verdict: GuardrailVerdict | undefined): MemberVerdict {
  const answer = verdict ?? { verdict: 'pass' as const };
  return {
    name: guard.name,
    verdict: answer.verdict,
    ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    ...(answer.data === undefined ? {} : { data: answer.data }),
  };
}
