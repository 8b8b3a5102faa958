import type { RunRecord, RunStatus } from '../store/store.ts';
import type { Output, Style } from './output.ts';

const STATUS_STYLES: Record<RunStatus, Style> = {
  pending: 'cyan',
  running: 'cyan',
  waiting: 'yellow',
  completed: 'green',
  failed: 'red',
  cancelled: 'yellow',
  continued: 'dim',
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
  'continued',
  'timed_out',
];

const iso = (time: number): string => new Date(time).toISOString();

/** A run as `--json` prints it: every time an ISO-8601 string, as everywhere else in the CLI. */
export function runJson(run: RunRecord): Record<string, unknown> {
  return {
    ...run,
    createdAt: iso(run.createdAt),
    updatedAt: iso(run.updatedAt),
    ...(run.wakeAt === undefined ? {} : { wakeAt: iso(run.wakeAt) }),
    ...(run.deadlineAt === undefined ? {} : { deadlineAt: iso(run.deadlineAt) }),
    ...(run.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: iso(run.leaseExpiresAt) }),
  };
}
