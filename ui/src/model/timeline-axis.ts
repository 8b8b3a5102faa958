import type { TimelineItem } from './run-model.ts';

/** Bars that stand for waiting (on time, a signal, a person): the time they span is not work. */
const WAITS = new Set<TimelineItem['kind']>(['timer', 'signal', 'approval']);
/** A stretch with no work is cut when it is longer than this share of the run and this many ms. */
const LONG_SHARE = 0.1;
const LONG_MS = 1000;
/** The width, as a share of the axis, a cut stretch keeps. */
const CUT_WIDTH = 0.04;

/** A stretch of time with no work, drawn narrow (a broken axis). */
export interface AxisBreak {
  start: number;
  end: number;
  /** Where the cut is drawn, as shares of the axis (0–1). */
  from: number;
  to: number;
}

/** Time → position on the axis (0–1), with long idle stretches cut short. */
export interface TimelineAxis {
  position(time: number): number;
  breaks: AxisBreak[];
  /** The time at a position (for tick labels): inside a cut, its start. */
  timeAt(position: number): number;
}

/** Work intervals, merged: the run's time that something other than a wait took. */
function busyIntervals(items: readonly TimelineItem[], end: number): [number, number][] {
  const spans = items
    .filter((item) => !WAITS.has(item.kind))
    .map((item): [number, number] => [item.start, item.end ?? end])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of spans) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/**
 * The axis of a timeline from `start` to `end`: linear, except that stretches with no work longer
 * than a tenth of the run (waits for a timer, a signal or a person; the gap between a fork's copied
 * events and its own) are cut to a sliver each, so the work around them stays readable. With
 * `compress` false, or nothing long to cut, the axis is linear.
 */
export function timelineAxis(
  items: readonly TimelineItem[],
  start: number,
  end: number,
  compress: boolean,
): TimelineAxis {
  const span = Math.max(end - start, 1);
  const idle: [number, number][] = [];
  if (compress) {
    let cursor = start;
    for (const [from, to] of [...busyIntervals(items, end), [end, end] as [number, number]]) {
      if (from - cursor > Math.max(LONG_MS, span * LONG_SHARE)) idle.push([cursor, from]);
      cursor = Math.max(cursor, to);
    }
  }
  const cutTime = idle.reduce((sum, [from, to]) => sum + (to - from), 0);
  const cutShare = Math.min(idle.length * CUT_WIDTH, 0.5);
  const perMs = (1 - cutShare) / Math.max(span - cutTime, 1);
  const position = (time: number): number => {
    let at = 0;
    let cursor = start;
    for (const [from, to] of idle) {
      if (time <= from) break;
      at += (from - cursor) * perMs;
      if (time < to) return at + ((time - from) / (to - from)) * (cutShare / idle.length);
      at += cutShare / idle.length;
      cursor = to;
    }
    return Math.min(1, at + (Math.min(time, end) - cursor) * perMs);
  };
  const breaks = idle.map(([from, to]) => ({ start: from, end: to, from: position(from), to: position(to) }));
  const timeAt = (share: number): number => {
    let cursor = start;
    let at = 0;
    for (const cut of breaks) {
      if (share <= cut.from) break;
      if (share < cut.to) return cut.start;
      at = cut.to;
      cursor = cut.end;
    }
    return cursor + (share - at) / perMs;
  };
  return { position, breaks, timeAt };
}
