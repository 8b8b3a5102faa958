import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { JournalEvent } from '../src/journal/events.ts';

/**
 * The physical baseline: node:sqlite with nothing of Baton in the write path. The file gets Baton's
 * own schema (so the table, its key and its row size are the same), then is written with plain
 * prepared statements under the same durability settings as Baton's store: WAL, synchronous=FULL.
 */
export class RawSqlite {
  readonly db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  #batch = 0;

  constructor(path: string) {
    // Let Baton create its schema, then write the file with node:sqlite alone.
    void SqliteStore.open({ path }).close(); // closes synchronously
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
    this.#insert = this.db.prepare(
      `INSERT INTO events (run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#begin = this.db.prepare('BEGIN');
    this.#commit = this.db.prepare('COMMIT');
  }

  /**
   * Inserts each event in a transaction of its own (insert + commit, one fsync each), the events
   * given as templates under a fresh run id. Returns µs per event.
   */
  insertEach(events: readonly JournalEvent[]): number {
    const runId = `raw_${++this.#batch}`;
    const rows = events.map(
      (event) =>
        [
          runId,
          event.seq,
          event.type,
          event.at,
          event.actor,
          JSON.stringify(event.onBehalfOf),
          JSON.stringify(event.payload),
          event.prevHash,
          event.hash,
        ] as const,
    );
    const start = performance.now();
    for (const row of rows) {
      this.#begin.run();
      this.#insert.run(...row);
      this.#commit.run();
    }
    return ((performance.now() - start) * 1000) / rows.length;
  }

  close(): void {
    this.db.close();
  }
}
