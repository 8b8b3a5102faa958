import type pg from 'pg';
import { LeaseLostError, RunNotFoundError, SeqConflictError, SignalConsumedError } from '../../errors.ts';
import { isTerminal, type JournalWrite, type RunStatus, type WriteOutcome } from '../store.ts';
import { isConnectionError } from './postgres-connection.ts';
import { payloadJsonOf } from '../../journal/hash-chain.ts';
import { eventColumns, type Row } from './postgres-rows.ts';
import type { PostgresStatements, TransitionKind } from './postgres-statements.ts';

type Client = pg.PoolClient;

/** What a batch did: each write's outcome, the parents to wake, and whether a run became claimable. */
export interface BatchResult {
  outcomes: WriteOutcome[];
  parents: string[];
  runnable: boolean;
}

/** What a write did to its run. */
interface Applied {
  parentRunId: string | null;
  status: RunStatus;
}

/**
 * Group commit, inside the caller's transaction. Plain step writes (events only, one per run in
 * the batch, the bulk of any batch) go in one set-based statement; the others (transitions,
 * signals, several writes of one run) one statement each, in run id order. Every statement is
 * fenced: a fenced-out write changes nothing and yields its error, so no expected failure aborts
 * the transaction. The statements go out at once (the connection pipelines them).
 *
 * Throws when a statement fails (a constraint the fence does not check): the caller rolls back
 * and calls {@link applyEachInSavepoint}.
 */
export async function applyBatch(
  client: Client,
  sql: PostgresStatements,
  writes: readonly JournalWrite[],
  now: number,
): Promise<BatchResult> {
  const perRun = new Map<string, number>();
  for (const write of writes) perRun.set(write.runId, (perRun.get(write.runId) ?? 0) + 1);
  const plain: number[] = [];
  const single: number[] = [];
  writes.forEach((write, index) => {
    const isPlain =
      perRun.get(write.runId) === 1 &&
      write.transition === undefined &&
      !write.consumeSignals?.length &&
      write.events.length > 0;
    (isPlain ? plain : single).push(index);
  });
  if (plain.length < 2) single.push(...plain.splice(0));
  // Rows are locked in run id order (a run's own writes keep theirs), as renewLeases locks them,
  // so that two transactions of one worker do not deadlock.
  const byRunId = (a: number, b: number): number => compareText(writes[a]!.runId, writes[b]!.runId) || a - b;
  plain.sort(byRunId);
  single.sort(byRunId);

  const applied = new Array<Applied | Error>(writes.length);
  const plainDone =
    plain.length > 0
      ? applyPlain(
          client,
          sql,
          plain.map((index) => writes[index]!),
          now,
        )
      : undefined;
  const singleDone = Promise.all(single.map((index) => applyWrite(client, sql, writes[index]!, now)));
  const [plainResults, singleResults] = await Promise.all([plainDone ?? Promise.resolve([]), singleDone]);
  plain.forEach((index, position) => (applied[index] = plainResults[position]!));
  single.forEach((index, position) => (applied[index] = singleResults[position]!));
  return summarize(applied);
}

