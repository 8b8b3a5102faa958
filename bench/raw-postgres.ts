import pg from 'pg';
import type { JournalEvent } from '../src/journal/events.ts';

/**
 * The physical baseline on PostgreSQL: one connection, one INSERT per row, each its own transaction
 * (autocommit: one round trip and one WAL flush), into a table shaped like Baton's `events` (same
 * columns, key and indexes), on the same server and with the same durability (synchronous_commit).
 */
export class RawPostgres {
  readonly #client: pg.Client;
  #batch = 0;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  /** Connects to the database at `url`, where Baton's schema `baton` already exists. */
  static async open(url: string): Promise<RawPostgres> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE SCHEMA IF NOT EXISTS raw');
    await client.query('CREATE TABLE IF NOT EXISTS raw.events (LIKE baton.events INCLUDING ALL)');
    return new RawPostgres(client);
  }

  /** Inserts each event (as a template, under a fresh run id) in its own transaction. Returns µs per row. */
  async insertEach(events: readonly JournalEvent[]): Promise<number> {
    const runId = `raw_${++this.#batch}`;
    const rows = events.map((event) => [
      runId,
      event.seq,
      event.type,
      event.at,
      event.actor,
      JSON.stringify(event.onBehalfOf),
      JSON.stringify(event.payload),
      event.prevHash,
      event.hash,
    ]);
    const start = performance.now();
    for (const values of rows) {
      await this.#client.query({
        name: 'raw_insert',
        text: `INSERT INTO raw.events (run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        values,
      });
    }
    return ((performance.now() - start) * 1000) / rows.length;
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
