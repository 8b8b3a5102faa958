import type { ApprovalQuery } from '../approval-query.ts';

/**
 * The SQL of the approval inbox: `approval.requested` events of unfinished runs with no
 * `approval.decided` for the same approval, oldest first. Both event types are read through the
 * partial indexes of migration 6.
 */
export function pendingApprovalsSql(query: ApprovalQuery): { sql: string; params: (string | number)[] } {
  const where = [`e.type = 'approval.requested'`, `r.status IN ('pending', 'running', 'waiting')`];
  const params: (string | number)[] = [];
  if (query.tenant !== undefined) {
    where.push('r.tenant = ?');
    params.push(query.tenant);
  }
  if (query.runId !== undefined) {
    where.push('e.run_id = ?');
    params.push(query.runId);
  }
  where.push(`NOT EXISTS (
    SELECT 1 FROM events d WHERE d.run_id = e.run_id AND d.type = 'approval.decided'
      AND json_extract(d.payload, '$.approvalId') = json_extract(e.payload, '$.approvalId'))`);
  params.push(query.limit ?? 1000);
  return {
    sql: `SELECT e.* FROM events e JOIN runs r ON r.run_id = e.run_id WHERE ${where.join(' AND ')}
      ORDER BY e.at, e.run_id, e.seq LIMIT ?`,
    params,
  };
}
