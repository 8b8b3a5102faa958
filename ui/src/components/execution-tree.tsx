import { useState, type KeyboardEvent } from 'react';
import { Link } from '../router.tsx';
import type { DisplayNode } from '../model/tree-groups.ts';

/**
 * The execution tree: agents → turns → model calls and tool calls, handoffs, approvals, verdicts;
 * parallel and sequence patterns and route decisions gather what ran under them. Nodes with
 * children fold and unfold (click the triangle, or arrow keys: left folds, right unfolds).
 */
export function ExecutionTree(props: {
  root: DisplayNode;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  const [folded, setFolded] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string, fold?: boolean) =>
    setFolded((current) => {
      const next = new Set(current);
      if (fold ?? !next.has(id)) next.add(id);
      else next.delete(id);
      return next;
    });
  return (
    <ul
      className="tree"
      role="tree"
      aria-label="Execution tree"
      data-testid="execution-tree"
      onKeyDown={(event) => moveInTree(event, toggle)}
    >
      <TreeItem
        node={props.root}
        selected={props.selected}
        onSelect={props.onSelect}
        folded={folded}
        onToggle={toggle}
      />
    </ul>
  );
}

function TreeItem(props: {
  node: DisplayNode;
  selected: number | undefined;
  onSelect: (seq: number) => void;
  folded: ReadonlySet<string>;
  onToggle: (id: string) => void;
}) {
  const { node } = props;
  const parent = node.children.length > 0;
  const open = parent && !props.folded.has(node.id);
  return (
    <li role="treeitem" aria-expanded={parent ? open : undefined} data-node={node.id} aria-selected={false}>
      <div className={`tree-row kind-${node.kind}`}>
        {parent ? (
          <button
            type="button"
            className="tree-toggle quiet"
            tabIndex={-1}
            aria-hidden="true"
            onClick={() => props.onToggle(node.id)}
            data-testid="tree-toggle"
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="tree-toggle-space" aria-hidden="true" />
        )}
        <button
          type="button"
          className={`tree-node status-${node.status}${props.selected === node.seq && node.kind !== 'run' && node.kind !== 'turn' && node.kind !== 'parallel' && node.kind !== 'sequence' ? ' selected' : ''}`}
          onClick={() => props.onSelect(node.seq)}
          data-kind={node.kind}
          data-status={node.status}
        >
          <span className="dot" aria-hidden="true" />
          <span className="tree-label">{node.label}</span>
          {parent && !open && (
            <span className="visually-hidden"> (folded: {node.children.length} inside)</span>
          )}
        </button>
        {node.note && <span className="muted tree-note">{node.note}</span>}
        {node.link && (
          <Link to={`/runs/${encodeURIComponent(node.link)}`} className="tree-link">
            open
          </Link>
        )}
      </div>
      {open && (
        <ul role="group">
          {node.children.map((child) => (
            <TreeItem
              key={child.id}
              node={child}
              selected={props.selected}
              onSelect={props.onSelect}
              folded={props.folded}
              onToggle={props.onToggle}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

/**
 * Arrow keys move between the tree's nodes (the ARIA tree pattern): up and down to the previous
 * and next node shown; right unfolds a folded node, else goes to its first child; left folds an
 * unfolded node, else goes to its parent; Home and End to the first and last node.
 */
function moveInTree(event: KeyboardEvent<HTMLUListElement>, toggle: (id: string, fold?: boolean) => void) {
  const nodes = [...event.currentTarget.querySelectorAll<HTMLButtonElement>('button.tree-node')];
  const current = document.activeElement;
  const at = nodes.findIndex((node) => node === current);
  if (at < 0) return;
  const item = nodes[at]!.closest<HTMLElement>('[role=treeitem]');
  const id = item?.dataset.node;
  const expanded = item?.getAttribute('aria-expanded');
  let target: HTMLButtonElement | null | undefined;
  if (event.key === 'ArrowDown') target = nodes[at + 1];
  else if (event.key === 'ArrowUp') target = nodes[at - 1];
  else if (event.key === 'Home') target = nodes[0];
  else if (event.key === 'End') target = nodes.at(-1);
  else if (event.key === 'ArrowLeft') {
    if (expanded === 'true' && id !== undefined) toggle(id, true);
    else target = item?.parentElement?.closest('[role=treeitem]')?.querySelector('button.tree-node');
  } else if (event.key === 'ArrowRight') {
    if (expanded === 'false' && id !== undefined) toggle(id, false);
    else target = item?.querySelector(':scope > [role=group] button.tree-node');
  } else return;
  event.preventDefault();
  target?.focus();
}
