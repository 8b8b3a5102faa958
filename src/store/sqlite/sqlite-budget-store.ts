import type { DatabaseSync } from 'node:sqlite';
import {
  BUDGET_LEDGER_METRICS,
  type BudgetAmounts,
  type BudgetReservation,
  type BudgetStore,
} from '../budget-store.ts';
import { StatementCache } from './statement-cache.ts';

/** Budget ledgers in the `budget_charges` table (migration 7). See budget-store.ts. */
export class SqliteBudgets implements BudgetStore {
  readonly specificationVersion = 'v1' as const;
  readonly #db: DatabaseSync;
  readonly #statements: StatementCache;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = new StatementCache(db);
  }

  #sum(ledger: string): Required<BudgetAmounts> {
    const row = this.#statements
      .get(
        `SELECT COALESCE(SUM(tokens), 0) AS tokens, COALESCE(SUM(usd), 0) AS usd,
         COALESCE(SUM(model_calls), 0) AS model_calls, COALESCE(SUM(tool_calls), 0) AS tool_calls
       FROM budget_charges WHERE ledger = ?`,
      )
      .get(ledger)!;
    return {
      tokens: Number(row.tokens),
      usd: Number(row.usd),
      modelCalls: Number(row.model_calls),
      toolCalls: Number(row.tool_calls),
    };
  }

  #write(ledger: string, key: string, amounts: BudgetAmounts, settled: boolean, now: number): void {
    this.#statements
      .get(
        `INSERT INTO budget_charges (ledger, key, tokens, usd, model_calls, tool_calls, settled, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ledger, key) DO UPDATE SET tokens = excluded.tokens, usd = excluded.usd,
         model_calls = excluded.model_calls, tool_calls = excluded.tool_calls, settled = excluded.settled,
         updated_at = excluded.updated_at`,
      )
      .run(
        ledger,
        key,
        amounts.tokens ?? 0,
        amounts.usd ?? 0,
        amounts.modelCalls ?? 0,
        amounts.toolCalls ?? 0,
        settled ? 1 : 0,
        now,
      );
  }

  #transaction<T>(fn: () => T): T {
    this.#statements.get('BEGIN IMMEDIATE').run();
    try {
      const result = fn();
      this.#statements.get('COMMIT').run();
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async reserve(request: {
    ledger: string;
    key: string;
    amounts: BudgetAmounts;
    limits: BudgetAmounts;
    now: number;
  }): Promise<BudgetReservation> {
    return this.#transaction(() => {
      const used = this.#sum(request.ledger);
      const existing = this.#statements
        .get('SELECT 1 FROM budget_charges WHERE ledger = ? AND key = ?')
        .get(request.ledger, request.key);
      if (existing) return { ok: true, used };
      for (const metric of BUDGET_LEDGER_METRICS) {
        const limit = request.limits[metric];
        if (limit !== undefined && used[metric] + (request.amounts[metric] ?? 0) > limit) {
          return { ok: false, used, metric, limit };
        }
      }
      this.#write(request.ledger, request.key, request.amounts, false, request.now);
      return { ok: true, used };
    });
  }

  async settle(request: { ledger: string; key: string; amounts: BudgetAmounts; now: number }): Promise<void> {
    this.#transaction(() => this.#write(request.ledger, request.key, request.amounts, true, request.now));
  }

  async usage(ledger: string): Promise<Required<BudgetAmounts>> {
    return this.#sum(ledger);
  }
}
