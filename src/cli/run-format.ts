import type { RunStatus } from '../store/store.ts';
import type { Output, Style } from './output.ts';

const STATUS_STYLES: Record<RunStatus, Style> = {
  pending: 'cyan',
  running: 'cyan',
  waiting: 'yellow',
  completed: 'green',
  failed: 'red',
  cancelled: 'yellow',
  timed_out: 'red',
};

/** A run status, coloured on a terminal. */
export function statusText(out: Output, status: RunStatus): string {
  return out.style(STATUS_STYLES[status], status);
}

export const RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
];
