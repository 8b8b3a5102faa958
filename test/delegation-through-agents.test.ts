import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AccessControl } from '../src/access/access-control.ts';
import { PolicyEngine } from '../src/access/policy-engine.ts';
import { AgentRuntime } from '../src/agents/runtime.ts';
import { replay } from '../src/replay.ts';
import { agent } from '../src/agents/agent.ts';
import { contextLayers, workflow } from '../src/context-layers.ts';
import { callTool } from '../src/agents/call-tool.ts';
import { tool } from '../src/agents/tool.ts';
import { RunFailedError } from '../src/errors.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

// A run's grant narrows as work is delegated: to the agent the workflow runs, to the agents that
// agent calls as tools or hands off to, and to child runs. Every tool call, handoff and child start
// is decided under the grant of whoever makes it, and the decision is journaled with it.

const { start } = harnessesClosedAfterEach();

function tools() {
  const refunds: unknown[] = [];
  const searchWeb = tool({
    name: 'search.web',
    description: 'Searches the web',
    input: z.object({ query: z.string() }),
    effect: 'read',
    execute: ({ query }) => ({ hits: [`result for ${query}`] }),
  });
  const refund = tool({
    name: 'payments.refund',
    description: 'Refunds a charge',
    input: z.object({ chargeId: z.string() }),
    effect: 'irreversible',
    execute: (args) => {
      refunds.push(args);
      return { refunded: true };
    },
  });
  return { searchWeb, refund, refunds };
}

