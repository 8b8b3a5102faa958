/**
 * What differs between the SQL of Baton's two backends when they read: how a table is named (the
 * PostgreSQL store keeps its tables in a schema of their own), how a placeholder is spelled, how a
 * JSON column is looked into, how a wildcard matches, how a boolean is stored. The read queries
 * (read-queries.ts) are written once over this; each driver folder has a `*-dialect.ts` with its
 * spelling, as Drizzle's dialect core serves thin drivers.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** A table as a query names it. */
  table(name: string): string;
  /** The placeholder of the `index`-th value (from 1). */
  placeholder(index: number): string;
  /** Whether `column`, a JSON array of strings stored as text, holds the value at `placeholder`. */
  jsonArrayHas(column: string, placeholder: string): string;
  /** The text of top-level field `field` of the JSON object stored as text in `column`. */
  jsonText(column: string, field: string): string;
  /** Whether top-level field `field` of the JSON object in `column` equals `value` (same JSON type). */
  jsonFieldIs(column: string, field: string, value: string | number | boolean, query: QueryValues): string;
  /** Whether `column` equals `value`, where each `*` in `value` stands for any run of characters. */
  wildcard(column: string, value: string, query: QueryValues): string;
  /** Whether a boolean column is false. */
  isFalse(column: string): string;
  /** A LIMIT's count given at `placeholder` (see SQLite's spelling for why it is not always the placeholder). */
  limit(placeholder: string): string;
}

/**
 * A statement and its values, ready for a driver. A statement whose text is fixed has a `name`: a
 * driver may prepare it once and keep it (SQLite's statement cache, PostgreSQL's named statements);
 * one without is written for its filter and prepared for that one call.
 */
export interface SqlQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  readonly name?: string;
}

/** The values of a query being written, each given its placeholder in the dialect's spelling. */
export class QueryValues {
  readonly values: unknown[] = [];
  readonly #dialect: SqlDialect;

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
  }

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return this.#dialect.placeholder(this.values.length);
  }
}
