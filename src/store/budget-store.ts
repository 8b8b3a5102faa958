/** What a budget ledger counts. A measure left out counts 0 (or, in limits, is not limited). */
export interface BudgetAmounts {
  tokens?: number;
  usd?: number;
  modelCalls?: number;
  toolCalls?: number;
}

export const BUDGET_LEDGER_METRICS = ['tokens', 'usd', 'modelCalls', 'toolCalls'] as const;

/** The answer to a reservation: granted, or the first measure that would go over its limit. */
export type BudgetReservation =
  | { ok: true; used: Required<BudgetAmounts> }
  | {
      ok: false;
      used: Required<BudgetAmounts>;
      metric: (typeof BUDGET_LEDGER_METRICS)[number];
      limit: number;
    };

/**
 * Optional store capability: budget ledgers shared by every run and worker process on the store,
 * for budgets that span runs (per tenant). A ledger is a set of charges, each keyed by the call's
 * idempotency key (`runId:op`), so that charging the same call again (a replay, a retry after a
 * crash) changes nothing: a reservation is an estimate made before a call; settling replaces it
 * with the real use. A ledger's use is the sum of its charges (a credit is a negative charge).
 */
export interface BudgetStore {
  readonly specificationVersion: 'v1';
  /**
   * Atomically: when the ledger's use plus `amounts` stays within `limits` (each measure that has a
   * limit), records the charge `key` and answers `ok: true`; otherwise writes nothing and answers
   * which measure would go over. A key already charged is left as it is and answered `ok: true`.
   */
  reserve(request: {
    ledger: string;
    key: string;
    amounts: BudgetAmounts;
    limits: BudgetAmounts;
    now: number;
  }): Promise<BudgetReservation>;
  /** Sets the charge `key` to `amounts` (the real use, or a negative credit), creating it if missing. Idempotent. */
  settle(request: { ledger: string; key: string; amounts: BudgetAmounts; now: number }): Promise<void>;
  /** The ledger's use: the sum of its charges. */
  usage(ledger: string): Promise<Required<BudgetAmounts>>;
}
