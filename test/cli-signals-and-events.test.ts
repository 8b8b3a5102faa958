import { describe, expect, it } from 'vitest';
import { batonSource as source, cliProject } from './support/cli-project.ts';

/** A project whose workflow publishes its progress and waits for deposits until it is closed. */
const CONFIG = `
import { defineConfig, workflow } from ${JSON.stringify(source)};

const account = workflow(
  'account',
  async (ctx) => {
  let balance = 0;
  await ctx.setEvent('balance', balance);
  for (;;) {
    const deposit = await ctx.waitFor('deposit');
    if (deposit === 'close') return balance;
    balance += deposit.cents;
    await ctx.setEvent('balance', balance);
  }
  },
  { queries: { inEuros: (values) => Number(values.balance ?? 0) / 100 } },
);

export default defineConfig({ store: 'sqlite:./cli.db', workflows: [account] });
`;

const { cli } = cliProject('baton-cli-semantics-', { 'baton.config.ts': CONFIG });

async function json<T = any>(args: string[]): Promise<T> {
  const result = await cli([...args, '--json']);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as T;
}

describe('baton signal --idempotency-key and baton get-event', () => {
  it('delivers a keyed signal once, refuses the key with other data, and reads published values', async () => {
    const run = await json(['start', 'account']);
    expect(run.status).toBe('waiting');
    const deposit = ['signal', run.runId, 'deposit', '--data', '{"cents":500}', '--idempotency-key', 'dep-1'];
    expect(await json(deposit)).toMatchObject({ sent: true, duplicate: false });
    const again = await cli(deposit);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Signal 'deposit' with key 'dep-1' was already delivered");
    const changed = await cli([
      'signal',
      run.runId,
      'deposit',
      '--data',
      '{"cents":900}',
      '--idempotency-key',
      'dep-1',
    ]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("already received a signal with idempotency key 'dep-1'");

    // What the run published before it parked is read from its journal, with no worker running.
    const missing = await cli(['get-event', run.runId, 'nothing']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("has not published 'nothing'");
    const balance = await json(['get-event', run.runId, 'balance', '--timeout', '20s']);
    expect(balance).toEqual({ runId: run.runId, key: 'balance', found: true, value: 0 });
    expect(await json(['query', run.runId, 'inEuros'])).toEqual({
      runId: run.runId,
      query: 'inEuros',
      result: 0,
    });
    const unknown = await cli(['query', run.runId, 'inDollars']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("declares no query 'inDollars'");
    const shown = await cli(['show', run.runId]);
    expect(shown.stdout).toMatch(/event balance\s+0/);
  });
});
