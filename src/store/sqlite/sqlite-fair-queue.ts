import type { StatementSync } from 'node:sqlite';
import { sqliteLimit } from './sqlite-dialect.ts';

const LIMIT = sqliteLimit('?');

type Prepare = (sql: string) => StatementSync;

/**
 * Start-time fair queuing between tenants, for claimRuns (migration 4). Each new run is tagged
 * `max(virtual time, its tenant's last tag) + 1`; claims take pending runs by priority, then tag;
 * claiming advances the virtual time to the highest tag claimed. A tenant that queued 1,000 runs
 * holds tags far ahead of the virtual time, so another tenant's new run is tagged just after the
 * runs being claimed now and goes next, instead of after the burst.
 */
export function nextFairKey(prepare: Prepare, tenant: string): number {
  const clock = prepare('SELECT virtual_time FROM fair_clock WHERE id = 1').get();
  const last = prepare('SELECT last_key FROM fair_queue WHERE tenant = ?').get(tenant);
  const key = Math.max(Number(clock?.virtual_time ?? 0), Number(last?.last_key ?? 0)) + 1;
  prepare(
    `INSERT INTO fair_queue (tenant, last_key) VALUES (?, ?)
     ON CONFLICT (tenant) DO UPDATE SET last_key = excluded.last_key`,
  ).run(tenant, key);
  return key;
}

/** Moves the virtual time up to the highest tag among runs just claimed. */
export function advanceVirtualTime(prepare: Prepare, claimedKeys: readonly number[]): void {
  if (claimedKeys.length === 0) return;
  const highest = Math.max(...claimedKeys);
  prepare('UPDATE fair_clock SET virtual_time = ? WHERE id = 1 AND virtual_time < ?').run(highest, highest);
}

/**
 * The claim statement: each source of runnable runs is read through its index up to `limit`, then
 * the union is ordered by priority, fair tag and age. Paused runs are never claimed (migration 5). Parameters, in order: owner, lease expiry,
 * now (updated_at), then for each of the four sources its time bound(s) and (when `filtered`) the
 * workflow list as JSON, then the limit repeated per source and once overall (see claimParams).
 */
export function claimSql(filtered: boolean): string {
  const only = filtered ? 'AND workflow IN (SELECT value FROM json_each(?))' : '';
  const order = 'ORDER BY priority DESC, fair_key, created_at';
  const source = (where: string): string =>
    `SELECT * FROM (SELECT run_id, priority, fair_key, created_at FROM runs WHERE ${where} AND paused = 0 ${only} ${order} LIMIT ${LIMIT})`;
  return `UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ?, updated_at = ?
    WHERE run_id IN (
      SELECT run_id FROM (
        ${source(`status = 'pending'`)}
        UNION ${source(`status = 'waiting' AND wake_at <= ?`)}
        UNION ${source(`status IN ('waiting', 'running') AND deadline_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)`)}
        UNION ${source(`status = 'running' AND lease_expires_at <= ?`)}
      ) ${order} LIMIT ${LIMIT})
    RETURNING *`;
}

export function claimParams(
  owner: string,
  options: { limit: number; leaseMs: number; now: number; workflows?: readonly string[] },
): (string | number)[] {
  const { limit, now } = options;
  const only = options.workflows ? [JSON.stringify(options.workflows)] : [];
  return [
    owner,
    now + options.leaseMs,
    now,
    ...only,
    limit,
    now,
    ...only,
    limit,
    now,
    now,
    ...only,
    limit,
    now,
    ...only,
    limit,
    limit,
  ];
}
