import type { JournalEvent, JournalEventType } from '../events.ts';
import type { ItemState } from './run-model.ts';

type StateOf = (event: JournalEvent) => ItemState | undefined;

const always =
  (state: ItemState): StateOf =>
  () =>
    state;

/**
 * Where an op stands after each of its event types (types not listed leave it as it was). An op is
 * `running` from its first event until one of these ends it or parks it.
 */
export const OP_STATES: Partial<Record<JournalEventType, StateOf>> = {
  'step.completed': always('completed'),
  'step.attempt.failed': always('waiting'),
  'step.failed': always('failed'),
  'timer.set': always('waiting'),
  'timer.fired': always('completed'),
  'signal.awaited': always('waiting'),
  'signal.received': always('completed'),
  'signal.timedOut': always('failed'),
  'child.completed': always('completed'),
  'child.failed': always('failed'),
  'clock.read': always('completed'),
  'patch.marked': always('completed'),
  'event.published': always('completed'),
  'op.cancelled': always('skipped'),
  'agent.completed': always('completed'),
  'agent.failed': always('failed'),
  'agent.handedOff': always('handed-off'),
  'llm.called': always('completed'),
  'llm.failed': always('failed'),
  'llm.verdict': (event) =>
    event.type === 'llm.verdict' && event.payload.verdict === 'deny' && event.payload.phase !== 'after'
      ? 'denied'
      : undefined,
  'tool.verdict': (event) => {
    if (event.type !== 'tool.verdict') return undefined;
    const { verdict, phase } = event.payload;
    if (verdict === 'park') return 'waiting';
    if (verdict === 'deny' && phase !== 'after') return 'denied';
    return phase === 'decided' ? 'running' : undefined;
  },
  'tool.authorized': (event) =>
    event.type === 'tool.authorized' && event.payload.decision === 'deny' ? 'denied' : undefined,
  'tool.called': always('completed'),
  'tool.failed': always('failed'),
  'tool.inDoubt': (event) =>
    event.type === 'tool.inDoubt' && event.payload.resolution === 'park' ? 'waiting' : undefined,
  'tool.resolved': (event) =>
    event.type === 'tool.resolved' && event.payload.action === 'skip' ? 'skipped' : 'running',
  'model.routed': always('completed'),
  'cache.hit': always('completed'),
  'cache.missed': always('completed'),
  'memory.remembered': always('completed'),
  'memory.recalled': always('completed'),
  'access.decided': (event) =>
    event.type === 'access.decided' && event.payload.decision === 'deny' ? 'denied' : 'completed',
  'approval.requested': always('waiting'),
  'approval.decided': (event) =>
    event.type === 'approval.decided' && event.payload.decision === 'approved' ? 'completed' : 'denied',
  'route.decided': always('completed'),
  'route.failed': always('failed'),
  'sequence.completed': always('completed'),
  'sequence.failed': always('failed'),
  'parallel.completed': always('completed'),
  'parallel.failed': always('failed'),
  'graph.node.completed': always('completed'),
  'graph.node.failed': always('failed'),
  'graph.node.skipped': always('skipped'),
  'graph.completed': always('completed'),
  'graph.failed': always('failed'),
  'plan.decided': always('completed'),
  'plan.rejected': always('denied'),
  'plan.completed': always('completed'),
  'plan.failed': always('failed'),
  'machine.transitioned': always('completed'),
  'machine.completed': always('completed'),
  'machine.failed': always('failed'),
};
