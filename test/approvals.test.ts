import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

const { start, open } = harnessesClosedAfterEach();

const refundFlow = workflow('refund', async (ctx, input: { cents: number }) => {
  const decision = await ctx.approval({
    action: 'refund.large',
    summary: `Refund ${input.cents} cents to customer C-9`,
    data: { cents: input.cents, customer: 'C-9' },
  });
  return decision;
});

describe('ctx.approval', () => {
  it('waits durably for a person, and journals the decision, the approver and the comment', async () => {
    const h = await start({ workflows: [refundFlow] });
    const run = await h.baton.start(refundFlow, { cents: 90_000 }, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const [pending] = await h.baton.approvals();
    expect(pending).toMatchObject({
      runId: run.runId,
      approvalId: 'approval-1',
      kind: 'approval',
      action: 'refund.large',
      summary: 'Refund 90000 cents to customer C-9',
      data: { cents: 90_000, customer: 'C-9' },
      requestedBy: 'user:alice',
      approvers: [],
    });
    // The default rule: anyone of the tenant but the one the run acts for.
    expect(await h.baton.approvals({ mine: true, as: 'user:alice' })).toEqual([]);
    expect(await h.baton.approvals({ mine: true, as: 'user:bob' })).toHaveLength(1);

    const receipt = await h.baton.approve(run.runId, 'approval-1', {
      as: 'user:bob',
      comment: 'customer verified by phone',
    });
    expect(receipt).toEqual({
      runId: run.runId,
      approvalId: 'approval-1',
      decision: 'approved',
      by: 'user:bob',
    });
    expect(await run.result()).toEqual({
      approvalId: 'approval-1',
      approved: true,
      by: 'user:bob',
      comment: 'customer verified by phone',
      timedOut: false,
    });

    const events = await run.history();
    expect(events.map((event) => event.type)).toEqual([
      'run.started',
      'approval.requested',
      'approval.decided',
      'run.completed',
    ]);
    expect(of(events, 'approval.decided')[0]!.payload).toEqual({
      op: 1,
      name: 'refund.large',
      approvalId: 'approval-1',
      decision: 'approved',
      by: 'user:bob',
      comment: 'customer verified by phone',
    });
    expect(await h.baton.approvals()).toEqual([]);
    expect(verifyChain(events).ok).toBe(true);
  });

  it('gives clear errors for bad decisions, and sends and journals nothing for them', async () => {
    const h = await start({ workflows: [refundFlow] });
    const run = await h.baton.start(refundFlow, { cents: 90_000 }, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const journal = (await run.history()).length;

    await expect(h.baton.approve(run.runId, 'approval-9', { as: 'user:bob' })).rejects.toMatchObject({
      code: 'APPROVAL_NOT_FOUND',
      message: `Run ${run.runId} has no approval 'approval-9'. Pending in this run: approval-1.`,
    });
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'user:alice' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
    });
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'agent:helper' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
    });
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'bob' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
    });
    await expect(h.baton.approve(run.runId, 'approval-1', { as: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      h.baton.approve(run.runId, 'approval-1', { as: 'user:bob', tenant: 'globex' }),
    ).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(
      h.baton.deny(run.runId, 'approval-1', { as: 'user:bob', args: { x: 1 } } as never),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
    expect(await run.history()).toHaveLength(journal);

    // Approving twice: refused while the first decision is on its way, and after the run took it.
    await h.baton.worker?.stop();
    await h.baton.approve(run.runId, 'approval-1', { as: 'user:bob' });
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'user:carol' })).rejects.toMatchObject({
      code: 'APPROVAL_ALREADY_DECIDED',
      message: expect.stringContaining('approved (the run has yet to take the decision) by user:bob'),
    });
    await expect(h.baton.deny(run.runId, 'approval-1', { as: 'user:bob' })).rejects.toMatchObject({
      code: 'APPROVAL_ALREADY_DECIDED',
    });
    expect(await h.store.pendingSignals(run.runId)).toHaveLength(1);
  });

  it('refuses a decision once the run was cancelled, and after it took one', async () => {
    const h = await start({ workflows: [refundFlow] });
    const cancelled = await h.baton.start(refundFlow, { cents: 1 }, { as: 'user:alice' });
    await h.settle(cancelled.runId, 'waiting');
    await h.baton.cancel(cancelled.runId);
    await h.settle(cancelled.runId, 'cancelled');
    await expect(h.baton.approve(cancelled.runId, 'approval-1', { as: 'user:bob' })).rejects.toMatchObject({
      code: 'APPROVAL_CLOSED',
      message: `Approval 'approval-1' cannot be decided: run ${cancelled.runId} has cancelled.`,
    });
    expect(await h.baton.approvals()).toEqual([]);

    const decided = await h.baton.start(refundFlow, { cents: 2 }, { as: 'user:alice' });
    await h.settle(decided.runId, 'waiting');
    await h.baton.deny(decided.runId, 'approval-1', { as: 'user:bob', comment: 'no' });
    expect(await decided.result()).toMatchObject({ approved: false, by: 'user:bob', comment: 'no' });
    await expect(h.baton.approve(decided.runId, 'approval-1', { as: 'user:carol' })).rejects.toMatchObject({
      code: 'APPROVAL_ALREADY_DECIDED',
      message: `Approval 'approval-1' of run ${decided.runId} was already denied by user:bob; a decision is final.`,
    });
  });

  it('denies on timeout, or escalates to the next group first', async () => {
    const timed = workflow('timed', async (ctx) =>
      ctx.approval({
        action: 'publish',
        summary: 'Publish the report',
        timeout: '1h',
        approvers: ['group:leads'],
        onTimeout: { escalateTo: 'managers' },
      }),
    );
    const h = await start({
      workflows: [timed],
      guard: { approvals: { groups: { leads: ['user:lee'], managers: ['user:mia'] } } },
    });
    const run = await h.baton.start(timed, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    expect(
      (await h.baton.approvals({ mine: true, as: 'user:lee' })).map((approval) => approval.approvalId),
    ).toEqual(['approval-1']);
    expect(await h.baton.approvals({ mine: true, as: 'user:mia' })).toEqual([]);

    await h.advanceUntil(run.runId, 3_600_000, 'waiting');
    const escalated = of(await run.history(), 'approval.escalated');
    expect(escalated.map((event) => event.payload)).toEqual([
      {
        op: 1,
        name: 'publish',
        approvalId: 'approval-1',
        stage: 1,
        approvers: ['group:managers'],
        until: new Date(h.clock.now() + 3_600_000).toISOString(),
      },
    ]);
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'user:lee' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
    });
    expect((await h.baton.approvals({ mine: true, as: 'user:mia' }))[0]).toMatchObject({
      stage: 1,
      approvers: ['group:managers'],
    });

    await h.advanceUntil(run.runId, 3_600_000, 'completed');
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'user:mia' })).rejects.toMatchObject({
      code: 'APPROVAL_ALREADY_DECIDED',
    });
    expect(await run.result()).toEqual({
      approvalId: 'approval-1',
      approved: false,
      by: 'system:timeout',
      comment: 'no decision before the deadline',
      timedOut: true,
    });
  });

  it('lets a Cedar policy decide who may approve, and journals the policies that allowed it', async () => {
    const policies = PolicyEngine.fromSources([
      {
        name: 'approvals.cedar',
        text: `@id("finance-approves-large-refunds")
permit (principal == User::"carol", action == Action::"Approve", resource)
when { context.approval == "refund.large" };`,
      },
    ]);
    const h = await start({ workflows: [refundFlow], guard: { approvals: { policies } } });
    const run = await h.baton.start(refundFlow, { cents: 90_000 }, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    await expect(h.baton.approve(run.runId, 'approval-1', { as: 'user:bob' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
      message: expect.stringContaining('no policy permits it (default deny)'),
    });
    expect(await h.baton.approvals({ mine: true, as: 'user:bob' })).toEqual([]);
    await h.baton.approve(run.runId, 'approval-1', { as: 'user:carol' });
    expect(await run.result()).toMatchObject({ approved: true, by: 'user:carol' });
    expect(of(await run.history(), 'approval.decided')[0]!.payload.policies).toEqual([
      'finance-approves-large-refunds',
    ]);
  });
});

