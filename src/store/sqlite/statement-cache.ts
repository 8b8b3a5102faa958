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

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction of the connection, so processes sharing the file
   * write one at a time, and commits it; a failure rolls it back and is thrown. Transaction control
   * runs as prepared statements (`exec` would parse it on every commit).
   *
   * With `relaxSync` the commit skips its fsync: `synchronous = NORMAL` for this transaction only, on
   * a connection that fsyncs every commit (FULL, WAL). That is for state a power cut may lose without
   * harm, because the journal's next commit, which does fsync, carries it to the disk with its own
   * (the WAL is written in order): stream parts, pool grants, claims and lease renewals. A process
   * crash loses nothing either way.
   */
  writeTransaction<T>(fn: () => T, options: { relaxSync?: boolean } = {}): T {
    const relaxSync = options.relaxSync === true;
    if (relaxSync) this.get('PRAGMA synchronous = NORMAL').run();
    try {
      this.get('BEGIN IMMEDIATE').run();
      try {
        const result = fn();
        this.get('COMMIT').run();
        return result;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      if (relaxSync) this.get('PRAGMA synchronous = FULL').run();
    }
  }
}