describe('a grant narrows through a sub-agent', () => {
  it('the sub-agent cannot call a tool its caller’s grant lacks: denied, journaled with actor, chain and grant, not run', async () => {
    const { searchWeb, refund, refunds } = tools();
    const researcher = agent({
      name: 'researcher',
      description: 'Finds things out',
      instructions: 'Research.',
      model: scriptedModel([
        { toolCalls: [{ name: 'search.web', args: { query: 'charge ch_1' } }] },
        // The model tries a tool the run's grant never gave anyone.
        { toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_1' } }] },
        (request) => `could not refund: ${String(request.toolResults[0]!.output)}`,
      ]),
      tools: [searchWeb, refund],
    });
    const planner = agent({
      name: 'planner',
      description: 'Plans',
      instructions: 'Ask the researcher.',
      model: scriptedModel([
        { toolCalls: [{ name: 'researcher', args: { task: 'look into ch_1' } }] },
        (request) => `researcher says: ${String(request.toolResults[0]!.output)}`,
      ]),
      tools: [researcher],
    });
    const flow = workflow('plan', async (ctx) => ctx.runAgent(planner, 'Handle ch_1'));
    const h = await start({ workflows: [flow] });

    const run = await h.baton.start(
      flow,
      {},
      {
        as: 'user:alice',
        tenant: 'acme',
        grant: { actions: ['tool:search.*', 'handoff:researcher'] },
      },
    );
    const answer = String(await run.result());
    expect(refunds).toEqual([]);
    expect(answer).toContain('outside grant');

    const events = await run.history();
    expect(verifyChain(events).ok).toBe(true);
    const root = of(events, 'run.started')[0]!.payload.grant!;
    expect(root).toMatchObject({
      tenant: 'acme',
      holder: 'user:alice',
      depth: 0,
      actions: ['tool:search.*', 'handoff:researcher'],
    });
    expect((await h.baton.getRun(run.runId)).metadata.grant).toEqual(root);

    // Each agent holds the grant above it, narrowed to what it needs (here: derived from its tools, not strict).
    const [plannerStarted, researcherStarted] = of(events, 'agent.started');
    expect(plannerStarted!.payload.grant).toMatchObject({
      depth: 1,
      parentId: root.id,
      holder: 'agent:planner',
      actions: ['handoff:researcher', 'tool:search.web'],
    });
    const researcherGrant = researcherStarted!.payload.grant!;
    expect(researcherGrant).toMatchObject({
      depth: 2,
      parentId: plannerStarted!.payload.grant!.id,
      holder: 'agent:researcher',
      actions: ['tool:search.web'],
    });

    // Calling the sub-agent was authorized (HandOff) under the planner's grant, and gave the grant.
    const [handOff] = of(events, 'access.decided');
    expect(handOff!.actor).toBe('agent:planner');
    expect(handOff!.payload).toMatchObject({
      action: 'HandOff',
      resource: 'agent:researcher',
      decision: 'allow',
      reason: 'grant',
      grantId: plannerStarted!.payload.grant!.id,
      delegated: researcherGrant,
    });

    const decisions = of(events, 'tool.authorized');
    expect(
      decisions.map((event) => [event.payload.name, event.payload.decision, event.payload.reason]),
    ).toEqual([
      ['search.web', 'allow', 'grant'],
      ['payments.refund', 'deny', 'outside grant'],
    ]);
    const denied = decisions[1]!;
    expect(denied.actor).toBe('agent:researcher');
    expect(denied.onBehalfOf).toEqual(['agent:planner', 'workflow:plan', 'user:alice']);
    expect(denied.payload).toMatchObject({
      grantId: researcherGrant.id,
      grantAction: 'tool:payments.refund',
    });
    const requested = of(events, 'tool.requested').find((event) => event.payload.name === 'payments.refund')!;
    expect(requested.payload.grantId).toBe(researcherGrant.id);
    expect(of(events, 'tool.called').map((event) => event.payload.name)).toEqual(['search.web']);
    // Replaying against the same code takes every grant and decision from the journal.
    expect((await h.baton.replay(run.runId)).ok).toBe(true);
  });

  it('an agent declaring a need its caller lacks is refused: DelegationWidensError, journaled, nothing asked of the model', async () => {
    const { refund } = tools();
    const model = scriptedModel(['never asked']);
    const refunder = agent({
      name: 'refunder',
      description: 'Refunds',
      instructions: 'Refund.',
      model,
      tools: [refund],
      needs: ['tool:payments.*'],
    });
    const flow = workflow('refund', async (ctx) => ctx.runAgent(refunder, 'Refund ch_1'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {}, { as: 'user:alice', grant: { actions: ['tool:search.*'] } });

    const failure = await run.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect((failure as Error).message).toContain("agent:refunder asks for 'tool:payments.*'");
    expect(model.calls).toHaveLength(0);
    const events = await run.history();
    const [failed] = of(events, 'agent.failed');
    expect(failed!.actor).toBe('agent:refunder');
    expect(failed!.payload.error.code).toBe('DELEGATION_WIDENS');
    expect(of(events, 'agent.started')).toHaveLength(0);
    expect(of(events, 'llm.called')).toHaveLength(0);
  });

  it('stops at the depth limit and refuses the call to a deeper agent, which the model is told', async () => {
    const { searchWeb } = tools();
    const researcher = agent({
      name: 'researcher',
      description: 'Finds things out',
      instructions: 'Research.',
      model: scriptedModel(['never asked']),
      tools: [searchWeb],
    });
    const planner = agent({
      name: 'planner',
      description: 'Plans',
      instructions: 'Ask the researcher.',
      model: scriptedModel([
        { toolCalls: [{ name: 'researcher', args: { task: 'look' } }] },
        (request) => String(request.toolResults[0]!.output),
      ]),
      tools: [researcher],
    });
    const flow = workflow('deep', async (ctx) => ctx.runAgent(planner, 'Go'));
    const h = await start({ workflows: [flow], maxDelegationDepth: 1 });
    const run = await h.baton.start(flow, {}, { grant: { actions: ['tool:*', 'handoff:*'] } });
    expect(String(await run.result())).toContain('delegation too deep');
    const [decision] = of(await run.history(), 'access.decided');
    expect(decision!.payload).toMatchObject({
      action: 'HandOff',
      decision: 'deny',
      reason: 'delegation too deep',
    });
    expect(decision!.payload.delegated).toBeUndefined();
  });
});

describe('a grant narrows into a child run', () => {
  it('the child starts under the parent’s grant, narrowed, and cannot call a tool the parent’s grant lacks', async () => {
    const { searchWeb, refund, refunds } = tools();
    const report = workflow('report', async (ctx) => {
      const found = await callTool(ctx, searchWeb, { query: 'q' });
      const refused = await callTool(ctx, refund, { chargeId: 'ch_9' }).catch(
        (error: Error & { code?: string }) => error.code,
      );
      return { found, refused };
    });
    const parent = workflow('parent', async (ctx) =>
      ctx.child(report, {}, { needs: ['tool:search.*', 'tool:payments.refund'] }),
    );
    const lenient = workflow('lenient', async (ctx) => ctx.child(report, {}));
    const h = await start({ workflows: [parent, lenient, report] });

    // Declared needs beyond the parent's grant: the start is refused.
    const strict = await h.baton.start(
      parent,
      {},
      { as: 'user:alice', grant: { actions: ['tool:search.*', 'child:report'] } },
    );
    const refusal = await strict.result().catch((error: unknown) => error);
    expect((refusal as Error).message).toMatch(
      /may not StartChild workflow:report: denied \(delegation widens/,
    );
    const [denied] = of(await strict.history(), 'access.decided');
    expect(denied!.actor).toBe('workflow:parent');
    expect(denied!.payload).toMatchObject({
      action: 'StartChild',
      resource: 'workflow:report',
      decision: 'deny',
      reason: 'delegation widens',
    });
    expect(of(await strict.history(), 'child.started')).toHaveLength(0);

    // Without declared needs the child gets what the parent holds, and no more.
    const run = await h.baton.start(
      lenient,
      {},
      { as: 'user:alice', grant: { actions: ['tool:search.*', 'child:report'] } },
    );
    expect(await run.result()).toEqual({ found: { hits: ['result for q'] }, refused: 'TOOL_CALL_DENIED' });
    expect(refunds).toEqual([]);
    const events = await run.history();
    const root = of(events, 'run.started')[0]!.payload.grant!;
    const [allowed] = of(events, 'access.decided');
    expect(allowed!.payload).toMatchObject({
      action: 'StartChild',
      decision: 'allow',
      reason: 'grant',
      grantId: root.id,
    });
    const childRunId = of(events, 'child.started')[0]!.payload.childRunId;
    const childEvents = await h.baton.history(childRunId);
    const childGrant = of(childEvents, 'run.started')[0]!.payload.grant!;
    expect(childGrant).toEqual(allowed!.payload.delegated);
    expect(childGrant).toMatchObject({
      depth: 1,
      parentId: root.id,
      holder: 'workflow:report',
      actions: root.actions,
    });
    const refused = of(childEvents, 'tool.authorized').find(
      (event) => event.payload.name === 'payments.refund',
    )!;
    expect(refused.actor).toBe('workflow:report');
    expect(refused.payload).toMatchObject({
      decision: 'deny',
      reason: 'outside grant',
      grantId: childGrant.id,
    });
    expect(of(childEvents, 'tool.failed')).toHaveLength(0);
    expect((await h.baton.replay(run.runId)).ok).toBe(true);
    expect((await h.baton.replay(childRunId)).ok).toBe(true);
    // The StartChild decision is an op of its own: a replay keeps it even with no access configured.
    const bare = await AccessControl.open({}, { clock: Date.now });
    const elsewhere = await replay(events, lenient, {
      layers: contextLayers({ access: bare, agents: new AgentRuntime() }),
    });
    expect(elsewhere).toMatchObject({ ok: true, recorded: 'completed', replayed: 'completed' });
  });

  it('an expired grant allows nothing', async () => {
    const { searchWeb } = tools();
    const later = workflow('later', async (ctx) => {
      await ctx.sleep('2m');
      return callTool(ctx, searchWeb, { query: 'q' }).catch((error: Error & { code?: string }) => error.code);
    });
    const h = await start({ workflows: [later] });
    const run = await h.baton.start(later, {}, { grant: { actions: ['tool:search.*'], ttl: '1m' } });
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, 3 * 60_000, 'completed');
    expect(await run.result()).toBe('TOOL_CALL_DENIED');
    const [decision] = of(await run.history(), 'tool.authorized');
    expect(decision!.payload).toMatchObject({ decision: 'deny', reason: 'grant expired' });
  });
});

describe('handoffs under policies', () => {
  const policies = PolicyEngine.fromSources([
    {
      name: 'agents.cedar',
      text: `@id("agents-use-tools")
permit (principal is Agent, action == Action::"InvokeTool", resource);

@id("agents-hand-off")
permit (principal is Agent, action == Action::"HandOff", resource);

@id("no-billing-handoffs")
forbid (principal, action == Action::"HandOff", resource == Agent::"billing");
`,
    },
  ]);

  it('a handoff the policy forbids is refused and journaled; the model is told and the agent goes on', async () => {
    const billingModel = scriptedModel(['never asked']);
    const billing = agent({
      name: 'billing',
      description: 'Billing',
      instructions: 'Bill.',
      model: billingModel,
    });
    const triageModel = scriptedModel([
      { toolCalls: [{ name: 'transfer_to_billing', args: { reason: 'refund' } }] },
      (request) => `I could not hand over: ${String(request.toolResults[0]!.output)}`,
    ]);
    const triage = agent({
      name: 'triage',
      description: 'Triage',
      instructions: 'Route tickets.',
      model: triageModel,
      handoffs: [billing],
    });
    const flow = workflow('support', async (ctx) => ctx.runAgent(triage, 'I want a refund'));
    const h = await start({ workflows: [flow], policies });
    const run = await h.baton.start(flow, {}, { as: 'user:alice', grant: { actions: ['handoff:*'] } });

    const answer = String(await run.result());
    expect(answer).toContain('no-billing-handoffs');
    expect(billingModel.calls).toHaveLength(0);
    expect(triageModel.calls[1]!.toolResults[0]).toMatchObject({
      toolName: 'transfer_to_billing',
      isError: true,
    });

    const events = await run.history();
    const [decision] = of(events, 'access.decided');
    expect(decision!.actor).toBe('agent:triage');
    expect(decision!.onBehalfOf).toEqual(['workflow:support', 'user:alice']);
    expect(decision!.payload).toMatchObject({
      action: 'HandOff',
      resource: 'agent:billing',
      decision: 'deny',
      reason: 'policy',
      policies: ['no-billing-handoffs'],
      callId: expect.any(String),
    });
    expect(of(events, 'agent.handedOff')).toHaveLength(0);
    expect(of(events, 'agent.started').map((event) => event.payload.name)).toEqual(['triage']);
    expect(of(events, 'agent.completed').map((event) => event.payload.name)).toEqual(['triage']);

    // Replaying the run against the same code answers every decision from the journal, even where
    // no policies are configured any more.
    const report = await h.baton.replay(run.runId);
    expect(report.ok).toBe(true);
    const bare = await AccessControl.open({}, { clock: Date.now });
    const elsewhere = await replay(events, flow, {
      layers: contextLayers({ access: bare, agents: new AgentRuntime() }),
    });
    expect(elsewhere).toMatchObject({ ok: true, recorded: 'completed', replayed: 'completed' });
  });

  it('with policies, default deny applies to every tool call, with or without a grant', async () => {
    const { searchWeb } = tools();
    const flow = workflow('direct', async (ctx) =>
      callTool(ctx, searchWeb, { query: 'q' }).catch((error: Error & { code?: string }) => error.code),
    );
    const h = await start({ workflows: [flow], policies });
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('TOOL_CALL_DENIED');
    const [decision] = of(await run.history(), 'tool.authorized');
    expect(decision!.actor).toBe('workflow:direct');
    expect(decision!.payload).toMatchObject({ decision: 'deny', reason: 'default deny', policies: [] });
    expect(decision!.payload.grantId).toBeUndefined();
  });

  it('a child start is authorized by the policies (StartChild), and a replay keeps the decision whatever is configured then', async () => {
    const startChildren = PolicyEngine.fromSources([
      {
        name: 'children.cedar',
        text: `@id("reports-only")\npermit (principal, action == Action::"StartChild", resource == Workflow::"report");\n`,
      },
    ]);
    const report = workflow('report', async () => 'done');
    const audit = workflow('audit', async () => 'never');
    const parent = workflow('parent-under-policies', async (ctx) => {
      const first = await ctx.child(report, {});
      const second = await ctx
        .child(audit, {})
        .then(String, (error: Error & { code?: string }) => error.code);
      return { first, second };
    });
    const h = await start({ workflows: [parent, report, audit], policies: startChildren });
    const run = await h.baton.start(parent, {});
    expect(await run.result()).toEqual({ first: 'done', second: 'ACCESS_DENIED' });
    const events = await run.history();
    expect(
      of(events, 'access.decided').map((event) => [
        event.payload.resource,
        event.payload.decision,
        event.payload.reason,
      ]),
    ).toEqual([
      ['workflow:report', 'allow', 'policy'],
      ['workflow:audit', 'deny', 'default deny'],
    ]);
    expect(of(events, 'child.started').map((event) => event.payload.workflow)).toEqual(['report']);

    const bare = await AccessControl.open({}, { clock: Date.now });
    const elsewhere = await replay(events, parent, {
      layers: contextLayers({ access: bare, agents: new AgentRuntime() }),
    });
    expect(elsewhere).toMatchObject({ ok: true, recorded: 'completed', replayed: 'completed' });
  });
});
