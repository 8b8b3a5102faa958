import type { ApprovalQuery } from '../approval-query.ts';

const EVENT_COLUMNS =
  'e.run_id, e.seq, e.type, e.at, e.actor, e.on_behalf_of, e.payload, e.prev_hash, e.hash';

/**
 * The SQL of the approval inbox (`Store.pendingApprovals`): `approval.requested` events of
 * unfinished runs with no `approval.decided` for the same approval, oldest first (by `at`, then
 * run and seq). Both event types are read through the partial indexes of migration 7; payloads
 * are read as `json`, which does not choke on a payload it does not look into.
 */
export function pendingApprovalsSql(
  quotedSchema: string,
  query: ApprovalQuery,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = [`e.type = 'approval.requested'`, `r.status IN ('pending', 'running', 'waiting')`];
  if (query.tenant !== undefined) where.push(`r.tenant = ${param(query.tenant)}`);
  if (query.runId !== undefined) where.push(`e.run_id = ${param(query.runId)}`);
  where.push(`NOT EXISTS (
    SELECT 1 FROM ${quotedSchema}.events d WHERE d.run_id = e.run_id AND d.type = 'approval.decided'
      AND (d.payload::json ->> 'approvalId') = (e.payload::json ->> 'approvalId'))`);
  const text = `SELECT ${EVENT_COLUMNS} FROM ${quotedSchema}.events e JOIN ${quotedSchema}.runs r ON r.run_id = e.run_id
    WHERE ${where.join(' AND ')}
    ORDER BY e.at, e.run_id, e.seq LIMIT ${param(query.limit ?? 1000)}`;
  return { text, values };
}