/** Applies the batch again, one write at a time, each under a savepoint so that a failing one fails alone. */
export async function applyEachInSavepoint(
  client: Client,
  sql: PostgresStatements,
  writes: readonly JournalWrite[],
  now: number,
): Promise<BatchResult> {
  const order = writes
    .map((_, index) => index)
    .sort((a, b) => compareText(writes[a]!.runId, writes[b]!.runId) || a - b);
  const applied = new Array<Applied | Error>(writes.length);
  for (const index of order) {
    await client.query('SAVEPOINT write');
    try {
      applied[index] = await applyWrite(client, sql, writes[index]!, now);
      await client.query('RELEASE SAVEPOINT write');
    } catch (error) {
      if (isConnectionError(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT write');
      await client.query('RELEASE SAVEPOINT write');
      applied[index] = error as Error;
    }
  }
  return summarize(applied);
}

/** One write as one statement (autocommit or in a transaction). */
export async function applyWrite(
  client: Client | pg.Pool,
  sql: PostgresStatements,
  write: JournalWrite,
  now: number,
): Promise<Applied | Error> {
  const kind = transitionKind(write);
  const event = write.events[0];
  if (kind === 'none' && write.events.length === 1 && !write.consumeSignals?.length && event) {
    const result = await client.query({
      name: 'baton_write_one',
      text: sql.writeOne,
      values: [
        write.runId,
        write.owner,
        event.seq - 1,
        event.seq,
        event.hash,
        now,
        event.type,
        event.at,
        event.actor,
        JSON.stringify(event.onBehalfOf),
        payloadJsonOf(event),
        event.prevHash,
      ],
    });
    // A step leaves its run running: no parent to wake.
    if (result.rowCount === 1) return { parentRunId: null, status: 'running' };
    // Fenced out, nothing was written: the fenced write below says why in one snapshot (or, should
    // the fence pass now, writes the event, as it would have a moment later).
  }
  const result = await client.query<Row>({
    name: `baton_write_${kind}`,
    text: sql.write(kind),
    values: writeValues(write, now),
  });
  return writeOutcome(write, result.rows[0]);
}

/** Plain step writes of distinct runs, as one statement. */
async function applyPlain(
  client: Client,
  sql: PostgresStatements,
  writes: readonly JournalWrite[],
  now: number,
): Promise<(Applied | Error)[]> {
  const events = writes.flatMap((write) => write.events);
  const result = await client.query<Row>({
    name: 'baton_write_plain',
    text: sql.writePlain,
    values: [
      writes.map((write) => write.runId),
      writes.map((write) => write.owner),
      writes.map((write) => write.events[0]!.seq - 1),
      writes.map((write) => write.events[write.events.length - 1]!.seq),
      writes.map((write) => write.events[write.events.length - 1]!.hash),
      now,
      events.map((event) => event.runId),
      ...eventColumns(events),
    ],
  });
  const rows = new Map(result.rows.map((row) => [row.run_id as string, row]));
  return writes.map((write) => writeOutcome(write, rows.get(write.runId)));
}

function summarize(applied: readonly (Applied | Error)[]): BatchResult {
  const parents = new Set<string>();
  let runnable = false;
  const outcomes = applied.map((result): WriteOutcome => {
    if (result instanceof Error) return { ok: false, error: result };
    if (result.status === 'pending') runnable = true;
    if (isTerminal(result.status) && result.parentRunId !== null) parents.add(result.parentRunId);
    return { ok: true };
  });
  return { outcomes, parents: [...parents].sort(compareText), runnable };
}

function transitionKind(write: JournalWrite): TransitionKind {
  const status = write.transition?.status;
  if (status === undefined) return 'none';
  if (status === 'waiting' || status === 'pending') return status;
  return 'finished';
}

function writeValues(write: JournalWrite, now: number): unknown[] {
  const first = write.events[0];
  const last = write.events[write.events.length - 1];
  const transition = write.transition;
  const values: unknown[] = [
    write.runId,
    write.owner,
    first ? first.seq - 1 : null,
    last ? last.seq : null,
    last ? last.hash : null,
    now,
    write.consumeSignals ?? [],
    ...eventColumns(write.events),
  ];
  if (transition?.status === 'completed') {
    values.push(
      'completed',
      transition.result === undefined ? null : JSON.stringify(transition.result),
      null,
    );
  } else if (transition?.status === 'failed') {
    values.push('failed', null, JSON.stringify(transition.error));
  } else if (transition?.status === 'timed_out') {
    values.push('timed_out', null, JSON.stringify(transition.error));
  } else if (transition?.status === 'cancelled' || transition?.status === 'continued') {
    values.push(transition.status, null, null);
  } else if (transition?.status === 'waiting') {
    values.push(transition.seenWakeGen, transition.wakeAt ?? null, transition.cancelHandled === true);
  }
  return values;
}

/** Reads the row a write statement returned: what the write did, or why the fence kept it out. */
function writeOutcome(write: JournalWrite, row: Row | undefined): Applied | Error {
  if (!row) return new RunNotFoundError({ runId: write.runId });
  if (row.written === true)
    return { parentRunId: (row.parent_run_id as string | null) ?? null, status: row.status as RunStatus };
  if (row.lease_owner !== write.owner || row.status !== 'running') {
    return new LeaseLostError({ runId: write.runId, owner: write.owner });
  }
  const first = write.events[0];
  if (first && Number(row.last_seq) !== first.seq - 1) {
    return new SeqConflictError({ runId: write.runId, expectedSeq: first.seq, lastSeq: row.last_seq });
  }
  return new SignalConsumedError({ runId: write.runId, signalIds: write.consumeSignals ?? [] });
}

/** Byte order of run ids, as the `COLLATE "C"` columns sort them. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
