import type { JournalEvent } from '../../../src/journal/events.ts';
import type { TreeKind, TreeNode } from './run-model.ts';

/** A node of the tree as drawn: the model's nodes, and groups around what ran inside a pattern. */
export interface DisplayNode extends Omit<TreeNode, 'kind' | 'children'> {
  kind: TreeKind | 'parallel' | 'sequence';
  children: DisplayNode[];
}

interface PatternSpan {
  kind: 'parallel' | 'sequence';
  label: string;
  note: string;
  from: number;
  to: number;
  status: TreeNode['status'];
}

type Payload = Record<string, unknown>;

/** The parallel and sequence patterns of a run: where each began and ended in the journal. */
function patternSpans(events: readonly JournalEvent[]): PatternSpan[] {
  const open = new Map<number, PatternSpan>();
  const spans: PatternSpan[] = [];
  for (const event of events) {
    const [kind, phase] = event.type.split('.');
    if (kind !== 'parallel' && kind !== 'sequence') continue;
    const payload = event.payload as Payload;
    const op = typeof payload.op === 'number' ? payload.op : undefined;
    if (op === undefined) continue;
    if (phase === 'started') {
      const parts = kind === 'parallel' ? payload.branches : payload.stages;
      const names = Array.isArray(parts) ? parts.map(String) : [];
      const span: PatternSpan = {
        kind,
        label: `${kind} ${String(payload.name)}`,
        note: `${kind === 'parallel' ? 'at once' : 'in turn'}: ${names.join(', ')}`,
        from: event.seq,
        to: Number.POSITIVE_INFINITY,
        status: 'running',
      };
      open.set(op, span);
      spans.push(span);
    } else if (phase === 'completed' || phase === 'failed') {
      const span = open.get(op);
      if (!span) continue;
      span.to = event.seq;
      span.status = phase === 'completed' ? 'completed' : 'failed';
    }
  }
  return spans;
}

/**
 * The tree with the work each parallel or sequence pattern ran gathered under a node for the
 * pattern (as `baton explain` shows it), and each route decision followed by the agent it chose
 * under one node. Innermost patterns gather first; nodes keep their order.
 */
export function groupTree(root: TreeNode, events: readonly JournalEvent[]): DisplayNode {
  const spans = patternSpans(events).sort((a, b) => b.from - a.from);
  return group(root, spans);
}

function group(node: TreeNode, spans: readonly PatternSpan[]): DisplayNode {
  let children: DisplayNode[] = node.children.map((child) => group(child, spans));
  children = routeGroups(children);
  for (const span of spans) {
    const inside = children.filter((child) => child.seq > span.from && child.seq <= span.to);
    if (inside.length === 0) continue;
    const at = children.indexOf(inside[0]!);
    const wrapper: DisplayNode = {
      id: `${node.id}/${span.kind}-${span.from}`,
      kind: span.kind,
      label: span.label,
      note: span.note,
      seq: span.from,
      status: span.status,
      children: inside,
    };
    children = [
      ...children.slice(0, at),
      wrapper,
      ...children.filter((child, index) => index >= at && !inside.includes(child)),
    ];
  }
  return { ...node, children };
}

/** A route decision and the agent right after it become one node: the route, with the chosen agent inside. */
function routeGroups(children: DisplayNode[]): DisplayNode[] {
  const out: DisplayNode[] = [];
  for (let index = 0; index < children.length; index++) {
    const child = children[index]!;
    const next = children[index + 1];
    if (child.kind === 'route' && child.children.length === 0 && next?.kind === 'agent') {
      out.push({ ...child, children: [next] });
      index++;
    } else out.push(child);
  }
  return out;
}
