import type pg from 'pg';
import {
  CLOSING_PARTS,
  OPENING_PART,
  type NewStreamPart,
  type RunStreamStore,
  type StreamPartRecord,
} from '../run-streams.ts';
import { compareText } from './postgres-commit.ts';
import type { Row } from './postgres-rows.ts';
import type { WakeChannel } from './wake-channel.ts';

type Client = pg.PoolClient;

/** The prefix of a run's advisory lock key for appends (the run id follows). */
const LOCK_KEY = (schema: string): string => `${schema}.run_stream_parts:`;

/**
 * Settings of a transaction of stream parts, for its own statements only: its commit does not wait
 * for the WAL flush (parts are ephemeral: a server crash may lose the last few, and a reader then
 * sees the journal's events without them), and its statements keep their generic plans.
 */
const TRANSACTION_SETTINGS = `set_config('synchronous_commit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`;

/**
 * The SQL of a batch of parts, with the schema filled in. One run: $1 the run, $2–$5 the parts'
 * type, op, data (JSON text) and instant. Several: $1 each part's run, $2 its place among its run's
 * parts in the batch (1, 2, …), $3–$6 as above, $7 the batch's runs. Each run's head (its last
 * part, its journal's last seq) is read once, before any part is inserted.
 *
 * The journal's last seq is read with a share lock on the run's row, held to the commit: a journal
 * commit of the run in flight (its fenced update holds the row) is waited for, and one that comes
 * later waits for this commit. So the parts follow every event committed before them, and no event
 * is visible before a part that claims to precede it. Read without the lock, a part numbered after
 * seq 1 could commit after seq 2 did, and a live reader already past seq 2 never saw it (a resume
 * from the start did): decision 0045. One run waits for the lock (one row: it cannot be part of a
 * deadlock); several skip the rows held now (`SKIP LOCKED`), write the other runs' parts, and
 * `appendMany` returns the skipped runs, whose parts are written again with `appendOne`.
 */
export function streamAppendStatements(quotedSchema: string): { appendOne: string; appendMany: string } {
  const parts = `${quotedSchema}.run_stream_parts`;
  const into = `INSERT INTO ${parts} (run_id, id, after_seq, type, op, data, at)`;
  return {
    appendOne: `${into}
      SELECT $1, h.id + u.k, h.after_seq, u.t, u.o, u.d::jsonb, u.a
      FROM (SELECT (SELECT COALESCE(MAX(id), 0) FROM ${parts} WHERE run_id = $1) AS id,
          COALESCE((SELECT last_seq FROM ${quotedSchema}.runs WHERE run_id = $1 FOR SHARE), 0) AS after_seq) AS h,
        unnest($2::text[], $3::int[], $4::text[], $5::bigint[]) WITH ORDINALITY AS u(t, o, d, a, k)`,
    appendMany: `WITH head AS MATERIALIZED (
        SELECT b.r, (SELECT COALESCE(MAX(id), 0) FROM ${parts} WHERE run_id = b.r) AS id, l.last_seq,
          l.last_seq IS NULL AND EXISTS (SELECT 1 FROM ${quotedSchema}.runs WHERE run_id = b.r) AS held
        FROM unnest($7::text[]) AS b(r)
        LEFT JOIN LATERAL (SELECT last_seq FROM ${quotedSchema}.runs WHERE run_id = b.r FOR SHARE SKIP LOCKED) AS l ON true
      ), appended AS (
        ${into}
        SELECT u.r, h.id + u.k, COALESCE(h.last_seq, 0), u.t, u.o, u.d::jsonb, u.a
        FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::bigint[]) AS u(r, k, t, o, d, a)
        JOIN head AS h USING (r) WHERE NOT h.held
      )
      SELECT r FROM head WHERE held`,
  };
}

export interface PostgresRunStreamsDeps {
  quotedSchema: string;
  /** The schema's name: appends to one run lock `<schema>.run_stream_parts` + the run. */
  schema: string;
  /** One statement on any pooled connection; `name` keeps its plan on the connection (a named statement). */
  query: (
    text: string,
    values: unknown[],
    options?: { name?: string; idempotent?: boolean },
  ) => Promise<Row[]>;
  transaction: <T>(fn: (client: Client) => Promise<T>) => Promise<T>;
  /** Statements as one transaction sent at once (one round trip). */
  pipelined: (statements: readonly pg.QueryConfig[]) => Promise<Row[]>;
  /** The channel appends are notified on (payload: the run id). */
  channel: string;
  /** The LISTEN connection of that channel, shared by the process's readers. */
  listen: WakeChannel;
}

