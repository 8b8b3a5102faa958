import type { JournalEvent, PlanTaskRecord } from '../journal/events.ts';

type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'kept';

/** The plans and state machines of one run, as its journal tells them (for `baton graph <run>`, the UI). */
export interface PlanHistory {
  plans: {
    name: string;
    goal: string;
    planner: string;
    status: 'running' | 'completed' | 'failed';
    failure?: { code: string; reason: string };
    /** Every rejected proposal, with its problems. */
    rejected: { revision: number; attempt: number; seq: number; problems: string[] }[];
    /** Every decided plan, the first and its revisions, each with how its tasks ended. */
    revisions: {
      revision: number;
      seq: number;
      planner: string;
      editedBy?: string;
      replaces?: { revision: number; seq: number; reason: string };
      tasks: (PlanTaskRecord & { status: TaskStatus })[];
      levels: string[][];
      kept: string[];
    }[];
  }[];
  machines: {
    name: string;
    initial: string;
    status: 'running' | 'completed' | 'failed';
    /** Every edge, with how many times it was taken. */
    edges: { from: string; to: string; max?: number; taken: number }[];
    path: string[];
    final?: string;
  }[];
}

/** Reads the plans and machines of a run from its events. */
export function plansOf(events: readonly JournalEvent[]): PlanHistory {
  const history: PlanHistory = { plans: [], machines: [] };
  const plans = new Map<string, PlanHistory['plans'][number]>();
  const machines = new Map<string, PlanHistory['machines'][number]>();
  const nodes = new Map<string, Map<string, TaskStatus>>();
  for (const event of events) {
    switch (event.type) {
      case 'plan.started': {
        const { name, goal, planner } = event.payload;
        const entry = { name, goal, planner, status: 'running' as const, rejected: [], revisions: [] };
        plans.set(name, entry);
        history.plans.push(entry);
        break;
      }
      case 'plan.rejected': {
        const { name, revision, attempt, problems } = event.payload;
        plans.get(name)?.rejected.push({ revision, attempt, seq: event.seq, problems });
        break;
      }
      case 'plan.decided': {
        const decided = event.payload;
        plans.get(decided.name)?.revisions.push({
          revision: decided.revision,
          seq: event.seq,
          planner: decided.planner,
          ...(decided.editedBy ? { editedBy: decided.editedBy } : {}),
          ...(decided.replaces ? { replaces: decided.replaces } : {}),
          tasks: decided.tasks.map((task) => ({ ...task, status: 'pending' })),
          levels: decided.levels,
          kept: decided.kept,
        });
        break;
      }
      case 'plan.completed':
      case 'plan.failed': {
        const entry = plans.get(event.payload.name);
        if (!entry) break;
        entry.status = event.type === 'plan.completed' ? 'completed' : 'failed';
        if (event.type === 'plan.failed') {
          const { code, reason } = event.payload;
          entry.failure = { code, reason };
        }
        break;
      }
      case 'graph.node.started':
      case 'graph.node.completed':
      case 'graph.node.failed':
      case 'graph.node.skipped': {
        const { graph, node } = event.payload;
        const status = event.type.slice('graph.node.'.length);
        const byNode = nodes.get(graph) ?? new Map<string, TaskStatus>();
        byNode.set(node, status === 'started' ? 'running' : (status as TaskStatus));
        nodes.set(graph, byNode);
        break;
      }
      case 'machine.started': {
        const started = event.payload;
        const entry = {
          name: started.name,
          initial: started.initial,
          status: 'running' as const,
          edges: started.edges.map((edge) => ({ ...edge, taken: 0 })),
          path: [],
        };
        machines.set(started.name, entry);
        history.machines.push(entry);
        break;
      }
      case 'machine.state.entered': {
        const { name, state } = event.payload;
        machines.get(name)?.path.push(state);
        break;
      }
      case 'machine.transitioned': {
        const { name, from, to, taken } = event.payload;
        const edge = machines
          .get(name)
          ?.edges.find((candidate) => candidate.from === from && candidate.to === to);
        if (edge) edge.taken = taken;
        break;
      }
      case 'machine.completed':
      case 'machine.failed': {
        const entry = machines.get(event.payload.name);
        if (!entry) break;
        entry.status = event.type === 'machine.completed' ? 'completed' : 'failed';
        if (event.type === 'machine.completed') entry.final = (event.payload as { final: string }).final;
        break;
      }
    }
  }
  for (const entry of history.plans)
    for (const revision of entry.revisions) {
      const statuses = nodes.get(`${entry.name}.r${revision.revision}`);
      for (const task of revision.tasks) task.status = statuses?.get(task.id) ?? 'pending';
    }
  return history;
}

const MARK: Record<TaskStatus, string> = {
  pending: ' ',
  running: '…',
  completed: '✓',
  failed: '✗',
  skipped: '-',
  kept: '=',
};

/**
 * The plans and machines of a run as text: each plan revision's levels with every task's worker and
 * how it ended (✓ completed, ✗ failed, … running, = kept from an earlier revision), what replaced it
 * and why, rejected proposals; each machine's edges with the times each was taken.
 */
export function formatPlans(history: PlanHistory): string {
  const lines: string[] = [];
  for (const entry of history.plans) {
    lines.push(`plan ${entry.name} (${entry.status}) planned by ${entry.planner}`, `  goal: ${entry.goal}`);
    for (const rejected of entry.rejected)
      lines.push(
        `  rejected proposal ${rejected.attempt} of revision ${rejected.revision} (seq ${rejected.seq}):`,
        ...rejected.problems.map((problem) => `    - ${problem}`),
      );
    for (const revision of entry.revisions) {
      const edit = revision.editedBy ? `, edited by ${revision.editedBy}` : '';
      lines.push(`  revision ${revision.revision} (seq ${revision.seq}${edit})`);
      if (revision.replaces)
        lines.push(
          `    replaces revision ${revision.replaces.revision} (seq ${revision.replaces.seq}): ${revision.replaces.reason}`,
        );
      if (revision.kept.length > 0) lines.push(`    kept: ${revision.kept.join(', ')}`);
      revision.levels.forEach((level, index) => {
        const cells = level.map((id) => {
          const task = revision.tasks.find((candidate) => candidate.id === id)!;
          return `${MARK[task.status]} ${id} → ${task.assigned}`;
        });
        lines.push(`    ${String(index).padStart(2)}  ${cells.join('   ')}`);
      });
      for (const task of revision.tasks)
        if (task.deps.length > 0) lines.push(`    ${task.deps.join(', ')} → ${task.id}`);
    }
    if (entry.failure) lines.push(`  failed: ${entry.failure.code}: ${entry.failure.reason}`);
  }
  for (const entry of history.machines) {
    lines.push(
      `machine ${entry.name} (${entry.status}${entry.final ? ` in ${entry.final}` : ''}), ${entry.path.length} step(s)`,
    );
    for (const edge of entry.edges)
      lines.push(
        `  ${edge.from} → ${edge.to}  taken ${edge.taken}${edge.max === undefined ? '' : ` of at most ${edge.max}`}`,
      );
  }
  if (lines.length === 0) lines.push('(this run has no plans and no state machines)');
  return lines.join('\n');
}