describe('the approval inbox', () => {
  it('reads unfinished runs’ journals when the store has no inbox query', async () => {
    const { SqliteStore } = await import('../src/store/sqlite/sqlite-store.ts');
    const inner = SqliteStore.open({ path: ':memory:' });
    const store = new Proxy(inner, {
      get: (target, key) => {
        if (key === 'pendingApprovals') return undefined;
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const h = await start({ workflows: [refundFlow], store });
    try {
      const first = await h.baton.start(refundFlow, { cents: 1 }, { as: 'user:alice', tenant: 'acme' });
      const second = await h.baton.start(refundFlow, { cents: 2 }, { as: 'user:alice', tenant: 'globex' });
      await h.settle(first.runId, 'waiting');
      await h.settle(second.runId, 'waiting');
      expect((await h.baton.approvals()).map((approval) => approval.runId).sort()).toEqual(
        [first.runId, second.runId].sort(),
      );
      expect((await h.baton.approvals({ tenant: 'globex' })).map((approval) => approval.runId)).toEqual([
        second.runId,
      ]);
      await h.baton.approve(second.runId, 'approval-1', { as: 'user:bob', tenant: 'globex' });
      await second.result();
      expect((await h.baton.approvals()).map((approval) => approval.runId)).toEqual([first.runId]);
    } finally {
      await h.close();
      open.splice(open.indexOf(h), 1);
      await inner.close();
    }
  });
});

describe('approval gates before tools', () => {
  function refundAgent(
    refunds: { chargeId: string; cents: number }[],
    model = scriptedModel([
      { toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_1', cents: 120_000 } }] },
      (request) => `Done: ${JSON.stringify(request.toolResults[0]?.output)}`,
    ]),
  ) {
    const refund = tool({
      name: 'payments.refund',
      description: 'Refunds a charge',
      input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
      effect: 'irreversible',
      execute: async (args) => {
        refunds.push(args);
        return { refunded: args.cents };
      },
    });
    const lookup = tool({
      name: 'payments.lookup',
      description: 'Looks a charge up',
      input: z.object({ chargeId: z.string() }),
      effect: 'read',
      execute: async ({ chargeId }) => ({ chargeId, cents: 120_000 }),
    });
    return {
      model,
      billing: agent({
        name: 'billing',
        description: 'Billing',
        instructions: 'Refund.',
        model,
        tools: [refund, lookup],
      }),
    };
  }

  it('parks an irreversible call until a person approves it with edited arguments, which must fit the tool', async () => {
    const refunds: { chargeId: string; cents: number }[] = [];
    const { billing } = refundAgent(refunds);
    const flow = workflow('billing', async (ctx) => ctx.runAgent(billing, 'Refund charge ch_1'));
    const h = await start({ workflows: [flow], guard: { approvals: { gates: { irreversible: true } } } });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    expect(refunds).toEqual([]);
    const [pending] = await h.baton.approvals();
    expect(pending).toMatchObject({
      kind: 'tool',
      action: 'payments.refund',
      tool: { name: 'payments.refund', effect: 'irreversible', args: { chargeId: 'ch_1', cents: 120_000 } },
    });
    const journal = (await run.history()).length;

    await expect(
      h.baton.approve(run.runId, pending!.approvalId, {
        as: 'user:bob',
        args: { chargeId: 'ch_1', cents: -5 },
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_APPROVAL_ARGUMENTS',
      message: expect.stringContaining('cents'),
    });
    await expect(
      h.baton.approve(run.runId, pending!.approvalId, { as: 'user:bob', args: { chargeId: 'ch_1' } }),
    ).rejects.toMatchObject({
      code: 'INVALID_APPROVAL_ARGUMENTS',
    });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
    expect(await run.history()).toHaveLength(journal);

    await h.baton.approve(run.runId, pending!.approvalId, {
      as: 'user:bob',
      comment: 'half is fair',
      args: { chargeId: 'ch_1', cents: 60_000 },
    });
    expect(await run.result()).toBe('Done: {"refunded":60000}');
    expect(refunds).toEqual([{ chargeId: 'ch_1', cents: 60_000 }]);

    const events = await run.history();
    expect(pending!.approvalId).toBe(`tool-${of(events, 'tool.requested')[0]!.payload.op}`);
    const verdicts = of(events, 'tool.verdict').map((event) => [
      event.payload.interceptor,
      event.payload.verdict,
    ]);
    expect(verdicts).toEqual([
      ['guard.approval', 'park'],
      [`signal:baton.approval:${pending!.approvalId}`, 'rewrite'],
    ]);
    expect(of(events, 'approval.decided')[0]!.payload).toMatchObject({
      decision: 'approved',
      by: 'user:bob',
      comment: 'half is fair',
      args: { chargeId: 'ch_1', cents: 60_000 },
    });
    // The decision is committed before the tool runs.
    expect(of(events, 'approval.decided')[0]!.seq).toBeLessThan(of(events, 'tool.called')[0]!.seq);
  });

  it('refuses a denied call; the model is told and the tool never runs', async () => {
    const refunds: { chargeId: string; cents: number }[] = [];
    const { billing, model } = refundAgent(refunds);
    const flow = workflow('billing', async (ctx) => ctx.runAgent(billing, 'Refund charge ch_1'));
    const h = await start({ workflows: [flow], guard: { approvals: { gates: { irreversible: true } } } });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const [pending] = await h.baton.approvals();
    await h.baton.deny(run.runId, pending!.approvalId, { as: 'user:bob', comment: 'over the limit' });
    expect(await run.result()).toContain('The call was denied by signal:baton.approval');
    expect(refunds).toEqual([]);
    expect(String(model.calls[1]!.toolResults[0]!.output)).toContain('(user:bob): over the limit');
  });

  it('gates the calls a Cedar permit marks with @approval, with the approvers it names', async () => {
    const policies = PolicyEngine.fromSources([
      {
        name: 'tools.cedar',
        text: `@id("agents-read")
permit (principal is Agent, action == Action::"InvokeTool", resource) when { resource.effect == "read" };

@id("refunds-need-finance")
@approval("group:finance")
permit (principal is Agent, action == Action::"InvokeTool", resource == Tool::"payments.refund");

@id("people-decide-refunds")
permit (principal is User, action == Action::"Approve", resource) when { context.approval == "payments.refund" };`,
      },
    ]);
    const refunds: { chargeId: string; cents: number }[] = [];
    const { billing } = refundAgent(
      refunds,
      scriptedModel([
        { toolCalls: [{ name: 'payments.lookup', args: { chargeId: 'ch_1' } }] },
        { toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_1', cents: 100 } }] },
        'Refunded.',
      ]),
    );
    const flow = workflow('billing', async (ctx) => ctx.runAgent(billing, 'Refund charge ch_1'));
    const h = await start({
      workflows: [flow],
      guard: { approvals: { policies, groups: { finance: ['user:fiona'] }, gates: {} } },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const pending = await h.baton.approvals();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      action: 'payments.refund',
      approvers: ['group:finance'],
      members: ['user:fiona'],
    });
    await expect(
      h.baton.approve(run.runId, pending[0]!.approvalId, { as: 'user:bob' }),
    ).rejects.toMatchObject({ code: 'APPROVAL_FORBIDDEN' });
    await h.baton.approve(run.runId, pending[0]!.approvalId, { as: 'user:fiona' });
    expect(await run.result()).toBe('Refunded.');
    expect(refunds).toHaveLength(1);
  });

  it('denies a gated call nobody decided in time', async () => {
    const refunds: { chargeId: string; cents: number }[] = [];
    const { billing } = refundAgent(refunds);
    const flow = workflow('billing', async (ctx) => ctx.runAgent(billing, 'Refund charge ch_1'));
    const h = await start({
      workflows: [flow],
      guard: { approvals: { gates: { irreversible: true, timeout: '1d' } } },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const [pending] = await h.baton.approvals();
    expect(pending!.until).toBe(new Date(h.clock.now() + 86_400_000).toISOString());
    await h.advanceUntil(run.runId, 86_400_000, 'completed');
    await expect(h.baton.approve(run.runId, pending!.approvalId, { as: 'user:bob' })).rejects.toMatchObject({
      code: 'APPROVAL_ALREADY_DECIDED',
    });
    expect(refunds).toEqual([]);
    const decided = of(await run.history(), 'approval.decided')[0]!;
    expect(decided.payload).toMatchObject({ decision: 'denied', by: 'system:timeout', timedOut: true });
  });
});
