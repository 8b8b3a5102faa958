import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetStore } from '../../src/store/budget-store.ts';
import type { Store } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const NONE = { tokens: 0, usd: 0, modelCalls: 0, toolCalls: 0 };

/** What a backend under test hands the suite: an empty store, and how to get rid of it. */
export interface BudgetBackend {
  store: Store;
  dispose: () => Promise<void>;
  /** Another connection to the same store, as a second process would open it (closed by the suite). */
  connectAgain: () => Promise<Store>;
}

/**
 * The conformance suite of the Store spec's `budgets` capability (src/store/budget-store.ts): budget
 * ledgers shared by every run and worker process, charged idempotently by key. Every backend that
 * has `budgets` runs it. Amounts are sums of binary fractions, so every expectation is exact.
 */
export function budgetStoreConformance(name: string, open: () => Promise<BudgetBackend>): void {
  describe(`Budget store conformance: ${name}`, () => {
    let backend: BudgetBackend;
    let budgets: BudgetStore;
    const others: Store[] = [];

    beforeEach(async () => {
      backend = await open();
      if (!backend.store.budgets) throw new Error(`${name} has no budgets capability`);
      budgets = backend.store.budgets;
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await backend.dispose();
    });

    it('starts every ledger at zero', async () => {
      expect(await budgets.usage('tenant:acme:2026-01-01')).toEqual(NONE);
      expect(budgets.specificationVersion).toBe('v1');
    });

    it('grants reservations within the limits, answering the use before each, and sums the charges', async () => {
      const ledger = 'tenant:acme';
      const limits = { usd: 1, modelCalls: 3 };
      expect(
        await budgets.reserve({
          ledger,
          key: 'run_1:1',
          amounts: { usd: 0.25, modelCalls: 1 },
          limits,
          now: T0,
        }),
      ).toEqual({
        ok: true,
        used: NONE,
      });
      expect(
        await budgets.reserve({
          ledger,
          key: 'run_1:2',
          amounts: { usd: 0.5, modelCalls: 1, tokens: 1000 },
          limits,
          now: T0,
        }),
      ).toEqual({ ok: true, used: { ...NONE, usd: 0.25, modelCalls: 1 } });
      expect(await budgets.usage(ledger)).toEqual({ tokens: 1000, usd: 0.75, modelCalls: 2, toolCalls: 0 });
    });

    it('allows use up to a limit exactly, and refuses one more, writing nothing and naming the first measure over', async () => {
      const ledger = 'tenant:acme';
      const limits = { tokens: 1000, usd: 0.5, modelCalls: 2, toolCalls: 1 };
      expect(
        await budgets.reserve({ ledger, key: 'a', amounts: { usd: 0.5, modelCalls: 2 }, limits, now: T0 }),
      ).toMatchObject({
        ok: true,
      });
      // usd and modelCalls would both go over: usd comes first (tokens, usd, modelCalls, toolCalls).
      expect(
        await budgets.reserve({
          ledger,
          key: 'b',
          amounts: { tokens: 10, usd: 0.125, modelCalls: 1 },
          limits,
          now: T0,
        }),
      ).toEqual({ ok: false, used: { ...NONE, usd: 0.5, modelCalls: 2 }, metric: 'usd', limit: 0.5 });
      expect(await budgets.reserve({ ledger, key: 'c', amounts: { toolCalls: 2 }, limits, now: T0 })).toEqual(
        {
          ok: false,
          used: { ...NONE, usd: 0.5, modelCalls: 2 },
          metric: 'toolCalls',
          limit: 1,
        },
      );
      expect(await budgets.usage(ledger)).toEqual({ ...NONE, usd: 0.5, modelCalls: 2 });
      // A refused key was not kept: once there is room, it is charged.
      await budgets.settle({ ledger, key: 'a', amounts: { usd: 0.25, modelCalls: 1 }, now: T0 + 1 });
      expect(
        await budgets.reserve({
          ledger,
          key: 'b',
          amounts: { usd: 0.125, modelCalls: 1 },
          limits,
          now: T0 + 2,
        }),
      ).toMatchObject({
        ok: true,
      });
      expect(await budgets.usage(ledger)).toEqual({ ...NONE, usd: 0.375, modelCalls: 2 });
    });

    it('does not limit a measure without a limit, and counts a measure left out as zero', async () => {
      const ledger = 'tenant:acme';
      expect(
        await budgets.reserve({
          ledger,
          key: 'big',
          amounts: { tokens: 1e9, toolCalls: 50 },
          limits: { usd: 0.01 },
          now: T0,
        }),
      ).toMatchObject({ ok: true });
      expect(
        await budgets.reserve({ ledger, key: 'none', amounts: {}, limits: { usd: 0 }, now: T0 }),
      ).toMatchObject({ ok: true });
      expect(await budgets.usage(ledger)).toEqual({ ...NONE, tokens: 1e9, toolCalls: 50 });
    });

    it('answers a key already charged with ok, changing nothing, even when the ledger is now over', async () => {
      const ledger = 'tenant:acme';
      await budgets.reserve({
        ledger,
        key: 'run_1:1',
        amounts: { modelCalls: 1 },
        limits: { modelCalls: 1 },
        now: T0,
      });
      // A replay, or a retry after a crash, asks again for the same call.
      expect(
        await budgets.reserve({
          ledger,
          key: 'run_1:1',
          amounts: { modelCalls: 5 },
          limits: { modelCalls: 1 },
          now: T0 + 1,
        }),
      ).toEqual({ ok: true, used: { ...NONE, modelCalls: 1 } });
      expect(await budgets.usage(ledger)).toEqual({ ...NONE, modelCalls: 1 });
    });

    it('settles a reservation to the real use, creates a missing charge, and takes negative credits', async () => {
      const ledger = 'tenant:acme';
      await budgets.reserve({
        ledger,
        key: 'run_1:1',
        amounts: { usd: 0.5, tokens: 4000 },
        limits: { usd: 1 },
        now: T0,
      });
      await budgets.settle({
        ledger,
        key: 'run_1:1',
        amounts: { usd: 0.125, tokens: 1500, modelCalls: 1 },
        now: T0 + 1,
      });
      expect(await budgets.usage(ledger)).toEqual({ tokens: 1500, usd: 0.125, modelCalls: 1, toolCalls: 0 });
      // Settling again with the same amounts changes nothing.
      await budgets.settle({
        ledger,
        key: 'run_1:1',
        amounts: { usd: 0.125, tokens: 1500, modelCalls: 1 },
        now: T0 + 2,
      });
      await budgets.settle({ ledger, key: 'run_2:1', amounts: { usd: 0.75 }, now: T0 + 3 });
      expect(await budgets.usage(ledger)).toEqual({ tokens: 1500, usd: 0.875, modelCalls: 1, toolCalls: 0 });
      expect(
        await budgets.reserve({
          ledger,
          key: 'run_3:1',
          amounts: { usd: 0.25 },
          limits: { usd: 1 },
          now: T0 + 4,
        }),
      ).toMatchObject({
        ok: false,
        metric: 'usd',
      });
      // A person extends the budget: a credit.
      await budgets.settle({ ledger, key: 'extend:run_3:1', amounts: { usd: -0.5 }, now: T0 + 5 });
      expect(await budgets.usage(ledger)).toEqual({ tokens: 1500, usd: 0.375, modelCalls: 1, toolCalls: 0 });
      expect(
        await budgets.reserve({
          ledger,
          key: 'run_3:1',
          amounts: { usd: 0.25 },
          limits: { usd: 1 },
          now: T0 + 6,
        }),
      ).toEqual({
        ok: true,
        used: { tokens: 1500, usd: 0.375, modelCalls: 1, toolCalls: 0 },
      });
    });

    it('keeps ledgers apart', async () => {
      await budgets.settle({
        ledger: 'tenant:acme:2026-01-01',
        key: 'k',
        amounts: { modelCalls: 3 },
        now: T0,
      });
      await budgets.settle({
        ledger: 'tenant:acme:2026-01-02',
        key: 'k',
        amounts: { modelCalls: 1 },
        now: T0,
      });
      expect(
        await budgets.reserve({
          ledger: 'tenant:globex:2026-01-01',
          key: 'k',
          amounts: { modelCalls: 2 },
          limits: { modelCalls: 2 },
          now: T0,
        }),
      ).toMatchObject({ ok: true, used: NONE });
      expect(await budgets.usage('tenant:acme:2026-01-01')).toEqual({ ...NONE, modelCalls: 3 });
      expect(await budgets.usage('tenant:acme:2026-01-02')).toEqual({ ...NONE, modelCalls: 1 });
      expect(await budgets.usage('tenant:globex:2026-01-01')).toEqual({ ...NONE, modelCalls: 2 });
    });

    it('never grants past a limit when reservations come from many connections at once', async () => {
      const connections = [backend.store, await backend.connectAgain(), await backend.connectAgain()];
      others.push(...connections.slice(1));
      const ledger = 'tenant:acme';
      const answers = await Promise.all(
        Array.from({ length: 36 }, (_, index) =>
          connections[index % connections.length]!.budgets!.reserve({
            ledger,
            key: `run_${index}:1`,
            amounts: { modelCalls: 1, usd: 0.125 },
            limits: { modelCalls: 10 },
            now: T0 + index,
          }),
        ),
      );
      expect(answers.filter((answer) => answer.ok)).toHaveLength(10);
      expect(await budgets.usage(ledger)).toEqual({ ...NONE, modelCalls: 10, usd: 1.25 });
      // Every refusal saw the ledger full.
      for (const answer of answers.filter((answer) => !answer.ok)) {
        expect(answer).toMatchObject({ metric: 'modelCalls', limit: 10, used: { modelCalls: 10 } });
      }
    });
  });
}
