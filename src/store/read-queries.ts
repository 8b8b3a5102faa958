import { InvalidArgumentError } from '../errors.ts';
import type { ApprovalQuery } from './approval-query.ts';
import { EVENT_QUERY_FIELD, type EventQuery } from './event-query.ts';
import { QueryValues, type SqlDialect, type SqlQuery } from './sql-dialect.ts';
import type { RunFilter, TenantScope } from './store.ts';

const EVENT_COLUMNS = [
  'run_id',
  'seq',
  'type',
  'at',
  'actor',
  'on_behalf_of',
  'payload',
  'prev_hash',
  'hash',
];

/**
 * The columns of `runs` the stores read, named rather than `*`: a PostgreSQL prepared statement
 * whose result changes shape fails ("cached plan must not change result type"), so a migration that
 * adds a column, run by a newer process, must not break the statements of the processes still running.
 */
export const RUN_COLUMNS: readonly string[] = [
  'run_id',
  'workflow',
  'tenant',
  'principal',
  'status',
  'input',
  'result',
  'error',
  'parent_run_id',
  'idempotency_key',
  'priority',
  'metadata',
  'created_at',
  'updated_at',
  'wake_at',
  'deadline_at',
  'lease_owner',
  'lease_expires_at',
  'last_seq',
  'head_hash',
  'wake_gen',
  'cancel_requested',
  'fair_key',
  'paused',
];

const SIGNAL_COLUMNS = [
  'signal_id',
  'run_id',
  'name',
  'payload',
  'sent_by',
  'sent_at',
  'consumed',
  'idempotency_key',
];

const CHECKPOINT_COLUMNS = ['run_id', 'seq', 'key_id', 'head_hash', 'signed_at', 'signature', 'status'];

const WORKER_COLUMNS = [
  'worker_id',
  'host',
  'pid',
  'started_at',
  'concurrency',
  'workflows',
  'run_ids',
  'beat_at',
  'expires_at',
];

function columns(names: readonly string[], alias?: string): string {
  return names.map((name) => (alias ? `${alias}.${name}` : name)).join(', ');
}

/**
 * The read queries of the SQL stores, written once over a {@link SqlDialect}: each returns the
 * statement and its values, and the driver (sqlite-store.ts, postgres-store.ts) runs it and maps the
 * rows (store-rows.ts). The texts that take no filter are made once, so a driver can cache them
 * (SQLite) or prepare them under a name (PostgreSQL).
 */
