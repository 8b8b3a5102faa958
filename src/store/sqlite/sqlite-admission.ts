import type { StatementSync } from 'node:sqlite';
import { OverloadedError } from '../../errors.ts';
import type { NewRun } from '../store.ts';

type Prepare = (sql: string) => StatementSync;

/**
 * Bounded admission, inside createRun's transaction: throws OverloadedError, before anything is
 * written, when the pending runs of all tenants (or of the run's tenant) already number the bound.
 * `retryAfterMs` comes from how many runs (of that scope) finished in the last minute.
 */
export function checkAdmission(prepare: Prepare, run: NewRun): void {
  const bound = run.admission;
  if (!bound) return;
  const now = run.createdAt;
  if (bound.maxQueuedRunsPerTenant !== undefined) {
    const queued = Number(
      prepare(`SELECT COUNT(*) AS n FROM runs WHERE status = 'pending' AND tenant = ?`).get(run.tenant)!.n,
    );
    if (queued >= bound.maxQueuedRunsPerTenant) {
      const finished = Number(
        prepare(
          `SELECT COUNT(*) AS n FROM runs WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out') AND finished_at > ? AND tenant = ?`,
        ).get(now - 60_000, run.tenant)!.n,
      );
      throw new OverloadedError({
        queued,
        limit: bound.maxQueuedRunsPerTenant,
        tenant: run.tenant,
        finishedLastMinute: finished,
      });
    }
  }
  if (bound.maxQueuedRuns !== undefined) {
    const queued = Number(prepare(`SELECT COUNT(*) AS n FROM runs WHERE status = 'pending'`).get()!.n);
    if (queued >= bound.maxQueuedRuns) {
      const finished = Number(
        prepare(
          `SELECT COUNT(*) AS n FROM runs WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out') AND finished_at > ?`,
        ).get(now - 60_000)!.n,
      );
      throw new OverloadedError({ queued, limit: bound.maxQueuedRuns, finishedLastMinute: finished });
    }
  }
}
