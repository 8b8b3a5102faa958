import type { Timeline as TimelineModel } from '../model/run-model.ts';
import { formatDuration } from './format.ts';

const LANE_HEIGHT = 24;

/** Steps, model calls, tool calls, waits and graph nodes over time; work that overlapped stacks in lanes. */
export function Timeline(props: {
  timeline: TimelineModel;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  const { items, lanes, start, end } = props.timeline;
  const span = Math.max(end - start, 1);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  if (items.length === 0) return <p className="muted">Nothing has happened yet.</p>;
  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-axis">
        {ticks.map((tick) => (
          <span key={tick} style={{ left: `${tick * 100}%` }}>
            {formatDuration(tick * span)}
          </span>
        ))}
      </div>
      <div className="timeline-lanes" style={{ height: lanes * LANE_HEIGHT }}>
        {items.map((item) => {
          const left = ((item.start - start) / span) * 100;
          const right = (((item.end ?? end) - start) / span) * 100;
          const width = Math.max(right - left, 0.4);
          return (
            <button
              type="button"
              key={item.seq}
              className={`bar bar-${item.kind} status-${item.status}${props.selected === item.seq ? ' selected' : ''}${item.end === undefined ? ' open' : ''}`}
              style={{ left: `${Math.min(left, 99.6)}%`, width: `${width}%`, top: item.lane * LANE_HEIGHT }}
              title={`${item.label} · ${item.status} · ${item.end === undefined ? 'still going' : formatDuration(item.end - item.start)}`}
              onClick={() => props.onSelect(item.seq)}
              data-kind={item.kind}
            >
              <span>{item.label}</span>
            </button>
          );
        })}
      </div>
      <div className="legend">
        {(['agent', 'model', 'tool', 'step', 'node', 'approval', 'signal', 'timer', 'child'] as const)
          .filter((kind) => items.some((item) => item.kind === kind))
          .map((kind) => (
            <span key={kind} className={`legend-item bar-${kind}`}>
              {kind}
            </span>
          ))}
      </div>
    </div>
  );
}
