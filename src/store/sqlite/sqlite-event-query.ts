import { InvalidArgumentError } from '../../errors.ts';
import { EVENT_QUERY_FIELD, type EventQuery } from '../event-query.ts';

/** The SQL of an {@link EventQuery} over the `events` table (aliased `e`), with its parameters. */
export function eventQuerySql(query: EventQuery): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  let from = 'events e';
  if (query.tenant !== undefined) {
    from = 'events e JOIN runs r ON r.run_id = e.run_id';
    where.push('r.tenant = ?');
    params.push(query.tenant);
  }
  if (query.runId !== undefined) {
    where.push('e.run_id = ?');
    params.push(query.runId);
  }
  if (query.types?.length) {
    where.push(`e.type IN (${query.types.map(() => '?').join(', ')})`);
    params.push(...query.types);
  }
  if (query.actor !== undefined) {
    where.push(match('e.actor', query.actor, params));
  }
  if (query.identity !== undefined) {
    where.push('(e.actor = ? OR EXISTS (SELECT 1 FROM json_each(e.on_behalf_of) WHERE value = ?))');
    params.push(query.identity, query.identity);
  }
  if (query.since !== undefined) {
    where.push('e.at >= ?');
    params.push(new Date(query.since).toISOString());
  }
  if (query.until !== undefined) {
    where.push('e.at < ?');
    params.push(new Date(query.until).toISOString());
  }
  for (const [field, value] of Object.entries(query.payload ?? {})) {
    if (!EVENT_QUERY_FIELD.test(field))
      throw new InvalidArgumentError(`'${field}' is not a payload field an event query can name.`);
    const path = `json_extract(e.payload, '$.${field}')`;
    if (typeof value === 'string') where.push(match(path, value, params));
    else {
      where.push(`${path} = ?`);
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    }
  }
  const sql = `SELECT e.* FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY e.at, e.run_id, e.seq LIMIT ?`;
  params.push(query.limit ?? 1000);
  return { sql, params };
}

/** Equality, or GLOB when the value has `*` (its other GLOB characters escaped). */
function match(column: string, value: string, params: (string | number)[]): string {
  if (!value.includes('*')) {
    params.push(value);
    return `${column} = ?`;
  }
  params.push(value.replace(/[[?]/g, (c) => `[${c}]`));
  return `${column} GLOB ?`;
}
