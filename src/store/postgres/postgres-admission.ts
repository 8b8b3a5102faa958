import type pg from 'pg';
import { OverloadedError } from '../../errors.ts';
import type { NewRun } from '../store.ts';

/**
 * Bounded admission, inside createRun's transaction: throws OverloadedError, before anything is
 * written, when the pending runs of all tenants (or of the run's tenant) already number the bound.
 * `retryAfterMs` comes from how many runs (of that scope) finished in the last minute. Creations
 * under a bound take a transaction-scoped advisory lock (the bound's scope), so two processes never
 * both admit the last place.
 */
export async function checkAdmission(
  client: pg.PoolClient,
  quotedSchema: string,
  run: NewRun,
): Promise<void> {
  const bound = run.admission;
  if (!bound) return;
  const now = run.createdAt;
  const count = async (sql: string, values: unknown[]): Promise<number> =>
    Number((await client.query<{ n: string }>(sql, values)).rows[0]!.n);
  if (bound.maxQueuedRuns !== undefined) {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('baton.admission'), 0)`);
  }
  if (bound.maxQueuedRunsPerTenant !== undefined) {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('baton.admission'), hashtext($1))`, [
      run.tenant,
    ]);
    const queued = await count(
      `SELECT count(*) AS n FROM ${quotedSchema}.runs WHERE status = 'pending' AND tenant = $1`,
      [run.tenant],
    );
    if (queued >= bound.maxQueuedRunsPerTenant) {
      const finished = await count(
        `SELECT count(*) AS n FROM ${quotedSchema}.runs
         WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out') AND finished_at > $1 AND tenant = $2`,
        [now - 60_000, run.tenant],
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
    const queued = await count(`SELECT count(*) AS n FROM ${quotedSchema}.runs WHERE status = 'pending'`, []);
    if (queued >= bound.maxQueuedRuns) {
      const finished = await count(
        `SELECT count(*) AS n FROM ${quotedSchema}.runs WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out') AND finished_at > $1`,
        [now - 60_000],
      );
      throw new OverloadedError({ queued, limit: bound.maxQueuedRuns, finishedLastMinute: finished });
    }
  }
}
