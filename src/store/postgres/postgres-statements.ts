import { RUN_COLUMNS } from '../read-queries.ts';
import { TERMINAL_STATUSES } from '../store.ts';

/** How a write moves its run on: the variants of the write statement. */
export type TransitionKind = 'none' | 'finished' | 'waiting' | 'pending';

const EVENT_COLUMNS = 'run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash';

/** The order runs are claimed in: the columns of the runs_claim index, in its order. */
const CLAIM_ORDER = 'ORDER BY priority DESC, fair_key, created_at, run_id';

const runColumns = (alias?: string): string =>
  RUN_COLUMNS.map((column) => (alias ? `${alias}.${column}` : column)).join(', ');

/**
 * The SQL of the PostgreSQL store, with its schema filled in. Statements that run on every step
 * are named (prepared once per connection); those whose best plan depends on their arguments are not.
 */
export class PostgresStatements {
  readonly #s: string;
  readonly #writes = new Map<TransitionKind, string>();

  constructor(quotedSchema: string) {
    this.#s = quotedSchema;
  }

  /**
   * $1–$13: the run; $14–$21: its run.started event as unnest columns. Tags the run for the fair
   * queue: max(virtual time, the tenant's last tag) + 1, the tenant's row locked so that two runs of
   * one tenant never share a tag. Returns nothing when the idempotency key is taken.
   */
  get createRun(): string {
    return `WITH tagged AS (
      INSERT INTO ${this.#s}.fair_queue AS queue (tenant, last_key)
      SELECT $3, virtual_time + 1 FROM ${this.#s}.fair_clock WHERE id = 1
      ON CONFLICT (tenant) DO UPDATE SET last_key = greatest(queue.last_key, excluded.last_key - 1) + 1
      RETURNING last_key
    ), created AS (
      INSERT INTO ${this.#s}.runs (run_id, workflow, tenant, principal, status, input, parent_run_id, idempotency_key,
        priority, metadata, created_at, updated_at, deadline_at, last_seq, head_hash, fair_key)
      SELECT $1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, tagged.last_key FROM tagged
      ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING ${runColumns()}
    ), started AS (
      INSERT INTO ${this.#s}.events (${EVENT_COLUMNS})
      SELECT created.run_id, e.* FROM created,
        unnest($14::int[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[]) AS e
    )
    SELECT ${runColumns()} FROM created`;
  }

  get runByIdempotencyKey(): string {
    return `SELECT ${runColumns()} FROM ${this.#s}.runs WHERE tenant = $1 AND idempotency_key = $2`;
  }

