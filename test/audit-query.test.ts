import { describe, expect, it } from 'vitest';
import { audit, formatAuditTable } from '../src/access/audit.ts';
import { authorizeDurably } from '../src/access/authorize-durably.ts';
import { createGrant } from '../src/access/grant.ts';
import { actingFor, chainOf } from '../src/access/identity-chain.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { harness, harnessesClosedAfterEach } from './support/harness.ts';

const policies = PolicyEngine.fromSources([
  {
    name: 'support.cedar',
    text: `@id("agents-use-tools") permit (principal is Agent, action == Action::"InvokeTool", resource);
@id("no-outside-email") forbid (principal, action == Action::"InvokeTool", resource == Tool::"email.send")
  unless { resource.hasTag("to") && resource.getTag("to") like "*@acme.com" };
@id("hand-offs") permit (principal is Agent, action == Action::"HandOff", resource);`,
  },
]);

const support = defineWorkflow('support', async (ctx, input: { to: string }) => {
  const grant = createGrant({ tenant: ctx.tenant, holder: ctx.principal, actions: ['tool:*', 'handoff:*'] });
  const planner = actingFor(chainOf(ctx), 'agent:planner');
  const writer = actingFor(planner, 'agent:writer');
  await authorizeDurably(ctx, policies, {
    chain: planner,
    action: 'HandOff',
    resource: { kind: 'agent', name: 'writer' },
    grant,
  });
  await authorizeDurably(ctx, policies, {
    chain: writer,
    action: 'InvokeTool',
    resource: { kind: 'tool', name: 'search.web' },
    grant,
  });
  await ctx.sleep('1h');
  await authorizeDurably(ctx, policies, {
    chain: writer,
    action: 'InvokeTool',
    resource: { kind: 'tool', name: 'email.send', args: { to: input.to } },
    grant,
  });
  return 'done';
});

/** Entries written at the same instant are ordered by run id, which is random: compare sorted. */
function sorted<T extends unknown[]>(rows: T[]): T[] {
  return [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

const { open } = harnessesClosedAfterEach();

describe('audit', () => {
  it('lists who did what, for whom, under which authorization', async () => {
    const h = await harness({ workflows: [support] });
    open.push(h);
    const alice = await h.baton.start(
      support,
      { to: 'leak@evil.example' },
      { as: 'user:alice', tenant: 'acme' },
    );
    const bob = await h.baton.start(support, { to: 'carol@acme.com' }, { as: 'user:bob', tenant: 'acme' });
    const other = await h.baton.start(
      support,
      { to: 'x@evil.example' },
      { as: 'user:alice', tenant: 'globex' },
    );
    for (const run of [alice, bob, other]) await h.settle(run.runId, 'waiting');
    const asleep = h.clock.now();
    h.advance(3_600_000);
    for (const run of [alice, bob, other]) await h.settle(run.runId, 'completed');

    const all = await audit(h.store, { tenant: 'acme' });
    expect(all).toHaveLength(6);
    expect(all.every((entry) => [alice.runId, bob.runId].includes(entry.runId))).toBe(true);

    const denied = await audit(h.store, { as: 'user:alice', decision: 'deny' });
    expect(
      sorted(denied.map((entry) => [entry.runId, entry.actor, entry.chain, entry.resource, entry.policies])),
    ).toEqual(
      sorted([
        [
          alice.runId,
          'agent:writer',
          'agent:writer for agent:planner for workflow:support for user:alice',
          'tool:email.send',
          ['no-outside-email'],
        ],
        [
          other.runId,
          'agent:writer',
          'agent:writer for agent:planner for workflow:support for user:alice',
          'tool:email.send',
          ['no-outside-email'],
        ],
      ]),
    );
    expect(denied[0]!.grantId).toMatch(/^grant_/);

    const handoffs = await audit(h.store, { agent: 'planner', action: 'HandOff', tenant: 'acme' });
    expect(sorted(handoffs.map((entry) => [entry.runId, entry.resource, entry.decision]))).toEqual(
      sorted([
        [alice.runId, 'agent:writer', 'allow'],
        [bob.runId, 'agent:writer', 'allow'],
      ]),
    );
    expect(await audit(h.store, { agent: 'writer', action: 'tool:email.*', as: 'user:bob' })).toMatchObject([
      { runId: bob.runId, decision: 'allow', policies: ['agents-use-tools'] },
    ]);
    // Only the e-mails were decided after the hour's sleep.
    const lately = await audit(h.store, { since: '30m', now: asleep + 3_600_000, tenant: 'acme' });
    expect(sorted(lately.map((entry) => [entry.runId, entry.resource]))).toEqual(
      sorted([
        [alice.runId, 'tool:email.send'],
        [bob.runId, 'tool:email.send'],
      ]),
    );
    expect(
      await audit(h.store, { until: new Date(asleep + 1), tenant: 'acme', action: 'tool:email.send' }),
    ).toEqual([]);

    const table = formatAuditTable(denied);
    expect(table.split('\n')[0]).toMatch(
      /^AT\s+RUN#SEQ\s+DECISION\s+ACTION\s+CHAIN\s+GRANT\s+POLICIES \/ REASON$/,
    );
    expect(table).toContain('DENY');
    expect(table).toContain('InvokeTool tool:email.send');
  });
});
