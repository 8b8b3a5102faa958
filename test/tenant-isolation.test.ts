import { describe, expect, it } from 'vitest';
import { RunNotFoundError } from '../src/errors.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { harness, type Harness, harnessesClosedAfterEach } from './support/harness.ts';

const approval = defineWorkflow('approval', async (ctx) => {
  const decision = await ctx.waitFor<{ approved: boolean }>('baton.approve:1');
  return decision.approved ? 'approved' : 'rejected';
});

const { open } = harnessesClosedAfterEach();

async function twoTenants(): Promise<{ h: Harness; acme: string; globex: string }> {
  const h = await harness({ workflows: [approval] });
  open.push(h);
  const acme = await h.baton.start(approval, null, { as: 'user:alice', tenant: 'acme' });
  const globex = await h.baton.start(approval, null, { as: 'user:mallory', tenant: 'globex' });
  await h.settle(acme.runId, 'waiting');
  await h.settle(globex.runId, 'waiting');
  return { h, acme: acme.runId, globex: globex.runId };
}

describe('a principal of one tenant and another tenant’s runs', () => {
  it('cannot read a run or its journal, and is not told it exists', async () => {
    const { h, acme } = await twoTenants();
    const asGlobex = { tenant: 'globex' };
    await expect(h.baton.getRun(acme, asGlobex)).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(h.baton.history(acme, asGlobex)).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(h.baton.handle(acme, false, 'globex').get()).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(h.baton.handle(acme, false, 'globex').history()).rejects.toBeInstanceOf(RunNotFoundError);
    // Suggestions for a mistyped id come from the caller's tenant only.
    const error = await h.baton.getRun(acme.slice(0, -1), asGlobex).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(RunNotFoundError);
    expect(error!.message).not.toContain(acme);
    expect(await h.store.readEvents(acme, 1, asGlobex)).toEqual([]);
  });

  it('cannot list them', async () => {
    const { h, acme, globex } = await twoTenants();
    const listed = await h.baton.listRuns({}, { tenant: 'globex' });
    expect(listed.map((run) => run.runId)).toEqual([globex]);
    expect(await h.baton.listRuns({ tenant: 'acme' }, { tenant: 'globex' })).toEqual([]);
    expect((await h.baton.listRuns({}, { tenant: 'acme' })).map((run) => run.runId)).toEqual([acme]);
  });

  it('cannot signal (approve) or cancel them, and the run is untouched', async () => {
    const { h, acme } = await twoTenants();
    await expect(
      h.baton.signal(acme, 'baton.approve:1', { approved: true }, { as: 'user:mallory', tenant: 'globex' }),
    ).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(h.baton.cancel(acme, { reason: 'mine now', tenant: 'globex' })).rejects.toBeInstanceOf(
      RunNotFoundError,
    );
    const run = await h.baton.getRun(acme, { tenant: 'acme' });
    expect(run).toMatchObject({ status: 'waiting', cancelRequested: false });
    expect(await h.store.pendingSignals(acme)).toEqual([]);
  });

  it('while the run’s own tenant can do all of it', async () => {
    const { h, acme } = await twoTenants();
    const mine = { tenant: 'acme' };
    expect((await h.baton.getRun(acme, mine)).tenant).toBe('acme');
    expect((await h.baton.history(acme, mine)).map((event) => event.type)).toContain('signal.awaited');
    await h.baton.signal(acme, 'baton.approve:1', { approved: true }, { as: 'user:bob', ...mine });
    expect(await h.baton.result(acme, mine)).toBe('approved');
    const handle = h.baton.handle(acme, false, 'acme');
    expect((await handle.get()).status).toBe('completed');
  });
});
