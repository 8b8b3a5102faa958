import { Link } from '../router.tsx';
import type { TreeNode } from '../model/run-model.ts';

/** The execution tree: agents → turns → model calls and tool calls, handoffs, approvals, verdicts. */
export function ExecutionTree(props: {
  root: TreeNode;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  return (
    <ul className="tree" role="tree" data-testid="execution-tree">
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
