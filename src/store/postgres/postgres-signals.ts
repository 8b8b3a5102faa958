import type pg from 'pg';
import { RunFinishedError, RunNotFoundError } from '../../errors.ts';
import {
  isTerminal,
  type NewSignal,
  type RunStatus,
  type SignalDelivery,
  type TenantScope,
} from '../store.ts';
import { isConnectionError } from './postgres-connection.ts';
import { compareText } from './postgres-commit.ts';
import { signalValues, type Row } from './postgres-rows.ts';

type Client = pg.PoolClient;

export interface PostgresSignalsDeps {
  /** The one-statement send (see PostgresStatements.sendSignal). */
  statement: string;
  /** The channel workers LISTEN on. */
  channel: string;
  /** One statement on a pooled connection, autocommit. */
  query: (text: string, values: unknown[], options: { name: string }) => Promise<Row[]>;
  /** A transaction on one pooled connection (retried whole after a deadlock). */
  transaction: <T>(fn: (client: Client) => Promise<T>) => Promise<T>;
}

interface Pending {
  signal: NewSignal;
  scope: TenantScope | undefined;
  resolve: (delivery: SignalDelivery) => void;
  reject: (error: unknown) => void;
}

/** Sends in one transaction at most; the rest wait for the next. */
const MAX_BATCH = 500;

/**
 * Group commit for signals without an idempotency key. A send is one statement (lock the run, keep
 * the signal, wake the run, NOTIFY); sends made while a batch commits go out together in the next
 * one, pipelined on one connection in run id order, so N concurrent sends cost one commit, not N.
 * Each send is answered on its own: an unknown or finished run fails that send alone. Should a
 * statement fail otherwise (aborting the transaction), the batch's sends run again one by one.
 */
export class PostgresSignals {
  readonly #deps: PostgresSignalsDeps;
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;

  constructor(deps: PostgresSignalsDeps) {
    this.#deps = deps;
  }

  send(signal: NewSignal, scope: TenantScope | undefined): Promise<SignalDelivery> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ signal, scope, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    try {
      // Sends made in this turn of the event loop join the first batch.
      await Promise.resolve();
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        batch.sort((a, b) => compareText(a.signal.runId, b.signal.runId));
        await this.#commit(batch);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #commit(batch: readonly Pending[]): Promise<void> {
    let rows: (Row | undefined)[];
    try {
      rows =
        batch.length === 1
          ? [await this.#one(batch[0]!)]
          : await this.#deps.transaction((client) =>
              Promise.all(
                batch.map(async (pending) => {
                  const result = await client.query<Row>({
                    name: 'baton_send_signal',
                    text: this.#deps.statement,
                    values: this.#values(pending),
                  });
                  return result.rows[0];
                }),
              ),
            );
    } catch (error) {
      if (batch.length === 1 || isConnectionError(error)) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // One send broke the transaction: each goes again alone, so that only it fails.
      await Promise.all(
        batch.map((pending) =>
          this.#one(pending).then(
            (row) => settle(pending, row),
            (failure: unknown) => pending.reject(failure),
          ),
        ),
      );
      return;
    }
    batch.forEach((pending, index) => settle(pending, rows[index]));
  }

  async #one(pending: Pending): Promise<Row | undefined> {
    const rows = await this.#deps.query(this.#deps.statement, this.#values(pending), {
      name: 'baton_send_signal',
    });
    return rows[0];
  }

  #values({ signal, scope }: Pending): unknown[] {
    return [...signalValues(signal), scope?.tenant ?? null, this.#deps.channel];
  }
}

/** Answers one send from the row its statement returned. */
function settle(pending: Pending, row: Row | undefined): void {
  const runId = pending.signal.runId;
  if (!row) pending.reject(new RunNotFoundError({ runId }));
  else if (isTerminal(row.status as RunStatus)) {
    pending.reject(new RunFinishedError({ runId, status: row.status as string, action: 'signal' }));
  }
  // A signal id already kept was already a wake-up.
  else pending.resolve({ kept: true });
}
