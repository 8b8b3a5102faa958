import type pg from 'pg';
import {
  BUDGET_LEDGER_METRICS,
  type BudgetAmounts,
  type BudgetReservation,
  type BudgetStore,
} from '../budget-store.ts';
import type { Row } from './postgres-rows.ts';

type Client = pg.PoolClient;

export interface PostgresBudgetsDeps {
  quotedSchema: string;
  /** The schema's name: calls on one ledger lock `<schema>.budget_charges` + the ledger. */
  schema: string;
  /** One statement on a pooled connection; `idempotent` reads are tried again on a fresh connection. */
  query: (text: string, values: unknown[], options?: { idempotent?: boolean }) => Promise<Row[]>;
  /** Runs `fn` in a transaction (again after a deadlock). */
  transaction: <T>(fn: (client: Client) => Promise<T>) => Promise<T>;
}

/**
 * Budget ledgers in the `budget_charges` table (migration 8). See budget-store.ts.
 *
 * A reservation reads the ledger's sum and then adds a charge: two processes doing that at once
 * could both see room for one more call. So every write to a ledger first takes a
 * transaction-scoped advisory lock on it (a ledger has no row of its own to lock before its first
 * charge): writes to one ledger run one at a time from every process and host, while other
 * ledgers do not wait. Charges commit durably, like the journal: they stand for money.
 */
export class PostgresBudgets implements BudgetStore {
  readonly specificationVersion = 'v1' as const;
  readonly #s: string;
  readonly #deps: PostgresBudgetsDeps;

  constructor(deps: PostgresBudgetsDeps) {
    this.#s = deps.quotedSchema;
    this.#deps = deps;
  }

  #sumSql(): string {
    return `SELECT COALESCE(SUM(tokens), 0) AS tokens, COALESCE(SUM(usd), 0) AS usd,
        COALESCE(SUM(model_calls), 0) AS model_calls, COALESCE(SUM(tool_calls), 0) AS tool_calls,
        COALESCE(bool_or(key = $2), false) AS charged
      FROM ${this.#s}.budget_charges WHERE ledger = $1`;
  }

  #lockedTransaction<T>(ledger: string, fn: (client: Client) => Promise<T>): Promise<T> {
    return this.#deps.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
        `${this.#deps.schema}.budget_charges`,
        ledger,
      ]);
      return fn(client);
    });
  }

  async #write(
    client: Client,
    ledger: string,
    key: string,
    amounts: BudgetAmounts,
    settled: boolean,
    now: number,
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${this.#s}.budget_charges (ledger, key, tokens, usd, model_calls, tool_calls, settled, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (ledger, key) DO UPDATE SET tokens = excluded.tokens, usd = excluded.usd,
         model_calls = excluded.model_calls, tool_calls = excluded.tool_calls, settled = excluded.settled,
         updated_at = excluded.updated_at`,
      [
        ledger,
        key,
        amounts.tokens ?? 0,
        amounts.usd ?? 0,
        amounts.modelCalls ?? 0,
        amounts.toolCalls ?? 0,
        settled,
        now,
      ],
    );
  }

  async reserve(request: {
    ledger: string;
    key: string;
    amounts: BudgetAmounts;
    limits: BudgetAmounts;
    now: number;
  }): Promise<BudgetReservation> {
    return this.#lockedTransaction(request.ledger, async (client) => {
      const row = (await client.query<Row>(this.#sumSql(), [request.ledger, request.key])).rows[0]!;
      const used = toAmounts(row);
      if (row.charged === true) return { ok: true, used };
      for (const metric of BUDGET_LEDGER_METRICS) {
        const limit = request.limits[metric];
        if (limit !== undefined && used[metric] + (request.amounts[metric] ?? 0) > limit) {
          return { ok: false, used, metric, limit };
        }
      }
      await this.#write(client, request.ledger, request.key, request.amounts, false, request.now);
      return { ok: true, used };
    });
  }

  async settle(request: { ledger: string; key: string; amounts: BudgetAmounts; now: number }): Promise<void> {
    await this.#lockedTransaction(request.ledger, (client) =>
      this.#write(client, request.ledger, request.key, request.amounts, true, request.now),
    );
  }

  async usage(ledger: string): Promise<Required<BudgetAmounts>> {
    const rows = await this.#deps.query(this.#sumSql(), [ledger, null], { idempotent: true });
    return toAmounts(rows[0]!);
  }
}

function toAmounts(row: Row): Required<BudgetAmounts> {
  return {
    tokens: Number(row.tokens),
    usd: Number(row.usd),
    modelCalls: Number(row.model_calls),
    toolCalls: Number(row.tool_calls),
  };
}
