import type { GraphState, NodeState } from '../journal/run-model/run-graphs.ts';

const MARK: Record<NodeState, string> = {
  pending: '·',
  running: '…',
  completed: '✓',
  failed: '✗',
  skipped: '-',
  kept: '=',
  chosen: '→',
};

/**
 * The route, parallel and sequential patterns a run went through, for `baton graph <run>`: a router
 * with each candidate (the chosen one marked →) and the condition on its edge, a fork's branches and
 * their join, a sequence's stages in order.
 */
export function formatPatternGraphs(graphs: readonly GraphState[]): string {
  return graphs.map(formatPatternGraph).join('\n');
}

function formatPatternGraph(graph: GraphState): string {
  const lines = [`${graph.title ?? graph.name}${graph.note ? `: ${graph.note}` : ''}`];
  const labelOf = (id: string) => graph.nodes.find((node) => node.id === id)?.label ?? id;
  const edgeLabel = (from: string, to: string) =>
    graph.edges?.find((edge) => edge.from === from && edge.to === to)?.label ?? '';
  if (graph.pattern === 'sequence') {
    lines.push(`  ${graph.nodes.map((node) => `${MARK[node.state]} ${labelOf(node.id)}`).join(' → ')}`);
    return lines.join('\n');
  }
  const [head, ...rest] = graph.nodes;
  if (!head) return lines.join('\n');
  lines.push(`  ${MARK[head.state]} ${labelOf(head.id)}`);
  for (const node of rest) {
    const into = edgeLabel(head.id, node.id);
    const out = graph.nodes.find((candidate) => candidate.deps.includes(node.id));
    const outLabel = out ? edgeLabel(node.id, out.id) : '';
    const condition = [into, outLabel].filter((part) => part !== '').join(' · ');
    lines.push(`    ${MARK[node.state]} ${node.label ?? node.id}${condition ? `  [${condition}]` : ''}`);
  }
  return lines.join('\n');
}
