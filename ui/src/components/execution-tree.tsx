import type { KeyboardEvent } from 'react';
import { Link } from '../router.tsx';
import type { TreeNode } from '../model/run-model.ts';

/** The execution tree: agents → turns → model calls and tool calls, handoffs, approvals, verdicts. */
export function ExecutionTree(props: {
  root: TreeNode;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  return (
    <ul
      className="tree"
      role="tree"
      aria-label="Execution tree"
      data-testid="execution-tree"
      onKeyDown={moveInTree}
    >
      <TreeItem node={props.root} selected={props.selected} onSelect={props.onSelect} />
    </ul>
  );
}

function TreeItem(props: { node: TreeNode; selected: number | undefined; onSelect: (seq: number) => void }) {
  const { node } = props;
  return (
    <li role="treeitem" aria-expanded={node.children.length > 0 ? true : undefined}>
      <div className={`tree-row kind-${node.kind}`}>
        <button
          type="button"
          className={`tree-node status-${node.status}${props.selected === node.seq && node.kind !== 'run' && node.kind !== 'turn' ? ' selected' : ''}`}
          onClick={() => props.onSelect(node.seq)}
          data-kind={node.kind}
          data-status={node.status}
        >
          <span className="dot" aria-hidden="true" />
          <span className="tree-label">{node.label}</span>
        </button>
        {node.note && <span className="muted tree-note">{node.note}</span>}
        {node.link && (
          <Link to={`/runs/${encodeURIComponent(node.link)}`} className="tree-link">
            open
          </Link>
        )}
      </div>
      {node.children.length > 0 && (
        <ul role="group">
          {node.children.map((child) => (
            <TreeItem key={child.id} node={child} selected={props.selected} onSelect={props.onSelect} />
          ))}
        </ul>
      )}
    </li>
  );
}

/**
 * Arrow keys move between the tree's nodes: up and down to the previous and next node, left to the
 * parent, right to the first child, Home and End to the first and last node.
 */
function moveInTree(event: KeyboardEvent<HTMLUListElement>) {
  const nodes = [...event.currentTarget.querySelectorAll<HTMLButtonElement>('button.tree-node')];
  const current = document.activeElement as HTMLButtonElement;
  const at = nodes.indexOf(current);
  if (at < 0) return;
  const item = current.closest('[role=treeitem]');
  let target: HTMLButtonElement | null | undefined;
  if (event.key === 'ArrowDown') target = nodes[at + 1];
  else if (event.key === 'ArrowUp') target = nodes[at - 1];
  else if (event.key === 'Home') target = nodes[0];
  else if (event.key === 'End') target = nodes.at(-1);
  else if (event.key === 'ArrowLeft')
    target = item?.parentElement?.closest('[role=treeitem]')?.querySelector('button.tree-node');
  else if (event.key === 'ArrowRight') target = item?.querySelector(':scope > [role=group] button.tree-node');
  else return;
  event.preventDefault();
  target?.focus();
}
