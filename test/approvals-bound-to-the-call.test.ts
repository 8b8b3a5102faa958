import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { toolCallHash } from '../src/agents/tool-call.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

/** Refunds of charge ch_1 only: a policy on the call's arguments. */
const policies = PolicyEngine.fromSources([
  {
    name: 'refunds.cedar',
    text:
      '@id("refund-ch1") permit (principal == Agent::"billing", action == Action::"InvokeTool", resource == Tool::"payments.refund") ' +
      'when { resource.hasTag("chargeId") && resource.getTag("chargeId") == "ch_1" };',
  },
]);

function setup(refunds: { chargeId: string; cents: number }[]) {
  const refund = tool({
    name: 'payments.refund',
    description: 'Refunds a charge',
    input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
    effect: 'irreversible',
    execute: async (args) => {
      refunds.push(args);
      return { refunded: args.cents, chargeId: args.chargeId };
    },
  });
  const model = scriptedModel([
    { toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_1', cents: 120_000 } }] },
    (request) => `Done: ${JSON.stringify(request.toolResults[0]?.output)}`,
  ]);
  const billing = agent({
    name: 'billing',
    description: 'Billing',
    instructions: 'Refund.',
    model,
    tools: [refund],
  });
  return workflow('billing', async (ctx) => ctx.runAgent(billing, 'Refund charge ch_1'));
}

describe('approvals are bound to the exact call', () => {
  it('the request and the decision name the canonical hash of the call; edited arguments are a new hash', async () => {
    const refunds: { chargeId: string; cents: number }[] = [];
    const flow = setup(refunds);
    const h = await start({
      workflows: [flow],
      policies,
      guard: { approvals: { gates: { irreversible: true } } },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const [requested] = of(await run.history(), 'approval.requested');
    const [asked] = of(await run.history(), 'tool.requested');
    const who = { actor: asked!.actor, onBehalfOf: asked!.onBehalfOf };
    const original = toolCallHash(
      'payments.refund',
      { chargeId: 'ch_1', cents: 120_000 },
      who,
      asked!.payload.grantId,
    );
    expect(requested!.payload.callHash).toBe(original);

    await h.baton.approve(run.runId, requested!.payload.approvalId, {
      as: 'user:bob',
      args: { chargeId: 'ch_1', cents: 60_000 },
    });
    expect(await run.result()).toBe('Done: {"refunded":60000,"chargeId":"ch_1"}');
    expect(refunds).toEqual([{ chargeId: 'ch_1', cents: 60_000 }]);
    const events = await run.history();
    const [decided] = of(events, 'approval.decided');
    expect(decided!.payload).toMatchObject({
      decision: 'approved',
      callHash: toolCallHash(
        'payments.refund',
        { chargeId: 'ch_1', cents: 60_000 },
        who,
        asked!.payload.grantId,
      ),
      requestedCallHash: original,
      reauthorization: { decision: 'allow' },
    });
    // The edited call was authorized again by the policy before it ran.
    const authorized = of(events, 'tool.authorized');
    expect(authorized.map((event) => event.payload.decision)).toEqual(['allow', 'allow']);
  });

  it('edited arguments the policy does not allow are denied, and the tool does not run', async () => {
    const refunds: { chargeId: string; cents: number }[] = [];
    const flow = setup(refunds);
    const h = await start({
      workflows: [flow],
      policies,
      guard: { approvals: { gates: { irreversible: true } } },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const [requested] = of(await run.history(), 'approval.requested');
    await h.baton.approve(run.runId, requested!.payload.approvalId, {
      as: 'user:bob',
      args: { chargeId: 'ch_2', cents: 5 },
    });
    const answer = String(await run.result());
    expect(refunds).toEqual([]);
    expect(answer).toContain('the edited arguments are not authorized');
    const events = await run.history();
    const [decided] = of(events, 'approval.decided');
    expect(decided!.payload).toMatchObject({
      decision: 'denied',
      by: 'user:bob',
      reauthorization: { decision: 'deny', reason: expect.stringContaining('not authorized') },
    });
    expect(decided!.payload.requestedCallHash).toBe(requested!.payload.callHash);
    const verdict = of(events, 'tool.verdict').find((event) => event.payload.phase === 'decided');
    expect(verdict!.payload).toMatchObject({ verdict: 'deny' });
    expect(of(events, 'tool.authorized').map((event) => event.payload.decision)).toEqual(['allow', 'deny']);
    expect(of(events, 'tool.called')).toEqual([]);
  });
});