/**
 * Runs' live stream parts in the UNLOGGED `run_stream_parts` table (migration 12): parts are
 * ephemeral, so they skip the write-ahead log and commit without waiting for the disk
 * (`synchronous_commit = off`). Appends to one run take a transaction-scoped advisory lock on it,
 * so its parts are numbered in commit order from every host; each append sends `NOTIFY` with the
 * run id, which readers on any host LISTEN for.
 */
export class PostgresRunStreams implements RunStreamStore {
  readonly specificationVersion = 'v1' as const;
  readonly #s: string;
  readonly #deps: PostgresRunStreamsDeps;
  readonly #append: ReturnType<typeof streamAppendStatements>;

  constructor(deps: PostgresRunStreamsDeps) {
    this.#s = deps.quotedSchema;
    this.#append = streamAppendStatements(deps.quotedSchema);
    this.#deps = deps;
  }

  async #lockedHead(client: Client, runId: string): Promise<{ id: number; afterSeq: number }> {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `${this.#deps.schema}.run_stream_parts:${runId}`,
    ]);
    const { rows } = await client.query<Row>(
      `SELECT (SELECT COALESCE(MAX(id), 0) FROM ${this.#s}.run_stream_parts WHERE run_id = $1) AS id,
              (SELECT last_seq FROM ${this.#s}.runs WHERE run_id = $1 FOR SHARE) AS after_seq`,
      [runId],
    );
    return { id: Number(rows[0]!.id), afterSeq: Number(rows[0]!.after_seq ?? 0) };
  }

  /**
   * One transaction for the whole batch, sent at once with its BEGIN and COMMIT (one round trip).
   * The first statement turns off waiting for the WAL flush (the parts are ephemeral), keeps the
   * transaction's statements on their generic plans (below), takes the runs' advisory locks in run
   * id order and sends one NOTIFY per run (delivered at commit, so after the insert like any other
   * place in the transaction). The second inserts, numbering each run's parts after its head: a
   * statement of its own after the locks, so that its snapshot sees the parts of whoever held a lock
   * before. With one run in flight this transaction is as frequent as the write interval
   * (docs/guide/capacity.md), and its cost is PostgreSQL's CPU beside the journal's
   * (docs/decisions/0038):
   *
   * - Each run's head (its last part, its journal's last seq) is read once, before any part is
   *   inserted, and a part's place among its run's parts in the batch comes from here. Read per
   *   part instead, each read of the head also walked back over the parts the statement had just
   *   inserted, invisible to it: O(parts²) heap reads per batch.
   * - Plans are generic: the plan PostgreSQL keeps for a named statement whose arguments are arrays
   *   costs more, on its guess of the arrays' lengths, than a plan for the arrays at hand, so it
   *   planned the insert again on every batch (more CPU than running it). Every part of the
   *   statements is an index probe per run or a scan of the arrays: the generic plan suits any batch.
   * - A batch of one run (a process running one run at a time) has statements of its own, with the
   *   run as a scalar: no run id per part, no join, half the PostgreSQL CPU of a small batch.
   */
  async appendParts(parts: readonly NewStreamPart[]): Promise<void> {
    if (parts.length === 0) return;
    const places = new Map<string, number>();
    const place = parts.map((part) => {
      const next = (places.get(part.runId) ?? 0) + 1;
      places.set(part.runId, next);
      return next;
    });
    const columns = columnsOf(parts);
    if (places.size === 1) {
      await this.#appendOne(parts[0]!.runId, columns);
      return;
    }
    const runIds = [...places.keys()].sort(compareText);
    const held = await this.#deps.pipelined([
      {
        name: 'baton_stream_lock_notify',
        text: `SELECT ${TRANSACTION_SETTINGS},
              (SELECT count(pg_advisory_xact_lock(hashtext($1 || r))) FROM (SELECT unnest($2::text[]) AS r ORDER BY 1) AS locked),
              (SELECT count(pg_notify($3, r)) FROM unnest($2::text[]) AS r)`,
        values: [LOCK_KEY(this.#deps.schema), runIds, this.#deps.channel],
      },
      {
        name: 'baton_stream_append',
        text: this.#append.appendMany,
        values: [parts.map((part) => part.runId), place, ...columns, runIds],
      },
    ]);
    // Runs whose rows a journal commit held: their parts, in order, once it is done.
    for (const row of held) {
      const runId = row.r as string;
      await this.#appendOne(runId, columnsOf(parts.filter((part) => part.runId === runId)));
    }
  }

  /** One run's parts (their type, op, data and instant columns), in a transaction of their own. */
  async #appendOne(runId: string, columns: unknown[][]): Promise<void> {
    await this.#deps.pipelined([
      {
        name: 'baton_stream_lock_notify_one',
        text: `SELECT ${TRANSACTION_SETTINGS}, pg_advisory_xact_lock(hashtext($1 || $2)), pg_notify($3, $2)`,
        values: [LOCK_KEY(this.#deps.schema), runId, this.#deps.channel],
      },
      {
        name: 'baton_stream_append_one',
        text: this.#append.appendOne,
        values: [runId, ...columns],
      },
    ]);
  }

  async readParts(runId: string, afterId: number, limit: number): Promise<StreamPartRecord[]> {
    const rows = await this.#deps.query(
      `SELECT run_id, id, after_seq, type, op, data, at FROM ${this.#s}.run_stream_parts
       WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [runId, afterId, limit],
      { idempotent: true },
    );
    return rows.map(toPart);
  }

  async partBounds(runId: string): Promise<{ first: number; last: number }> {
    const rows = await this.#deps.query(
      `SELECT COALESCE(MIN(id), 0) AS first, COALESCE(MAX(id), 0) AS last FROM ${this.#s}.run_stream_parts WHERE run_id = $1`,
      [runId],
      { idempotent: true },
    );
    return { first: Number(rows[0]!.first), last: Number(rows[0]!.last) };
  }

  async interruptOpenCalls(
    runId: string,
    now: number,
    reason: string,
  ): Promise<StreamPartRecord | undefined> {
    const closing = CLOSING_PARTS.map((type) => `'${type}'`).join(', ');
    const openCalls = `SELECT DISTINCT s.op FROM ${this.#s}.run_stream_parts s WHERE s.run_id = $1 AND s.type = '${OPENING_PART}'
         AND NOT EXISTS (SELECT 1 FROM ${this.#s}.run_stream_parts c WHERE c.run_id = s.run_id AND c.id > s.id
           AND c.type IN (${closing}) AND (c.op = s.op OR c.type = 'interrupted'))
         ORDER BY s.op`;
    // Most activations find no call left open: one read says so, without a transaction or a lock.
    // Named: it runs once per run an activation streams, and planning it cost PostgreSQL more than
    // running it (0.18 against 0.05 ms for a run of few parts).
    const name = 'baton_stream_open_calls';
    if ((await this.#deps.query(openCalls, [runId], { name, idempotent: true })).length === 0)
      return undefined;
    return this.#deps.transaction(async (client) => {
      await client.query('SET LOCAL synchronous_commit = off');
      const head = await this.#lockedHead(client, runId);
      const { rows } = await client.query<Row>({ name, text: openCalls, values: [runId] });
      if (rows.length === 0) return undefined;
      const part: StreamPartRecord = {
        runId,
        id: head.id + 1,
        afterSeq: head.afterSeq,
        type: 'interrupted',
        data: { ops: rows.map((row) => Number(row.op)), reason },
        at: now,
      };
      await client.query(
        `INSERT INTO ${this.#s}.run_stream_parts (run_id, id, after_seq, type, op, data, at) VALUES ($1, $2, $3, $4, NULL, $5::jsonb, $6)`,
        [runId, part.id, part.afterSeq, part.type, JSON.stringify(part.data), now],
      );
      await client.query('SELECT pg_notify($1, $2)', [this.#deps.channel, runId]);
      return part;
    });
  }

  async pruneParts(options: { olderThan: number; maxPartsPerRun: number }): Promise<number> {
    const rows = await this.#deps.query(
      `WITH heads AS (SELECT run_id, MAX(id) AS last FROM ${this.#s}.run_stream_parts GROUP BY run_id),
       gone AS (DELETE FROM ${this.#s}.run_stream_parts p USING heads h
         WHERE p.run_id = h.run_id AND p.id < h.last AND (p.at < $1 OR p.id <= h.last - $2) RETURNING 1)
       SELECT count(*) AS deleted FROM gone`,
      [options.olderThan, options.maxPartsPerRun],
    );
    return Number(rows[0]!.deleted);
  }

  subscribeParts(onAppend: (runId: string) => void): Promise<() => Promise<void>> {
    // A lost connection wakes with no payload: every run's readers look again.
    return this.#deps.listen.subscribe((payload) => onAppend(payload ?? '*'));
  }
}

function toPart(row: Row): StreamPartRecord {
  return {
    runId: String(row.run_id),
    id: Number(row.id),
    afterSeq: Number(row.after_seq),
    type: String(row.type),
    ...(row.op === null || row.op === undefined ? {} : { op: Number(row.op) }),
    data: row.data as Record<string, unknown>,
    at: Number(row.at),
  };
}

/** The parts' type, op, data (JSON text) and instant, as the append statements' array arguments. */
function columnsOf(parts: readonly NewStreamPart[]): unknown[][] {
  return [
    parts.map((part) => part.type),
    parts.map((part) => part.op ?? null),
    parts.map((part) => JSON.stringify(part.data)),
    parts.map((part) => part.at),
  ];
}
