import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  ReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
  type ReactFlowInstance,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import elkModule from 'elkjs/lib/elk.bundled.js';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { GraphState } from '../model/run-model.ts';

// elk.bundled.js is CommonJS whose export is the constructor, with itself as `default` too.
const elk = new elkModule.default();
const NODE_WIDTH = 150;
const NODE_HEIGHT = 40;

/**
 * A graph workflow's DAG, a plan's revision, a state machine, a route or a parallel fan-out (laid out
 * by ELK's layered algorithm), nodes coloured by their state, a machine's edges labelled with the times
 * each was taken, a route's with the reason and scores it was chosen by, a join's with each branch's end.
 */
export function GraphView(props: {
  graph: GraphState;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  const links = useMemo(
    () =>
      props.graph.edges ??
      props.graph.nodes.flatMap((node) => node.deps.map((dep) => ({ from: dep, to: node.id, label: '' }))),
    [props.graph],
  );
  const gap = layerGap(links);
  const shape =
    links.map((link) => `${link.from}>${link.to}`).join('|') +
    `@${gap}` +
    `#${props.graph.nodes.map((node) => node.id).join(',')}`;
  const [positions, setPositions] = useState<Map<string, { x: number; y: number }>>();
  const flow = useRef<ReactFlowInstance | null>(null);
  const box = useRef<HTMLDivElement>(null);
  // Fit again whenever the box changes size (the inspector opening beside it narrows it).
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => void flow.current?.fitView({ maxZoom: 1, padding: 0.2 }));
    observer.observe(element);
    return () => observer.disconnect();
  }, [positions]);

  useEffect(() => {
    let cancelled = false;
    const nodes = props.graph.nodes;
    elk
      .layout({
        id: 'root',
        layoutOptions: {
          'elk.algorithm': 'layered',
          'elk.direction': 'RIGHT',
          'elk.spacing.nodeNode': '24',
          'elk.layered.spacing.nodeNodeBetweenLayers': String(gap),
        },
        children: nodes.map((node) => ({ id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
        edges: links.map((link) => ({
          id: `${link.from}->${link.to}`,
          sources: [link.from],
          targets: [link.to],
        })),
      })
      .then((layout) => {
        if (cancelled) return;
        setPositions(
          new Map((layout.children ?? []).map((child) => [child.id, { x: child.x ?? 0, y: child.y ?? 0 }])),
        );
      })
      .catch(() => {
        // ELK failed: fall back to one column per dependency depth.
        if (!cancelled) setPositions(fallbackLayout(props.graph));
      });
    return () => {
      cancelled = true;
    };
    // The layout depends on the shape only, not on node states.
  }, [shape]);

  const nodes: Node[] = useMemo(
    () =>
      props.graph.nodes.map((node) => ({
        id: node.id,
        position: positions?.get(node.id) ?? { x: 0, y: 0 },
        data: { label: `${node.label ?? node.id} · ${node.state}` },
        className: `graph-node state-${node.state}${node.seq !== undefined && node.seq === props.selected ? ' selected' : ''}`,
        style: { width: NODE_WIDTH, height: NODE_HEIGHT },
        sourcePosition: 'right' as Node['sourcePosition'],
        targetPosition: 'left' as Node['targetPosition'],
        connectable: false,
        draggable: false,
      })),
    [props.graph, positions, props.selected],
  );
  const edges: Edge[] = useMemo(
    () =>
      links.map((link) => ({
        id: `${link.from}->${link.to}`,
        source: link.from,
        target: link.to,
        ...(link.label ? { label: link.label } : {}),
        // The route a router chose: its edge drawn heavier than the candidates it passed over.
        ...(stateOf(props.graph, link.to) === 'chosen' ? { className: 'chosen-edge' } : {}),
        // An edge going back (a loop) is drawn around the nodes, not through them.
        ...(isBackEdge(positions, link) ? { type: 'loop' } : {}),
        animated: stateOf(props.graph, link.to) === 'running',
      })),
    [props.graph, links, positions],
  );

  if (!positions) return <p className="muted">Laying out the graph…</p>;
  return (
    <div className="graph" data-testid="graph" ref={box}>
      <ReactFlow
        onInit={(instance) => (flow.current = instance)}
        edgeTypes={EDGE_TYPES}
        nodes={nodes}
        edges={edges}
        fitView
        fitViewOptions={{ maxZoom: 1, padding: 0.2 }}
        nodesConnectable={false}
        nodesDraggable={false}
        proOptions={{ hideAttribution: true }}
        onNodeClick={(_, node) => {
          const seq = props.graph.nodes.find((candidate) => candidate.id === node.id)?.seq;
          if (seq !== undefined) props.onSelect(seq);
        }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

/** An edge going back to an earlier node (a machine's loop): an arc below the nodes, its label at the bottom. */
function LoopEdge(props: EdgeProps) {
  const { sourceX, sourceY, targetX, targetY } = props;
  const depth = 80;
  const path = `M ${sourceX},${sourceY} C ${sourceX + 90},${sourceY + depth} ${targetX - 90},${targetY + depth} ${targetX},${targetY}`;
  const labelX = (sourceX + targetX) / 2;
  const labelY = (sourceY + targetY) / 2 + depth * 0.75;
  return (
    <>
      <BaseEdge id={props.id} path={path} {...(props.markerEnd ? { markerEnd: props.markerEnd } : {})} />
      {props.label ? (
        <EdgeLabelRenderer>
          <div
            className="loop-edge-label"
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            {props.label}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
}

const EDGE_TYPES = { loop: LoopEdge };

/** Room between layers for the longest edge label (a route's reason), so labels do not cover nodes. */
function layerGap(links: readonly { label: string }[]): number {
  const longest = Math.max(0, ...links.map((link) => link.label.length));
  return Math.max(48, Math.min(360, Math.round(longest * 6.5) + 32));
}

function stateOf(graph: GraphState, id: string): GraphState['nodes'][number]['state'] | undefined {
  return graph.nodes.find((node) => node.id === id)?.state;
}

/** True for an edge laid out right to left (or onto itself): one that closes a loop. */
function isBackEdge(
  positions: Map<string, { x: number; y: number }> | undefined,
  link: { from: string; to: string },
): boolean {
  const from = positions?.get(link.from);
  const to = positions?.get(link.to);
  return from !== undefined && to !== undefined && to.x <= from.x;
}

function fallbackLayout(graph: GraphState): Map<string, { x: number; y: number }> {
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const node = graph.nodes.find((candidate) => candidate.id === id);
    const value =
      node && node.deps.length > 0 ? 1 + Math.max(...node.deps.map((dep) => depthOf(dep, seen))) : 0;
    depth.set(id, value);
    return value;
  };
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of graph.nodes) {
    const column = depthOf(node.id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(node.id, { x: column * (NODE_WIDTH + 48), y: row * (NODE_HEIGHT + 24) });
  }
  return positions;
}