  /**
   * One write, fenced, as one statement. $1 run, $2 owner, $3 the seq the journal must end at (null:
   * no events, check the lease alone), $4/$5 the new last seq and head hash, $6 now, $7 signal ids
   * to consume (all must be the run's and unconsumed; when there are none, the signals table is
   * not read at all, and when there are, both reads name the run's unconsumed signals, the
   * predicate of the index of those, so that even a plan kept from a nearly empty table reads that
   * index rather than every signal), $8–$15 the events as unnest columns, then
   * the transition's own. Returns `written`, with the run's parent and new status; or, fenced out
   * (and then nothing was written), the run's lease owner, status and last seq as the fence saw
   * them; or no row for an unknown run.
   */
  write(kind: TransitionKind): string {
    let text = this.#writes.get(kind);
    if (text) return text;
    const released = 'lease_owner = NULL, lease_expires_at = NULL';
    const set = {
      none: 'updated_at = CASE WHEN $4::int IS NULL THEN updated_at ELSE $6::bigint END',
      finished: `updated_at = $6::bigint, finished_at = $6::bigint, status = $16::text, result = $17::text, error = $18::text, wake_at = NULL, ${released}`,
      waiting: `updated_at = $6::bigint, wake_at = $17::bigint, ${released},
        status = CASE WHEN wake_gen = $16::int AND (NOT cancel_requested OR $18::boolean) THEN 'waiting' ELSE 'pending' END`,
      pending: `updated_at = $6::bigint, status = 'pending', ${released}`,
    }[kind];
    text = `WITH fenced AS (
      UPDATE ${this.#s}.runs SET last_seq = COALESCE($4::int, last_seq), head_hash = COALESCE($5::text, head_hash), ${set}
      WHERE run_id = $1 AND lease_owner = $2 AND status = 'running' AND ($3::int IS NULL OR last_seq = $3::int)
        AND CASE WHEN cardinality($7::text[]) = 0 THEN true
          ELSE (SELECT count(*) FROM ${this.#s}.signals
                WHERE run_id = $1 AND signal_id = ANY($7::text[]) AND NOT consumed) = cardinality($7::text[]) END
      RETURNING parent_run_id, status
    ), consumed AS (
      UPDATE ${this.#s}.signals SET consumed = true
      WHERE cardinality($7::text[]) > 0 AND run_id = $1 AND signal_id = ANY($7::text[]) AND NOT consumed
        AND EXISTS (SELECT FROM fenced)
    ), appended AS (
      INSERT INTO ${this.#s}.events (${EVENT_COLUMNS})
      SELECT $1, e.* FROM unnest($8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[]) AS e
      WHERE EXISTS (SELECT FROM fenced)
    )
    SELECT true AS written, parent_run_id, status, NULL AS lease_owner, NULL::int AS last_seq FROM fenced
    UNION ALL
    SELECT false, NULL, status, lease_owner, last_seq FROM ${this.#s}.runs WHERE run_id = $1 AND NOT EXISTS (SELECT FROM fenced)`;
    this.#writes.set(kind, text);
    return text;
  }

  /**
   * The common write, one event that moves no run on and consumes no signal (a step's result):
   * $1–$6 as in {@link write} ($5, the new head, is also the event's hash), $7–$12 the event's
   * other columns. It returns no row: the row count says whether it was written. Fenced out, it
   * wrote nothing, and {@link write} says why. A step's write costs about what a raw INSERT does
   * this way; answering the fence's reason in the same statement (a second branch, a row to
   * describe, send and parse) cost 30–50 µs of server and 20–30 µs of client CPU per step.
   */
  get writeOne(): string {
    return `WITH fenced AS (
      UPDATE ${this.#s}.runs SET last_seq = $4::int, head_hash = $5::text, updated_at = $6::bigint
      WHERE run_id = $1 AND lease_owner = $2 AND status = 'running' AND last_seq = $3::int
      RETURNING run_id
    )
    INSERT INTO ${this.#s}.events (${EVENT_COLUMNS})
    SELECT run_id, $4::int, $7, $8, $9, $10, $11, $12, $5 FROM fenced`;
  }

  /**
   * Plain step writes of distinct runs (events only), fenced each, as one statement: $1–$5 per
   * write (run, owner, the seq the journal must end at, new last seq and head hash), $6 now, $7–$15
   * every event as unnest columns (run id first). Returns a row per write as {@link write} does.
   */
  get writePlain(): string {
    return `WITH batch AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[]) AS w(run_id, owner, after_seq, last_seq, head_hash)
    ), fenced AS (
      UPDATE ${this.#s}.runs AS r SET last_seq = w.last_seq, head_hash = w.head_hash, updated_at = $6::bigint
      FROM batch w
      WHERE r.run_id = w.run_id AND r.lease_owner = w.owner AND r.status = 'running' AND r.last_seq = w.after_seq
      RETURNING r.run_id, r.parent_run_id, r.status
    ), appended AS (
      INSERT INTO ${this.#s}.events (${EVENT_COLUMNS})
      SELECT e.* FROM unnest($7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
        AS e(run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
      WHERE e.run_id IN (SELECT run_id FROM fenced)
    )
    SELECT w.run_id, f.run_id IS NOT NULL AS written, f.parent_run_id, coalesce(f.status, r.status) AS status,
      r.lease_owner, r.last_seq
    FROM batch w LEFT JOIN fenced f ON f.run_id = w.run_id LEFT JOIN ${this.#s}.runs r ON r.run_id = w.run_id
    WHERE f.run_id IS NOT NULL OR r.run_id IS NOT NULL`;
  }

