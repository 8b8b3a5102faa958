import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { SqlQuery } from '../sql-dialect.ts';
import type { Row } from '../store-rows.ts';

/** Prepared statements of one SQLite connection, prepared once per SQL text. */
export class StatementCache {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  get(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** The rows of a read query: one with a name through the cache, any other prepared for this call. */
  read(query: SqlQuery): Row[] {
    const statement = query.name === undefined ? this.#db.prepare(query.text) : this.get(query.text);
    return statement.all(...(query.values as readonly SQLInputValue[]));
  }
}
