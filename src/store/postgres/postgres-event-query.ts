import { InvalidArgumentError } from '../../errors.ts';
import { EVENT_QUERY_FIELD, type EventQuery } from '../event-query.ts';

/**
 * The SQL of an {@link EventQuery} over `events` (aliased `e`), with its parameters. Payloads are
 * read as `json` (not `jsonb`), so a payload holding `\u0000` elsewhere does not break the query.
 */
export function eventQuerySql(quotedSchema: string, query: EventQuery): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  let from = `${quotedSchema}.events e`;
  if (query.tenant !== undefined) {
    from = `${quotedSchema}.events e JOIN ${quotedSchema}.runs r ON r.run_id = e.run_id`;
    where.push(`r.tenant = ${param(query.tenant)}`);
  }
  if (query.runId !== undefined) where.push(`e.run_id = ${param(query.runId)}`);
  if (query.types?.length) where.push(`e.type = ANY(${param(query.types)}::text[])`);
  if (query.actor !== undefined) where.push(match('e.actor', query.actor, param));
  if (query.identity !== undefined) {
    const identity = param(query.identity);
    where.push(
      `(e.actor = ${identity} OR EXISTS (SELECT 1 FROM json_array_elements_text(e.on_behalf_of::json) AS member WHERE member = ${identity}))`,
    );
  }
  if (query.since !== undefined) where.push(`e.at >= ${param(new Date(query.since).toISOString())}`);
  if (query.until !== undefined) where.push(`e.at < ${param(new Date(query.until).toISOString())}`);
  for (const [field, value] of Object.entries(query.payload ?? {})) {
    if (!EVENT_QUERY_FIELD.test(field))
      throw new InvalidArgumentError(`'${field}' is not a payload field an event query can name.`);
    const kind = `json_typeof(e.payload::json -> '${field}')`;
    const text = `(e.payload::json ->> '${field}')`;
    if (typeof value === 'string') where.push(`(${kind} = 'string' AND ${match(text, value, param)})`);
    else if (typeof value === 'boolean')
      where.push(`(${kind} = 'boolean' AND ${text} = ${param(String(value))})`);
    // Payloads are written by JSON.stringify, which spells a number one way: compare that spelling.
    else where.push(`(${kind} = 'number' AND ${text} = ${param(JSON.stringify(value))})`);
  }
  const text = `SELECT e.* FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY e.at, e.run_id, e.seq LIMIT ${param(query.limit ?? 1000)}`;
  return { text, values };
}

/** Equality, or LIKE when the value has `*` (any run of characters; its other LIKE characters escaped). */
function match(column: string, value: string, param: (value: unknown) => string): string {
  if (!value.includes('*')) return `${column} = ${param(value)}`;
  const pattern = value.replace(/[\\%_]/g, (c) => `\\${c}`).replaceAll('*', '%');
  return `${column} LIKE ${param(pattern)}`;
}