  /** Bumps wakeGen of the runs $1 and makes the waiting ones pending. */
  get wakeRuns(): string {
    return `UPDATE ${this.#s}.runs SET wake_gen = wake_gen + 1, updated_at = $2,
      status = CASE WHEN status = 'waiting' THEN 'pending' ELSE status END
      WHERE run_id = ANY($1::text[])`;
  }

  /**
   * Leases up to $4 runnable runs to $1 until $2, at $3, of the workflows $5 (null: any): highest
   * priority first, then by fair-queue tag, then oldest. Rows another transaction holds are
   * skipped, not waited for. Moves the fair queue's virtual time up to the highest tag claimed.
   *
   * Runs are claimable in five disjoint ways, each read apart through its own index, in claim order
   * or from the few rows due, and cut at $4, so that a claim costs the runs it takes, not the
   * backlog: pending (runs_claim, in claim order); waiting with its wake-up passed (runs_wake);
   * waiting past its deadline otherwise (runs_deadline); running with an expired lease
   * (runs_lease); running past its deadline with no lease. Each branch is one range of one index:
   * given an OR, the plan PostgreSQL keeps for the statement may read a whole index (every parked
   * run) instead. The first $4 of their union are taken; rows a branch locked and the cut left out
   * are free at commit.
   */
  get claimRuns(): string {
    const claimable = (where: string): string =>
      `SELECT * FROM (SELECT run_id, priority, fair_key, created_at FROM ${this.#s}.runs
        WHERE ${where} AND NOT paused AND ($5::text[] IS NULL OR workflow = ANY($5::text[]))
        ${CLAIM_ORDER} LIMIT $4 FOR UPDATE SKIP LOCKED) AS branch`;
    return `WITH candidates AS (
      SELECT run_id FROM (
        ${claimable(`status = 'pending'`)}
        UNION ALL
        ${claimable(`status = 'waiting' AND wake_at <= $3`)}
        UNION ALL
        ${claimable(`status = 'waiting' AND deadline_at <= $3 AND (wake_at IS NULL OR wake_at > $3) AND (lease_expires_at IS NULL OR lease_expires_at <= $3)`)}
        UNION ALL
        ${claimable(`status = 'running' AND lease_expires_at <= $3`)}
        UNION ALL
        ${claimable(`status = 'running' AND lease_expires_at IS NULL AND deadline_at <= $3`)}
      ) AS claimable
      ${CLAIM_ORDER} LIMIT $4
    ), claimed AS (
      UPDATE ${this.#s}.runs AS r SET status = 'running', lease_owner = $1, lease_expires_at = $2, updated_at = $3
      FROM candidates WHERE r.run_id = candidates.run_id
      RETURNING ${runColumns('r')}
    ), advanced AS (
      UPDATE ${this.#s}.fair_clock SET virtual_time = (SELECT max(fair_key) FROM claimed)
      WHERE id = 1 AND virtual_time < (SELECT max(fair_key) FROM claimed)
    )
    SELECT ${runColumns()} FROM claimed`;
  }

  /** Extends the leases $2 holds among runs $1 until $3, locking the rows in run id order. */
  get renewLeases(): string {
    return `WITH held AS (
      SELECT run_id FROM ${this.#s}.runs
      WHERE run_id = ANY($1::text[]) AND lease_owner = $2 AND status = 'running'
      ORDER BY run_id FOR UPDATE
    )
    UPDATE ${this.#s}.runs AS r SET lease_expires_at = $3 FROM held WHERE r.run_id = held.run_id
    RETURNING r.run_id, r.cancel_requested, r.paused`;
  }

  get nextWakeAt(): string {
    return `SELECT LEAST(
      (SELECT min(wake_at) FROM ${this.#s}.runs WHERE status = 'waiting' AND NOT paused),
      (SELECT min(deadline_at) FROM ${this.#s}.runs WHERE status = 'waiting' AND NOT paused),
      (SELECT min(lease_expires_at) FROM ${this.#s}.runs WHERE status = 'running' AND NOT paused)) AS at`;
  }

