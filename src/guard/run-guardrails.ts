import { serializeErrorWithoutStack } from '../errors.ts';
import type { GuardVerdictRecord } from '../journal/events.ts';
import { TripwireTriggeredError } from '../agents/errors.ts';
import { GuardrailBlockedError } from './guard-errors.ts';
import type { Guardrail, GuardrailContext, GuardrailVerdict } from './guardrail.ts';

/** What a list of guardrails made of a value: its verdicts in order, the value they let through, or the block. */
export interface GuardrailsOutcome {
  records: GuardVerdictRecord[];
  value: unknown;
  blocked: GuardVerdictRecord | undefined;
}

/**
 * Runs guardrails in order on a value at one stage: each sees the value as the ones before left it;
 * the first block stops the rest. A guardrail that throws (or answers nonsense) blocks — fail
 * closed — with its error in the verdict. Guardrails that do not check at this stage are skipped
 * (and not journaled). With `keepValues`, a rewrite's value is kept in its verdict (for replay).
 */
export async function runGuardrails(
  guards: readonly Guardrail[],
  value: unknown,
  context: GuardrailContext,
  options: { keepValues?: boolean } = {},
): Promise<GuardrailsOutcome> {
  const records: GuardVerdictRecord[] = [];
  let current = value;
  for (const guard of guards) {
    if (guard.stages && !guard.stages.includes(context.stage)) continue;
    let verdict: GuardrailVerdict;
    try {
      verdict = (await guard.check(current, context)) ?? { verdict: 'pass' };
    } catch (error) {
      const serialized = serializeErrorWithoutStack(error);
      const record: GuardVerdictRecord = {
        stage: context.stage,
        guardrail: guard.name,
        verdict: 'block',
        ...(guard.tripwire ? { tripwire: true } : {}),
        reason: `the guardrail failed (fail closed): ${serialized.name}: ${serialized.message}`,
        error: serialized,
      };
      records.push(record);
      return { records, value: current, blocked: record };
    }
    const record: GuardVerdictRecord = {
      stage: context.stage,
      guardrail: guard.name,
      verdict: verdict.verdict,
      ...(verdict.verdict === 'block' && guard.tripwire ? { tripwire: true } : {}),
      ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
      ...(verdict.data === undefined ? {} : { data: verdict.data }),
    };
    records.push(record);
    if (verdict.verdict === 'block') return { records, value: current, blocked: record };
    if (verdict.verdict === 'rewrite') {
      current = verdict.value;
      if (options.keepValues) record.value = current ?? null;
    }
  }
  return { records, value: current, blocked: undefined };
}

/** The error a block stops the agent or the run with: a tripwire's stops every agent above it too. */
export function blockedError(
  record: GuardVerdictRecord,
  target?: string,
): GuardrailBlockedError | TripwireTriggeredError {
  if (record.tripwire)
    return new TripwireTriggeredError({
      by: record.guardrail,
      stage: record.stage,
      reason: record.reason ?? 'blocked',
      ...(target === undefined ? {} : { target }),
    });
  return new GuardrailBlockedError({
    stage: record.stage,
    guardrail: record.guardrail,
    reason: record.reason ?? 'blocked',
    ...(target === undefined ? {} : { target }),
  });
}
