import type { SqlDialect } from '../sql-dialect.ts';

/**
 * PostgreSQL's spelling of the read queries: tables in the store's schema, `$n` placeholders, JSON
 * kept as text read as `json` (not `jsonb`, which refuses `\u0000` in a string and would fail on a
 * payload the query does not even look into), LIKE for wildcards, real booleans.
 */
export function postgresDialect(quotedSchema: string): SqlDialect {
  const dialect: SqlDialect = {
    name: 'postgres',
    table: (name) => `${quotedSchema}.${name}`,
    placeholder: (index) => `$${index}`,
    limit: (placeholder) => placeholder,
    jsonArrayHas: (column, placeholder) =>
      `EXISTS (SELECT 1 FROM json_array_elements_text(${column}::json) AS member WHERE member = ${placeholder})`,
    jsonText: (column, field) => `(${column}::json ->> '${field}')`,
    jsonFieldIs(column, field, value, query) {
      const kind = `json_typeof(${column}::json -> '${field}')`;
      const text = `(${column}::json ->> '${field}')`;
      if (typeof value === 'string')
        return `(${kind} = 'string' AND ${dialect.wildcard(text, value, query)})`;
      if (typeof value === 'boolean')
        return `(${kind} = 'boolean' AND ${text} = ${query.add(String(value))})`;
      // Payloads are written by JSON.stringify, which spells a number one way: compare that spelling.
      return `(${kind} = 'number' AND ${text} = ${query.add(JSON.stringify(value))})`;
    },
    wildcard(column, value, query) {
      if (!value.includes('*')) return `${column} = ${query.add(value)}`;
      const pattern = value.replace(/[\\%_]/g, (c) => `\\${c}`).replaceAll('*', '%');
      return `${column} LIKE ${query.add(pattern)}`;
    },
    isFalse: (column) => `NOT ${column}`,
  };
  return dialect;
}
