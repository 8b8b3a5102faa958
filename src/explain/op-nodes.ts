import type { JournalEvent, RouteCandidateRecord } from '../journal/events.ts';
import type { ExplanationNode, ExplanationStatus, Reason } from './explanation.ts';
import { brief } from './message-text.ts';
import { all, first, last, took, type NodeContext } from './node-context.ts';
import { reasonsOf } from './reasons.ts';

/** The node of a durable op that is not an agent's: steps, timers, signals, children, patterns, routing. */
export function opNode(events: readonly JournalEvent[], context: NodeContext): ExplanationNode {
  const type = events[0]!.type;
  const prefix = type.slice(0, type.indexOf('.'));
  const build = BUILDERS[prefix] ?? genericNode;
  const node = build(events, context);
  const why = [
    ...(node.why ?? []),
    ...reasonsOf(events).filter((reason) => !node.why?.some((known) => known.summary === reason.summary)),
  ];
  if (why.length > 0) node.why = why;
  return node;
}

type Builder = (events: readonly JournalEvent[], context: NodeContext) => ExplanationNode;

const nameOf = (events: readonly JournalEvent[]): string => {
  const name = (events[0]!.payload as { name?: unknown }).name;
  return typeof name === 'string' ? name : '';
};

/** An op's status: ok once its end is journaled, failed once its failure is, waiting before either. */
const progress = (ended: unknown, failed: unknown): ExplanationStatus =>
  ended ? 'ok' : failed ? 'failed' : 'waiting';

