import type { GraphDescription } from './graph-types.ts';
import type { MachineDescription } from './machine-types.ts';

/**
 * A graph's structure as text, for `baton graph <workflow>`: its parallel levels (nodes on one
 * level can run at once), then its edges. Conditional nodes carry `?`; optional edges (whose skip
 * does not skip the dependent) are drawn `-->`.
 *
 * @example
 * console.log(formatGraph(research.describe()));
 * // graph research (4 nodes, 4 edges)
 * // levels
 * //   0  plan
 * //   1  web  math?
 * //   2  write
 * // edges
 * //   plan → web
 * //   …
 */
export function formatGraph(description: GraphDescription): string {
  const conditional = new Set(description.nodes.filter((node) => node.conditional).map((node) => node.id));
  const lines = [
    `graph ${description.name} (${description.nodes.length} node${description.nodes.length === 1 ? '' : 's'}, ` +
      `${description.edges.length} edge${description.edges.length === 1 ? '' : 's'})`,
  ];
  if (description.description) lines.push(`  ${description.description}`);
  lines.push('levels');
  description.levels.forEach((level, index) => {
    lines.push(
      `  ${String(index).padStart(2)}  ${level.map((id) => (conditional.has(id) ? `${id}?` : id)).join('  ')}`,
    );
  });
  lines.push('edges');
  if (description.edges.length === 0) lines.push('  (none)');
  for (const edge of description.edges)
    lines.push(`  ${edge.from} ${edge.optional ? '-->' : '→'} ${edge.to}`);
  const described = description.nodes.filter((node) => node.description);
  if (described.length > 0) {
    lines.push('nodes');
    const width = Math.max(...described.map((node) => node.id.length));
    for (const node of described) lines.push(`  ${node.id.padEnd(width)}  ${node.description}`);
  }
  if (conditional.size > 0 || description.edges.some((edge) => edge.optional)) {
    lines.push(
      '(? runs only when its condition holds; --> the dependent runs even when that dependency is skipped)',
    );
  }
  return lines.join('\n');
}

/**
 * A state machine's structure as text: its states (final ones marked), its edges in the order they
 * are tried (`?` when conditional, with their bounds), and its cycles with the bound that ends each.
 */
export function formatMachine(description: MachineDescription): string {
  const lines = [
    `machine ${description.name} (${description.states.length} states, ${description.edges.length} edges), starts in ${description.initial}`,
  ];
  if (description.description) lines.push(`  ${description.description}`);
  lines.push('edges');
  for (const edge of description.edges)
    lines.push(
      `  ${edge.from} → ${edge.to}${edge.conditional ? '?' : ''}${edge.max === undefined ? '' : `  (at most ${edge.max})`}`,
    );
  lines.push(
    `final: ${description.states
      .filter((state) => state.final)
      .map((state) => state.id)
      .join(', ')}`,
  );
  if (description.cycles.length > 0) {
    lines.push('cycles');
    for (const cycle of description.cycles) lines.push(`  ${cycle.path.join(' → ')}: ${cycle.bound}`);
  }
  return lines.join('\n');
}
