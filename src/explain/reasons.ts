import type { AccessDecisionPayload, JournalEvent, VerdictRecord } from '../journal/events.ts';
import type { Reason } from './explanation.ts';
import { brief } from './message-text.ts';

/**
 * The "why" an op's events hold: interceptor and guardrail verdicts, policy decisions, approvals,
 * budgets, loops, retries. An access interceptor's verdict is left out when its `tool.authorized`
 * decision is there (it says the same, with the policies).
 */
export function reasonsOf(events: readonly JournalEvent[]): Reason[] {
  const authorized = events.some((event) => event.type === 'tool.authorized');
  const reasons: Reason[] = [];
  for (const event of events) {
    const reason = reasonOf(event, authorized);
    if (reason) reasons.push(reason);
  }
  return reasons;
}

function reasonOf(event: JournalEvent, authorized: boolean): Reason | undefined {
  switch (event.type) {
    case 'tool.verdict':
    case 'llm.verdict': {
      const verdict = event.payload as VerdictRecord;
      if (authorized && verdict.interceptor === 'access') return undefined;
      return verdictReason(verdict);
    }
    case 'tool.authorized':
    case 'access.decided':
      return policyReason(event.payload);
    case 'guard.verdict': {
      const verdict = event.payload;
      const error = verdict.error ? ` (${verdict.error.name}: ${verdict.error.message})` : '';
      return {
        kind: 'guardrail',
        summary: `${verdict.guardrail} at ${verdict.stage}: ${verdict.verdict}${verdict.reason ? ` — ${verdict.reason}` : ''}${error}`,
        by: verdict.guardrail,
      };
    }
    case 'approval.requested': {
      const request = event.payload;
      const approvers = request.stages.map((stage) => stage.approvers.join(', ')).join(' then ');
      return {
        kind: 'approval',
        summary: `approval asked of ${approvers || '(anyone)'}: ${request.summary}`,
        data: { approvalId: request.approvalId },
      };
    }
    case 'approval.escalated': {
      const escalated = event.payload;
      return { kind: 'approval', summary: `approval escalated to ${escalated.approvers.join(', ')}` };
    }
    case 'approval.decided': {
      const decided = event.payload;
      const edited = decided.args === undefined ? '' : ` with arguments ${brief(decided.args, 80)}`;
      return {
        kind: 'approval',
        summary: `${decided.decision} by ${decided.by}${edited}${decided.comment ? ` — ${decided.comment}` : ''}`,
        by: decided.by,
      };
    }
    case 'budget.exceeded': {
      const budget = event.payload;
      return {
        kind: 'budget',
        summary: `${budget.scope} budget on ${budget.metric} for ${budget.subject}: ${budget.used} used + ${budget.requested} asked > ${budget.limit} (${budget.action})`,
      };
    }
    case 'loop.detected': {
      const loop = event.payload;
      return { kind: 'loop', summary: `${loop.kind}: ${loop.reason} (${loop.action})` };
    }
    case 'step.attempt.failed':
    case 'llm.attempt.failed':
    case 'tool.attempt.failed': {
      const failed = event.payload as {
        attempt: number;
        error: { name: string; message: string };
        retryAt: string;
      };
      return {
        kind: 'retry',
        summary: `attempt ${failed.attempt} failed (${failed.error.name}: ${failed.error.message}); retried at ${failed.retryAt}`,
      };
    }
    case 'tool.inDoubt': {
      const doubt = event.payload;
      return {
        kind: 'retry',
        summary: `attempt ${doubt.attempt} was interrupted (a crash between intent and result): ${doubt.resolution === 'rerun' ? 'run again' : 'parked for a person'}`,
      };
    }
    case 'tool.resolved': {
      const resolved = event.payload;
      return {
        kind: 'approval',
        summary: `in-doubt call resolved: ${resolved.action}${resolved.by ? ` by ${resolved.by}` : ''}`,
        ...(resolved.by ? { by: resolved.by } : {}),
      };
    }
    default:
      return undefined;
  }
}

/** An interceptor's verdict; a decision that came by signal is a person's approval. */
export function verdictReason(verdict: VerdictRecord): Reason {
  const by = typeof verdict.data?.by === 'string' ? verdict.data.by : undefined;
  if (verdict.phase === 'decided') {
    const answer =
      verdict.verdict === 'deny'
        ? 'denied'
        : verdict.verdict === 'rewrite'
          ? 'approved with changed arguments'
          : 'approved';
    return {
      kind: 'approval',
      summary: `${answer}${by ? ` by ${by}` : ''}${verdict.reason ? ` — ${verdict.reason}` : ''}`,
      ...(by ? { by } : {}),
    };
  }
  const rewritten =
    verdict.verdict === 'rewrite' && verdict.args !== undefined ? ` to ${brief(verdict.args, 80)}` : '';
  return {
    kind: 'interceptor',
    summary: `${verdict.interceptor}: ${verdict.verdict}${rewritten}${verdict.reason ? ` — ${verdict.reason}` : ''}`,
    by: verdict.interceptor,
  };
}

/** A policy decision: the answer, why, and the policies and grant behind it. */
export function policyReason(decision: AccessDecisionPayload): Reason {
  const behind = [
    decision.policies.length > 0 ? `policies ${decision.policies.join(', ')}` : '',
    decision.grantId ? `grant ${decision.grantId.slice(0, 18)}` : '',
    decision.errors.length > 0 ? `errors: ${decision.errors.join('; ')}` : '',
  ].filter((part) => part !== '');
  return {
    kind: 'policy',
    summary: `${decision.action} ${decision.resource}: ${decision.decision} (${decision.reason})${behind.length ? ` — ${behind.join('; ')}` : ''}`,
    by: decision.policies.join(', ') || decision.reason,
    data: {
      decision: decision.decision,
      reason: decision.reason,
      policies: decision.policies,
      ...(decision.grantId ? { grantId: decision.grantId } : {}),
    },
  };
}