const BUILDERS: Record<string, Builder> = {
  step(events, context) {
    const completed = first(events, 'step.completed');
    const failed = first(events, 'step.failed');
    const node = context.node('step', `step ${nameOf(events)}`, events, progress(completed, failed));
    if (completed) {
      node.outcome = {
        summary: `→ ${brief(completed.payload.result, 300) || '(nothing)'}`,
        value: completed.payload.result,
      };
      if (completed.payload.attempt > 1) node.facts = { attempts: completed.payload.attempt };
    } else if (failed) {
      node.outcome = {
        summary: `failed after ${failed.payload.attempt} attempt(s): ${failed.payload.error.name}: ${failed.payload.error.message}`,
        error: failed.payload.error,
      };
    } else {
      node.outcome = { summary: 'waiting to retry' };
    }
    return node;
  },
  timer(events, context) {
    const set = first(events, 'timer.set');
    const fired = first(events, 'timer.fired');
    const name = set?.payload.name;
    const node = context.node(
      'timer',
      name === undefined || name === 'sleep' ? 'sleep' : `sleep ${name}`,
      events,
      fired ? 'ok' : 'waiting',
    );
    if (set) node.facts = { until: set.payload.fireAt };
    took(node, set, fired);
    node.outcome = {
      summary: fired ? `woke at ${fired.at}` : `sleeping until ${set?.payload.fireAt ?? '?'}`,
    };
    return node;
  },
  signal(events, context) {
    const received = first(events, 'signal.received');
    const timedOut = first(events, 'signal.timedOut');
    const awaited = first(events, 'signal.awaited');
    const name = nameOf(events);
    const node = context.node('signal', `waitFor ${name}`, events, progress(received, timedOut));
    if (awaited?.payload.deadline) node.facts = { deadline: awaited.payload.deadline };
    took(node, awaited, received ?? timedOut);
    node.outcome = received
      ? {
          summary: `received ${brief(received.payload.payload, 200) || '(no payload)'}`,
          value: received.payload.payload,
        }
      : { summary: timedOut ? 'timed out' : 'waiting for the signal' };
    return node;
  },
  child(events, context) {
    const started = first(events, 'child.started');
    const completed = first(events, 'child.completed');
    const failed = first(events, 'child.failed');
    const title = `child ${started?.payload.workflow ?? ''}`.trimEnd();
    const node = context.node('child', title, events, progress(completed, failed));
    if (started) node.facts = { runId: started.payload.childRunId };
    took(node, started, completed ?? failed);
    node.outcome = completed
      ? { summary: `→ ${brief(completed.payload.result, 200)}`, value: completed.payload.result }
      : failed
        ? {
            summary: `${failed.payload.status}: ${failed.payload.error.message}`,
            error: failed.payload.error,
          }
        : { summary: 'running' };
    return node;
  },
  clock(events, context) {
    const read = first(events, 'clock.read')!;
    const node = context.node('clock', 'now()', events, 'ok');
    node.outcome = { summary: `→ ${read.payload.value}`, value: read.payload.value };
    return node;
  },
  patch(events, context) {
    const marked = first(events, 'patch.marked')!;
    const node = context.node('patch', `patched(${marked.payload.patchId})`, events, 'ok');
    node.outcome = { summary: 'took the new code path' };
    return node;
  },
  route(events, context) {
    const decided = first(events, 'route.decided');
    const failed = first(events, 'route.failed');
    const node = context.node('route', `route ${nameOf(events)}`, events, progress(decided, failed));
    const payload = decided?.payload ?? failed?.payload;
    if (!payload) return node;
    const why: Reason[] = [
      {
        kind: 'routing',
        summary: `${payload.reason}${payload.decidedBy ? ` (decided by ${payload.decidedBy})` : ''}`,
        ...(payload.decidedBy ? { by: payload.decidedBy } : {}),
      },
      ...payload.candidates.map((candidate): Reason => ({
        kind: 'candidate',
        summary: candidateText(candidate),
        data: candidate,
      })),
    ];
    if (decided?.payload.fallback)
      why.push({ kind: 'routing', summary: 'the answer named no route: the fallback was taken' });
    node.why = why;
    if (payload.task) node.asked = { summary: brief(payload.task, 200) };
    if (decided)
      node.decided = {
        kind: 'route',
        summary: `route to ${decided.payload.chosen}`,
        chosen: decided.payload.chosen,
      };
    else
      node.outcome = {
        summary: `no route: ${failed!.payload.reason}`,
        ...(failed!.payload.error ? { error: failed!.payload.error } : {}),
      };
    return node;
  },
  sequence(events, context) {
    const started = first(events, 'sequence.started');
    const failed = first(events, 'sequence.failed');
    const completed = first(events, 'sequence.completed');
    const node = context.node('sequence', `sequence ${nameOf(events)}`, events, progress(completed, failed));
    if (started) node.facts = { stages: started.payload.stages };
    node.outcome = failed
      ? {
          summary: `failed at stage ${failed.payload.stage}: ${failed.payload.error.message}`,
          error: failed.payload.error,
        }
      : { summary: completed ? 'completed' : 'running' };
    return node;
  },
  parallel(events, context) {
    const started = first(events, 'parallel.started');
    const end = last(events, 'parallel.completed') ?? last(events, 'parallel.failed');
    const status: ExplanationStatus = !end ? 'waiting' : end.type === 'parallel.completed' ? 'ok' : 'failed';
    const node = context.node('parallel', `parallel ${nameOf(events)}`, events, status);
    if (started) node.facts = { branches: started.payload.branches, policy: started.payload.policy };
    node.why = all(events, 'parallel.branch.failed').map((event): Reason => ({
      kind: 'routing',
      summary: `branch ${event.payload.branch} failed: ${event.payload.error.message}`,
    }));
    if (end)
      node.outcome = {
        summary: `${end.payload.reason} (succeeded: ${end.payload.succeeded.join(', ') || 'none'}; failed: ${end.payload.failed.join(', ') || 'none'})`,
      };
    took(node, started, end);
    return node;
  },
  graph(events, context) {
    const started = first(events, 'graph.started');
    const completed = last(events, 'graph.completed');
    const failed = last(events, 'graph.failed');
    const node = context.node('graph', `graph ${nameOf(events)}`, events, progress(completed, failed));
    if (started) node.facts = { nodes: started.payload.nodes.map((graphNode) => graphNode.id) };
    node.why = all(events, 'graph.node.skipped').map((event): Reason => ({
      kind: 'routing',
      summary: `node ${event.payload.node} skipped: ${event.payload.reason}`,
    }));
    for (const event of all(events, 'graph.node.failed'))
      node.why.push({
        kind: 'routing',
        summary: `node ${event.payload.node} failed: ${event.payload.error.message}`,
      });
    if (completed)
      node.outcome = {
        summary: `completed ${completed.payload.completed.join(', ')}${completed.payload.skipped.length ? `; skipped ${completed.payload.skipped.join(', ')}` : ''}`,
      };
    if (failed) node.outcome = { summary: `failed at ${failed.payload.failed.join(', ')}` };
    took(node, started, completed ?? failed);
    return node;
  },
  plan(events, context) {
    const started = first(events, 'plan.started');
    if (started) {
      const completed = last(events, 'plan.completed');
      const failed = last(events, 'plan.failed');
      const node = context.node('plan', `plan ${nameOf(events)}`, events, progress(completed, failed));
      node.facts = { goal: started.payload.goal, planner: started.payload.planner };
      if (completed)
        node.outcome = {
          summary: `completed ${completed.payload.completed.join(', ')} after ${completed.payload.revisions} revision(s)`,
        };
      if (failed) node.outcome = { summary: `${failed.payload.code}: ${failed.payload.reason}` };
      return node;
    }
    const decided = first(events, 'plan.decided');
    const rejected = first(events, 'plan.rejected');
    const revision = decided?.payload.revision ?? rejected?.payload.revision ?? 0;
    const node = context.node(
      'plan',
      `plan ${nameOf(events)} revision ${revision}${decided?.payload.editedBy ? ' (edited)' : ''}`,
      events,
      decided ? 'ok' : 'denied',
    );
    if (rejected) {
      node.why = rejected.payload.problems.map((problem): Reason => ({
        kind: 'guardrail',
        summary: problem,
      }));
      node.outcome = {
        summary: `proposal ${rejected.payload.attempt} by ${rejected.payload.planner} rejected`,
      };
    }
    if (decided) {
      const { tasks, levels, kept, replaces, planner } = decided.payload;
      node.facts = { planner, levels, ...(kept.length > 0 ? { kept } : {}) };
      node.why = [
        ...(replaces
          ? [
              {
                kind: 'routing' as const,
                summary: `replaces revision ${replaces.revision} (seq ${replaces.seq}): ${replaces.reason}`,
              },
            ]
          : []),
        ...tasks.map((task): Reason => ({
          kind: 'routing',
          summary: `${task.id} → ${task.assigned}${task.routeReason ? `: ${task.routeReason}` : ' (named)'}`,
        })),
      ];
      node.decided = {
        kind: 'other',
        summary: `${tasks.length} task(s) in ${levels.length} level(s): ${levels.map((level) => level.join(' + ')).join(' → ')}`,
      };
    }
    return node;
  },
  machine(events, context) {
    const started = first(events, 'machine.started');
    if (started) {
      const completed = last(events, 'machine.completed');
      const failed = last(events, 'machine.failed');
      const node = context.node('machine', `machine ${nameOf(events)}`, events, progress(completed, failed));
      const end = completed ?? failed;
      if (end) node.facts = { steps: end.payload.steps, edges: end.payload.edges };
      if (completed)
        node.outcome = {
          summary: `reached ${completed.payload.final} in ${completed.payload.steps} step(s)`,
        };
      if (failed)
        node.outcome = {
          summary: `failed in ${failed.payload.state}: ${failed.payload.error.message}`,
          error: failed.payload.error,
        };
      return node;
    }
    const entered = first(events, 'machine.state.entered');
    const moved = first(events, 'machine.transitioned');
    const state = entered?.payload.state ?? '?';
    const node = context.node(
      'machine',
      `state ${state} (visit ${entered?.payload.visit ?? '?'})`,
      events,
      'ok',
    );
    if (moved) {
      node.decided = {
        kind: 'route',
        summary: `→ ${moved.payload.to} (taken ${moved.payload.taken})`,
        chosen: moved.payload.to,
      };
      node.why = [{ kind: 'routing', summary: moved.payload.reason }];
    }
    return node;
  },
  model(events, context) {
    const routed = first(events, 'model.routed');
    const attempts = all(events, 'model.attempted');
    const node = context.node('model', `model call ${nameOf(events)}`, events, routed ? 'ok' : 'waiting');
    node.why = attempts.map((attempt): Reason => {
      const verdict = attempt.payload.verdict;
      return {
        kind: 'routing',
        summary: `attempt ${attempt.payload.attempt} on ${attempt.payload.model}: ${verdict ? `${verdict.accepted ? 'accepted' : 'rejected'} — ${verdict.reason}` : 'answered'}`,
      };
    });
    node.costUsd = attempts.reduce(
      (sum, attempt) => sum + attempt.payload.costUsd + (attempt.payload.verdict?.judge?.costUsd ?? 0),
      0,
    );
    if (routed) {
      node.why.unshift({
        kind: 'routing',
        summary: `${routed.payload.strategy}: ${routed.payload.reason}${routed.payload.difficulty === undefined ? '' : ` (difficulty ${routed.payload.difficulty})`}`,
      });
      node.decided = {
        kind: 'route',
        summary: `answered by ${routed.payload.chosen}`,
        chosen: routed.payload.chosen,
      };
      const answer =
        attempts.find((attempt) => attempt.payload.model === routed.payload.chosen) ?? attempts.at(-1);
      if (answer)
        node.outcome = { summary: `→ ${brief(answer.payload.output, 200)}`, value: answer.payload.output };
    }
    return node;
  },
  cache(events, context) {
    const hit = first(events, 'cache.hit');
    const missed = first(events, 'cache.missed');
    const node = context.node('cache', `cache ${nameOf(events)}`, events, hit || missed ? 'ok' : 'waiting');
    if (hit)
      node.outcome = {
        summary: `hit (${hit.payload.match}, similarity ${hit.payload.similarity.toFixed(3)}) from run ${hit.payload.source.runId} seq ${hit.payload.source.seq}`,
        value: hit.payload.response,
      };
    else if (missed)
      node.outcome = {
        summary: `missed: ${missed.payload.reason}${missed.payload.stored ? ' (stored)' : ''}`,
        value: missed.payload.response,
      };
    return node;
  },
  memory(events, context) {
    const remembered = first(events, 'memory.remembered');
    const recalled = first(events, 'memory.recalled');
    const node = context.node('memory', `memory ${nameOf(events)}`, events, 'ok');
    if (remembered)
      node.outcome = {
        summary: `remembered ${remembered.payload.kind}: ${brief(remembered.payload.text, 200)}`,
      };
    if (recalled) {
      node.asked = { summary: brief(recalled.payload.query, 200) };
      node.outcome = {
        summary: `recalled ${recalled.payload.items.length} item(s): ${recalled.payload.items.map((item) => brief(item.text, 60)).join('; ')}`,
      };
    }
    return node;
  },
  access(events, context) {
    const decided = first(events, 'access.decided');
    const node = context.node(
      'access',
      `authorize ${nameOf(events)}`,
      events,
      decided?.payload.decision === 'deny' ? 'denied' : 'ok',
    );
    if (decided) node.outcome = { summary: `${decided.payload.decision} (${decided.payload.reason})` };
    return node;
  },
  approval(events, context) {
    const requested = first(events, 'approval.requested');
    const decided = last(events, 'approval.decided');
    const status: ExplanationStatus = !decided
      ? 'waiting'
      : decided.payload.decision === 'approved'
        ? 'ok'
        : 'denied';
    const node = context.node('approval', `approval ${nameOf(events)}`, events, status);
    if (requested)
      node.asked = {
        summary: requested.payload.summary,
        ...(requested.payload.data === undefined ? {} : { messages: [requested.payload.data] }),
      };
    if (decided)
      node.outcome = {
        summary: `${decided.payload.decision} by ${decided.payload.by}${decided.payload.comment ? ` — ${decided.payload.comment}` : ''}`,
      };
    took(node, requested, decided);
    return node;
  },
};
BUILDERS.guard = (events, context) => {
  const blocked = events.some((event) => (event.payload as { verdict?: string }).verdict === 'block');
  return context.node('guard', `guardrails ${nameOf(events)}`, events, blocked ? 'denied' : 'ok');
};
BUILDERS.budget = (events, context) => context.node('guard', `budget ${nameOf(events)}`, events, 'denied');
BUILDERS.loop = (events, context) => context.node('guard', `loop ${nameOf(events)}`, events, 'denied');

function genericNode(events: readonly JournalEvent[], context: NodeContext): ExplanationNode {
  const type = events[0]!.type;
  const prefix = type.slice(0, type.indexOf('.'));
  const node = context.node('other', `${prefix} ${nameOf(events)}`.trimEnd(), events, 'ok');
  node.outcome = { summary: events.map((event) => event.type).join(', ') };
  return node;
}

function candidateText(candidate: RouteCandidateRecord): string {
  const parts = [
    candidate.score === undefined ? '' : `score ${threeDecimals(candidate.score)}`,
    candidate.similarity === undefined ? '' : `similarity ${threeDecimals(candidate.similarity)}`,
    candidate.cost === undefined ? '' : `cost ${candidate.cost}`,
    candidate.eligible === false ? 'below threshold' : '',
  ].filter((part) => part !== '');
  return `${candidate.name}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function threeDecimals(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
