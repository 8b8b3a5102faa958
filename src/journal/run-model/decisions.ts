import type { JournalEvent } from '../events.ts';
import type { DecisionModel } from './run-model.ts';

/** The decision an event records (a route, a policy, a guardrail, an interceptor, a budget, a loop), if any. */
export function decisionOf(
  event: JournalEvent,
  call: string | undefined,
  agent: string | undefined,
): DecisionModel | undefined {
  const base = {
    seq: event.seq,
    at: event.at,
    ...('op' in event.payload ? { op: event.payload.op } : {}),
    ...(call === undefined ? {} : { call }),
    ...(agent === undefined ? {} : { agent }),
  };
  switch (event.type) {
    case 'route.decided':
      return {
        ...base,
        kind: 'route',
        name: event.payload.name,
        outcome: event.payload.chosen,
        reason: event.payload.reason,
      };
    case 'route.failed':
      return {
        ...base,
        kind: 'route',
        name: event.payload.name,
        outcome: 'none',
        reason: event.payload.reason,
      };
    case 'tool.authorized':
    case 'access.decided': {
      const { name, decision, reason, policies } = event.payload;
      return { ...base, kind: 'policy', name, outcome: decision, reason, by: policies.join(', ') || reason };
    }
    case 'guard.verdict': {
      const { name, verdict, reason, guardrail } = event.payload;
      return {
        ...base,
        kind: 'guardrail',
        name,
        outcome: verdict,
        by: guardrail,
        ...(reason === undefined ? {} : { reason }),
      };
    }
    case 'tool.verdict':
    case 'llm.verdict': {
      const { name, verdict, reason, interceptor, phase, signal, data } = event.payload;
      return {
        ...base,
        kind: 'interceptor',
        name,
        outcome: verdict,
        by: interceptor,
        phase,
        ...(reason === undefined ? {} : { reason }),
        ...(signal === undefined ? {} : { signal }),
        ...(typeof data?.by === 'string' ? { approver: data.by } : {}),
      };
    }
    case 'budget.exceeded':
      return {
        ...base,
        kind: 'budget',
        name: event.payload.name,
        outcome: event.payload.action,
        reason: `${event.payload.metric} ${event.payload.used} + ${event.payload.requested} > ${event.payload.limit}`,
      };
    case 'loop.detected':
      return {
        ...base,
        kind: 'loop',
        name: event.payload.name,
        outcome: event.payload.action,
        reason: event.payload.reason,
      };
    default:
      return undefined;
  }
}