  get lockRun(): string {
    return `SELECT status, metadata FROM ${this.#s}.runs WHERE run_id = $1 AND ($2::text IS NULL OR tenant = $2) FOR UPDATE`;
  }

  get insertSignal(): string {
    return `INSERT INTO ${this.#s}.signals (signal_id, run_id, name, payload, sent_by, sent_at, idempotency_key)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`;
  }

  /**
   * A signal without an idempotency key, in one statement (one round trip, one commit): locks run
   * $2 (in tenant $8 when not null), and unless it is unknown or finished keeps signal $1 (name $3,
   * payload $4, sent by $5 at $6, key $7), wakes the run and notifies channel $9. Returns the run's
   * status and whether the signal was inserted now; no row for an unknown run.
   */
  get sendSignal(): string {
    const finished = TERMINAL_STATUSES.map((status) => `'${status}'`).join(', ');
    return `WITH target AS (
      SELECT run_id, status FROM ${this.#s}.runs WHERE run_id = $2 AND ($8::text IS NULL OR tenant = $8) FOR UPDATE
    ), kept AS (
      INSERT INTO ${this.#s}.signals (signal_id, run_id, name, payload, sent_by, sent_at, idempotency_key)
      SELECT $1, run_id, $3, $4, $5, $6, $7 FROM target WHERE status NOT IN (${finished})
      ON CONFLICT DO NOTHING RETURNING run_id
    ), woken AS (
      UPDATE ${this.#s}.runs SET wake_gen = wake_gen + 1, updated_at = $6,
        status = CASE WHEN status = 'waiting' THEN 'pending' ELSE status END
      WHERE run_id = $2 AND EXISTS (SELECT FROM kept)
    )
    SELECT target.status, kept.run_id IS NOT NULL AS inserted,
      CASE WHEN kept.run_id IS NOT NULL THEN pg_notify($9, NULL) END AS notified
    FROM target LEFT JOIN kept ON true`;
  }

  /** Pauses ($2 true) or resumes run $1, at $3. */
  get setPaused(): string {
    return `UPDATE ${this.#s}.runs SET paused = $2, updated_at = CASE WHEN paused = $2 THEN updated_at ELSE $3 END
      WHERE run_id = $1 RETURNING ${runColumns()}`;
  }

  /** Run $1's status, head and metadata, locked, for a resume in place. */
  get lockForReopen(): string {
    return `SELECT status, last_seq, head_hash, metadata, tenant FROM ${this.#s}.runs WHERE run_id = $1 FOR UPDATE`;
  }

  /**
   * Resumes run $1 in place: pending, no result, error or cancel request, metadata $2, deadline $3,
   * head $4/$5, at $6; $7–$14: its run.resumed event as unnest columns.
   */
  get reopenRun(): string {
    return `WITH resumed AS (
      INSERT INTO ${this.#s}.events (${EVENT_COLUMNS})
      SELECT $1, e.* FROM unnest($7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]) AS e
    )
    UPDATE ${this.#s}.runs SET status = 'pending', result = NULL, error = NULL, cancel_requested = false,
      paused = false, metadata = $2, deadline_at = $3, wake_at = NULL, lease_owner = NULL, lease_expires_at = NULL,
      wake_gen = wake_gen + 1, last_seq = $4, head_hash = $5, updated_at = $6, finished_at = NULL WHERE run_id = $1 RETURNING ${runColumns()}`;
  }

  /** Marks run $1 cancelled (metadata $2 when not null) and wakes it, at $3. */
  get requestCancel(): string {
    return `UPDATE ${this.#s}.runs SET cancel_requested = true, paused = false, metadata = COALESCE($2::text, metadata),
      wake_gen = wake_gen + 1, updated_at = $3, status = CASE WHEN status = 'waiting' THEN 'pending' ELSE status END
      WHERE run_id = $1 RETURNING ${runColumns()}`;
  }
}
