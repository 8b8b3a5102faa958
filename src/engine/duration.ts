import { InvalidArgumentError } from '../errors.ts';

/** A duration: milliseconds as a number, or a string such as '250ms', '10s', '10m', '2h', '2d', '1h30m'. */
export type Duration = number | string;

/** The longest delay `setTimeout` honours; a longer one fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function toMilliseconds(duration: Duration, what = 'duration'): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new InvalidArgumentError(
        `The ${what} must be a finite number of milliseconds ≥ 0, got ${duration}.`,
      );
    }
    return duration;
  }
  const text = duration.trim();
  const pattern = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    matched = pattern.lastIndex;
  }
  if (text.length === 0 || matched !== text.length) {
    throw new InvalidArgumentError(
      `Cannot read the ${what} '${duration}': use milliseconds or a string like '500ms', '10s', '5m', '2h', '3d'.`,
    );
  }
  return Math.round(total);
}