export class ReadQueries {
  readonly #dialect: SqlDialect;
  readonly #runs: string;
  readonly #events: string;
  readonly #texts: {
    getRun: string;
    getRunInTenant: string;
    readEvents: string;
    readEventsInTenant: string;
    pendingSignals: string;
    keyedSignal: string;
    keyedSignalInTenant: string;
    findRunIds: string;
    findRunIdsInTenant: string;
    listCheckpoints: string;
    listCheckpointsInTenant: string;
    listWorkers: string;
  };

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
    const runs = (this.#runs = dialect.table('runs'));
    const events = (this.#events = dialect.table('events'));
    const signals = dialect.table('signals');
    const checkpoints = dialect.table('checkpoints');
    const p = (index: number): string => dialect.placeholder(index);
    const unconsumed = dialect.isFalse('consumed');
    this.#texts = {
      getRun: `SELECT ${columns(RUN_COLUMNS)} FROM ${runs} WHERE run_id = ${p(1)}`,
      getRunInTenant: `SELECT ${columns(RUN_COLUMNS)} FROM ${runs} WHERE run_id = ${p(1)} AND tenant = ${p(2)}`,
      readEvents: `SELECT ${columns(EVENT_COLUMNS)} FROM ${events} WHERE run_id = ${p(1)} AND seq >= ${p(2)} ORDER BY seq`,
      readEventsInTenant: `SELECT ${columns(EVENT_COLUMNS, 'e')} FROM ${events} e JOIN ${runs} r ON r.run_id = e.run_id
        WHERE e.run_id = ${p(1)} AND e.seq >= ${p(2)} AND r.tenant = ${p(3)} ORDER BY e.seq`,
      pendingSignals: `SELECT ${columns(SIGNAL_COLUMNS)} FROM ${signals} WHERE run_id = ${p(1)} AND ${unconsumed} ORDER BY id`,
      keyedSignal: `SELECT ${columns(SIGNAL_COLUMNS)} FROM ${signals} WHERE run_id = ${p(1)} AND idempotency_key = ${p(2)}`,
      keyedSignalInTenant: `SELECT ${columns(SIGNAL_COLUMNS, 's')} FROM ${signals} s JOIN ${runs} r ON r.run_id = s.run_id
        WHERE s.run_id = ${p(1)} AND s.idempotency_key = ${p(2)} AND r.tenant = ${p(3)}`,
      findRunIds: `SELECT run_id FROM ${runs} WHERE run_id LIKE ${p(1)} ESCAPE '\\' ORDER BY run_id LIMIT ${dialect.limit(p(2))}`,
      findRunIdsInTenant: `SELECT run_id FROM ${runs} WHERE run_id LIKE ${p(1)} ESCAPE '\\' AND tenant = ${p(2)}
        ORDER BY run_id LIMIT ${dialect.limit(p(3))}`,
      listCheckpoints: `SELECT ${columns(CHECKPOINT_COLUMNS)} FROM ${checkpoints} WHERE run_id = ${p(1)} ORDER BY seq, key_id`,
      listCheckpointsInTenant: `SELECT ${columns(CHECKPOINT_COLUMNS, 'c')} FROM ${checkpoints} c JOIN ${runs} r ON r.run_id = c.run_id
        WHERE c.run_id = ${p(1)} AND r.tenant = ${p(2)} ORDER BY c.seq, c.key_id`,
      listWorkers: `SELECT ${columns(WORKER_COLUMNS)} FROM ${dialect.table('workers')} ORDER BY beat_at DESC, worker_id`,
    };
  }

  /** The run, in the tenant when scoped. */
  getRun(runId: string, scope?: TenantScope): SqlQuery {
    return scope
      ? { text: this.#texts.getRunInTenant, values: [runId, scope.tenant], name: 'baton_get_run_in_tenant' }
      : { text: this.#texts.getRun, values: [runId], name: 'baton_get_run' };
  }

  /** Runs, newest first. */
  listRuns(filter: RunFilter): SqlQuery {
    const query = new QueryValues(this.#dialect);
    const where: string[] = [];
    if (filter.tenant !== undefined) where.push(`tenant = ${query.add(filter.tenant)}`);
    if (filter.status?.length)
      where.push(`status IN (${filter.status.map((status) => query.add(status)).join(', ')})`);
    if (filter.workflow !== undefined) where.push(`workflow = ${query.add(filter.workflow)}`);
    if (filter.parentRunId !== undefined) where.push(`parent_run_id = ${query.add(filter.parentRunId)}`);
    if (filter.createdBefore !== undefined) where.push(`created_at < ${query.add(filter.createdBefore)}`);
    const text = `SELECT ${columns(RUN_COLUMNS)} FROM ${this.#runs} ${whereClause(where)}
      ORDER BY created_at DESC, run_id DESC LIMIT ${this.#dialect.limit(query.add(filter.limit ?? 100))}`;
    return { text, values: query.values };
  }

  /** Ids of runs that start with `prefix` (for "did you mean"). */
  findRunIds(prefix: string, limit: number, scope?: TenantScope): SqlQuery {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return scope
      ? {
          text: this.#texts.findRunIdsInTenant,
          values: [pattern, scope.tenant, limit],
          name: 'baton_find_run_ids_in_tenant',
        }
      : { text: this.#texts.findRunIds, values: [pattern, limit], name: 'baton_find_run_ids' };
  }

  /** A run's journal from `fromSeq` on, in order. */
  readEvents(runId: string, fromSeq: number, scope?: TenantScope): SqlQuery {
    return scope
      ? {
          text: this.#texts.readEventsInTenant,
          values: [runId, fromSeq, scope.tenant],
          name: 'baton_read_events_in_tenant',
        }
      : { text: this.#texts.readEvents, values: [runId, fromSeq], name: 'baton_read_events' };
  }

  /** Journal events across runs that match an {@link EventQuery}, oldest first. */
  queryEvents(filter: EventQuery): SqlQuery {
    const dialect = this.#dialect;
    const query = new QueryValues(dialect);
    const where: string[] = [];
    let from = `${this.#events} e`;
    if (filter.tenant !== undefined) {
      from = `${this.#events} e JOIN ${this.#runs} r ON r.run_id = e.run_id`;
      where.push(`r.tenant = ${query.add(filter.tenant)}`);
    }
    if (filter.runId !== undefined) where.push(`e.run_id = ${query.add(filter.runId)}`);
    if (filter.types?.length)
      where.push(`e.type IN (${filter.types.map((type) => query.add(type)).join(', ')})`);
    if (filter.actor !== undefined) where.push(dialect.wildcard('e.actor', filter.actor, query));
    if (filter.identity !== undefined) {
      const identity = query.add(filter.identity);
      where.push(`(e.actor = ${identity} OR ${dialect.jsonArrayHas('e.on_behalf_of', identity)})`);
    }
    if (filter.since !== undefined) where.push(`e.at >= ${query.add(new Date(filter.since).toISOString())}`);
    if (filter.until !== undefined) where.push(`e.at < ${query.add(new Date(filter.until).toISOString())}`);
    for (const [field, value] of Object.entries(filter.payload ?? {})) {
      if (!EVENT_QUERY_FIELD.test(field))
        throw new InvalidArgumentError(`'${field}' is not a payload field an event query can name.`);
      where.push(dialect.jsonFieldIs('e.payload', field, value, query));
    }
    const text = `SELECT ${columns(EVENT_COLUMNS, 'e')} FROM ${from} ${whereClause(where)}
      ORDER BY e.at, e.run_id, e.seq LIMIT ${this.#dialect.limit(query.add(filter.limit ?? 1000))}`;
    return { text, values: query.values };
  }

  /**
   * The approval inbox: `approval.requested` events of unfinished runs with no `approval.decided`
   * for the same approval, oldest first. Both event types are read through partial indexes
   * (migration `approval-inbox`).
   */
  pendingApprovals(filter: ApprovalQuery): SqlQuery {
    const dialect = this.#dialect;
    const query = new QueryValues(dialect);
    const where = [`e.type = 'approval.requested'`, `r.status IN ('pending', 'running', 'waiting')`];
    if (filter.tenant !== undefined) where.push(`r.tenant = ${query.add(filter.tenant)}`);
    if (filter.runId !== undefined) where.push(`e.run_id = ${query.add(filter.runId)}`);
    where.push(`NOT EXISTS (
      SELECT 1 FROM ${this.#events} d WHERE d.run_id = e.run_id AND d.type = 'approval.decided'
        AND ${dialect.jsonText('d.payload', 'approvalId')} = ${dialect.jsonText('e.payload', 'approvalId')})`);
    const text = `SELECT ${columns(EVENT_COLUMNS, 'e')} FROM ${this.#events} e JOIN ${this.#runs} r ON r.run_id = e.run_id
      ${whereClause(where)}
      ORDER BY e.at, e.run_id, e.seq LIMIT ${this.#dialect.limit(query.add(filter.limit ?? 1000))}`;
    return { text, values: query.values };
  }

  /** A run's signals not yet consumed, in the order they arrived. */
  pendingSignals(runId: string): SqlQuery {
    return { text: this.#texts.pendingSignals, values: [runId], name: 'baton_pending_signals' };
  }

  /** The signal a run keeps under an idempotency key, when the run is in the tenant (if scoped). */
  keyedSignal(runId: string, idempotencyKey: string, scope?: TenantScope): SqlQuery {
    return scope
      ? {
          text: this.#texts.keyedSignalInTenant,
          values: [runId, idempotencyKey, scope.tenant],
          name: 'baton_keyed_signal_in_tenant',
        }
      : { text: this.#texts.keyedSignal, values: [runId, idempotencyKey], name: 'baton_keyed_signal' };
  }

  /** A run's signed checkpoints, by seq and key. */
  listCheckpoints(runId: string, scope?: TenantScope): SqlQuery {
    return scope
      ? {
          text: this.#texts.listCheckpointsInTenant,
          values: [runId, scope.tenant],
          name: 'baton_list_checkpoints_in_tenant',
        }
      : { text: this.#texts.listCheckpoints, values: [runId], name: 'baton_list_checkpoints' };
  }

  /** Every worker's last heartbeat, the most recent first (see worker-registry.ts). */
  listWorkers(): SqlQuery {
    return { text: this.#texts.listWorkers, values: [], name: 'baton_list_workers' };
  }
}

function whereClause(conditions: readonly string[]): string {
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}
