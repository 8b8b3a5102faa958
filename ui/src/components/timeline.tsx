import { useMemo, useState, type KeyboardEvent } from 'react';
import type { Timeline as TimelineModel } from '../model/run-model.ts';
import { timelineAxis } from '../model/timeline-axis.ts';
import { formatDuration } from './format.ts';

const LANE_HEIGHT = 24;
const ZOOMS = [1, 2, 4, 8, 16] as const;

/**
 * Steps, model calls, tool calls, waits and graph nodes over time; work that overlapped stacks in
 * lanes, sequential work shares one. Long stretches with no work are cut short (a broken axis,
 * each cut labelled with how long it was); zoom widens the axis inside its own scroll area. Every
 * bar is in the tab order; arrow keys also move between the bars in time order.
 */
export function Timeline(props: {
  timeline: TimelineModel;
  selected: number | undefined;
  onSelect: (seq: number) => void;
}) {
  const { items, lanes, start, end } = props.timeline;
  const [compress, setCompress] = useState(true);
  const [zoom, setZoom] = useState<(typeof ZOOMS)[number]>(1);
  const axis = useMemo(() => timelineAxis(items, start, end, compress), [items, start, end, compress]);
  const ordered = useMemo(() => [...items].sort((a, b) => a.start - b.start || a.seq - b.seq), [items]);
  if (items.length === 0) return <p className="muted">Nothing has happened yet.</p>;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const hasCuts = axis.breaks.length > 0;

  const move = (event: KeyboardEvent<HTMLDivElement>) => {
    const at = ordered.findIndex((item) => String(item.seq) === (event.target as HTMLElement).dataset.seq);
    if (at < 0) return;
    const to =
      event.key === 'ArrowRight' || event.key === 'ArrowDown'
        ? Math.min(at + 1, ordered.length - 1)
        : event.key === 'ArrowLeft' || event.key === 'ArrowUp'
          ? Math.max(at - 1, 0)
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? ordered.length - 1
              : undefined;
    if (to === undefined) return;
    event.preventDefault();
    const seq = ordered[to]!.seq;
    event.currentTarget.querySelector<HTMLButtonElement>(`[data-seq="${seq}"]`)?.focus();
  };

  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-tools">
        <label className="check">
          <input
            type="checkbox"
            checked={compress}
            onChange={(event) => setCompress(event.target.checked)}
            data-testid="compress-waits"
          />
          Cut long waits short
        </label>
        <span className="grow" />
        <span className="muted" aria-live="polite">
          Zoom {zoom}×
        </span>
        <button
          type="button"
          className="quiet"
          onClick={() => setZoom(ZOOMS[Math.max(0, ZOOMS.indexOf(zoom) - 1)]!)}
          disabled={zoom === 1}
        >
          Zoom out
        </button>
        <button
          type="button"
          className="quiet"
          onClick={() => setZoom(ZOOMS[Math.min(ZOOMS.length - 1, ZOOMS.indexOf(zoom) + 1)]!)}
          disabled={zoom === ZOOMS.at(-1)}
          data-testid="zoom-in"
        >
          Zoom in
        </button>
      </div>
      <div className="timeline-scroll" data-testid="timeline-scroll" tabIndex={zoom > 1 ? 0 : undefined}>
        <div className="timeline-canvas" style={{ width: `${zoom * 100}%` }}>
          <div className="timeline-axis">
            {ticks.map((tick) => (
              <span key={tick} style={{ left: `${tick * 100}%` }}>
                {formatDuration(axis.timeAt(tick) - start)}
              </span>
            ))}
          </div>
          <div
            className="timeline-lanes"
            style={{ height: lanes * LANE_HEIGHT }}
            onKeyDown={move}
            role="group"
            aria-label="Timeline bars: arrow keys move between them"
          >
            {axis.breaks.map((cut) => (
              <div
                key={cut.start}
                className="timeline-break"
                style={{ left: `${cut.from * 100}%`, width: `${(cut.to - cut.from) * 100}%` }}
                title={`${formatDuration(cut.end - cut.start)} with no work, cut short`}
                data-testid="timeline-break"
              >
                <span>{formatDuration(cut.end - cut.start)}</span>
              </div>
            ))}
            {items.map((item) => {
              const left = axis.position(item.start) * 100;
              const right = axis.position(item.end ?? end) * 100;
              const width = Math.max(right - left, 0.4);
              return (
                <button
                  type="button"
                  key={item.seq}
                  className={`bar bar-${item.kind} status-${item.status}${props.selected === item.seq ? ' selected' : ''}${item.end === undefined ? ' open' : ''}`}
                  style={{
                    left: `${Math.min(left, 99.6)}%`,
                    width: `${width}%`,
                    top: item.lane * LANE_HEIGHT,
                  }}
                  title={`${item.label} · ${item.status} · ${item.end === undefined ? 'still going' : formatDuration(item.end - item.start)}`}
                  onClick={() => props.onSelect(item.seq)}
                  data-kind={item.kind}
                  data-seq={item.seq}
                >
                  <span>{item.label}</span>
                </button>
              );
            })}
          </div>
        </div>
      </div>
      <div className="legend">
        {(['agent', 'model', 'tool', 'step', 'node', 'approval', 'signal', 'timer', 'child'] as const)
          .filter((kind) => items.some((item) => item.kind === kind))
          .map((kind) => (
            <span key={kind} className={`legend-item bar-${kind}`}>
              {kind}
            </span>
          ))}
        {hasCuts && <span className="legend-item legend-break">cut: a long stretch with no work</span>}
      </div>
    </div>
  );
}
