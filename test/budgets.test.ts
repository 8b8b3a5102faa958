import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { Baton } from '../src/baton.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { scriptedModel, type ScriptedTurn } from '../src/testing/index.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventsOfType as of } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach();

// $1 per 1M input tokens, $4 per 1M output tokens: each scripted reply below costs $0.004.
const prices = { scripted: { input: 1, output: 4 } };
const usage = { inputTokens: 2000, outputTokens: 500 };

function researchAgent(turns: ScriptedTurn[], searches: string[], maxTurns = 20) {
  const model = scriptedModel(turns);
  const search = tool({
    name: 'web.search',
    description: 'Searches the web',
    input: z.object({ query: z.string() }),
    effect: 'read',
    execute: async ({ query }) => {
      searches.push(query);
      return { results: [`about ${query}`] };
    },
  });
  return {
    model,
    researcher: agent({
      name: 'researcher',
      description: 'Researches',
      instructions: 'Research.',
      model,
      tools: [search],
      maxTurns,
    }),
  };
}

/** `n` turns that each search something new, then an answer. */
function searchTurns(n: number, answer = 'Here is what I found.'): ScriptedTurn[] {
  return [
    ...Array.from({ length: n }, (_, index) => ({
      toolCalls: [{ name: 'web.search', args: { query: `topic ${index + 1}` } }],
      usage,
    })),
    { text: answer, usage },
  ];
}

describe('budgets', () => {
  it('a budget in money stops a run mid-loop, journaling which budget and why', async () => {
    const searches: string[] = [];
    const { model, researcher } = researchAgent(searchTurns(10), searches);
    const flow = workflow('research', async (ctx) => ctx.runAgent(researcher, 'Research the market'));
    const h = await start({
      workflows: [flow],
      agents: { prices },
      guard: { budgets: { run: { usd: 0.01 } } },
    });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });

    // Two turns cost $0.008; the third would need about $0.0042 more (1024 output tokens reserved).
    expect(model.calls).toHaveLength(2);
    expect(searches).toEqual(['topic 1', 'topic 2']);
    const events = await run.history();
    const [exceeded] = of(events, 'budget.exceeded');
    expect(exceeded!.payload).toMatchObject({
      name: 'researcher',
      scope: 'run',
      metric: 'usd',
      limit: 0.01,
      used: 0.008,
      action: 'stop',
    });
    expect(exceeded!.payload.requested).toBeGreaterThan(0.002);
    expect(exceeded!.actor).toBe('agent:researcher');
    const failed = of(events, 'run.failed')[0]!;
    expect(failed.payload.error).toMatchObject({ name: 'BudgetExceededError', code: 'BUDGET_EXCEEDED' });
    expect(failed.payload.error.message).toContain('run budget');
    // Costs journaled by the model calls add up to what the budget saw.
    const spent = of(events, 'llm.called').reduce((sum, event) => sum + event.payload.cost.usd, 0);
    expect(spent).toBeCloseTo(0.008, 8);
  });

  it('asks a person to extend the budget; the meters rebuild on replay, a second extension is asked for, and the run finishes', async () => {
    const searches: string[] = [];
    const { model, researcher } = researchAgent(searchTurns(3, 'Done: three topics.'), searches);
    const flow = workflow('research', async (ctx) => ctx.runAgent(researcher, 'Research the market'));
    const h = await start({
      workflows: [flow],
      agents: { prices },
      guard: {
        budgets: {
          run: { usd: 0.01 },
          onExceeded: { ask: { approvers: ['group:finance'], extendBy: { usd: 0.005 } } },
        },
        approvals: { groups: { finance: ['user:fiona'] } },
      },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });

    await h.settle(run.runId, 'waiting');
    const [first] = await h.baton.approvals({ runId: run.runId });
    expect(first).toMatchObject({
      kind: 'budget',
      action: 'budget.extend',
      approvers: ['group:finance'],
      members: ['user:fiona'],
    });
    expect(first!.data).toMatchObject({ scope: 'run', metric: 'usd', used: 0.008, extendBy: { usd: 0.005 } });
    expect(model.calls).toHaveLength(2);
    const seqBefore = (await run.get()).lastSeq;
    await h.baton.approve(run.runId, first!.approvalId, { as: 'user:fiona', comment: 'worth it' });

    // $0.012 spent of $0.015 now: the fourth call's reservation goes over, so a person is asked again.
    await h.settle(run.runId, 'waiting', seqBefore + 1);
    const [second] = await h.baton.approvals({ runId: run.runId });
    expect(second?.approvalId).not.toBe(first!.approvalId);
    expect(model.calls).toHaveLength(3);
    await h.baton.approve(run.runId, second!.approvalId, { as: 'user:fiona' });
    expect(await run.result()).toBe('Done: three topics.');
    expect(searches).toEqual(['topic 1', 'topic 2', 'topic 3']);

    const events = await run.history();
    expect(
      of(events, 'budget.exceeded').map((event) => [
        event.payload.action,
        event.payload.used,
        event.payload.limit,
      ]),
    ).toEqual([
      ['ask', 0.008, 0.01],
      ['ask', 0.012, 0.015],
    ]);
    expect(
      of(events, 'approval.decided').map((event) => [
        event.payload.decision,
        event.payload.by,
        event.payload.comment,
      ]),
    ).toEqual([
      ['approved', 'user:fiona', 'worth it'],
      ['approved', 'user:fiona', undefined],
    ]);
  });

  it('stops with BudgetExceededError when the person refuses to extend it', async () => {
    const searches: string[] = [];
    const { researcher } = researchAgent(searchTurns(5), searches);
    const flow = workflow('research', async (ctx) => ctx.runAgent(researcher, 'Research the market'));
    const h = await start({
      workflows: [flow],
      agents: { prices },
      guard: { budgets: { run: { usd: 0.01 }, onExceeded: { ask: {} } } },
    });
    const run = await h.baton.start(flow, {}, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    const [pending] = await h.baton.approvals();
    await expect(h.baton.deny(run.runId, pending!.approvalId, { as: 'user:alice' })).rejects.toMatchObject({
      code: 'APPROVAL_FORBIDDEN',
    });
    await h.baton.deny(run.runId, pending!.approvalId, { as: 'user:bob', comment: 'too expensive' });
    await expect(run.result()).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    const failed = of(await run.history(), 'run.failed')[0]!;
    expect(failed.payload.error.message).toBe(
      'The budget was exhausted and user:bob did not extend it: too expensive.',
    );
  });

  it('counts tool calls per agent and stops the agent at its next turn', async () => {
    const searches: string[] = [];
    const { model, researcher } = researchAgent(searchTurns(5), searches);
    const flow = workflow('research', async (ctx) => ctx.runAgent(researcher, 'Research the market'));
    const h = await start({
      workflows: [flow],
      guard: { budgets: { agents: { researcher: { toolCalls: 2 } } } },
    });
    const run = await h.baton.start(flow, {});
    await expect(run.result()).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(searches).toEqual(['topic 1', 'topic 2']);
    // The third search was refused (the model was told), and its next turn was not allowed.
    expect(model.calls).toHaveLength(3);
    const events = await run.history();
    expect(of(events, 'budget.exceeded')[0]!.payload).toMatchObject({
      scope: 'agent',
      subject: "agent 'researcher'",
      metric: 'toolCalls',
      limit: 2,
      used: 2,
    });
    const refused = of(events, 'tool.verdict').find((event) => event.payload.verdict === 'deny')!;
    expect(refused.payload.interceptor).toBe('guard.budget');
  });

  it('stops a run that has been going longer than its wall-time budget', async () => {
    const { researcher } = researchAgent(searchTurns(1), []);
    const flow = workflow('slow', async (ctx) => {
      await ctx.sleep('2m');
      return ctx.runAgent(researcher, 'Research');
    });
    const h = await start({ workflows: [flow], guard: { budgets: { run: { wallTime: '1m' } } } });
    const run = await h.baton.start(flow, {});
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, 120_000, 'failed');
    const [exceeded] = of(await run.history(), 'budget.exceeded');
    expect(exceeded!.payload).toMatchObject({
      scope: 'run',
      metric: 'wallTimeMs',
      limit: 60_000,
      used: 120_000,
    });
  });

  it('shares a tenant budget across runs through the store, and leaves other tenants alone', async () => {
    const flowOf = (answerAfter: number) => {
      const { researcher } = researchAgent(searchTurns(answerAfter), []);
      return researcher;
    };
    const agents = new Map([
      ['first', flowOf(1)],
      ['second', flowOf(3)],
      ['other', flowOf(1)],
    ]);
    const flow = workflow('research', async (ctx, input: { which: string }) =>
      ctx.runAgent(agents.get(input.which)!, 'Research'),
    );
    const h = await start({
      workflows: [flow],
      guard: { budgets: { tenant: { modelCalls: 3, period: 'day' } } },
    });
    const first = await h.baton.start(flow, { which: 'first' }, { tenant: 'acme' });
    expect(await first.result()).toBe('Here is what I found.');
    const second = await h.baton.start(flow, { which: 'second' }, { tenant: 'acme' });
    await expect(second.result()).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    const [exceeded] = of(await second.history(), 'budget.exceeded');
    expect(exceeded!.payload).toMatchObject({ scope: 'tenant', metric: 'modelCalls', limit: 3, used: 3 });
    expect(exceeded!.payload.subject).toMatch(/^tenant 'acme' \(\d{4}-\d{2}-\d{2}\)$/);
    expect(
      await h.store.budgets!.usage(`tenant:acme:${new Date(h.clock.now()).toISOString().slice(0, 10)}`),
    ).toMatchObject({ modelCalls: 3 });
    const other = await h.baton.start(flow, { which: 'other' }, { tenant: 'globex' });
    expect(await other.result()).toBe('Here is what I found.');
  });
});

describe('budgets: bad configuration', () => {
  it('refuses a budget below zero when Baton opens, naming it', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    try {
      await expect(
        Baton.open({ store, worker: false, guard: { budgets: { run: { usd: -0.5 } } } }),
      ).rejects.toMatchObject({
        code: 'BUDGET_CONFIG',
        message: 'The budget guard.budgets.run.usd is -0.5: a budget cannot be below zero.',
      });
      await expect(
        Baton.open({
          store,
          worker: false,
          guard: { budgets: { agents: { writer: { toolCalls: Number.NaN } } } },
        }),
      ).rejects.toMatchObject({
        code: 'BUDGET_CONFIG',
      });
      await expect(
        Baton.open({ store, worker: false, guard: { budgets: { run: { wallTime: '-5s' } } } }),
      ).rejects.toMatchObject({
        code: 'BUDGET_CONFIG',
      });
    } finally {
      await store.close();
    }
  });

  it('refuses per-tenant budgets on a store without shared budget ledgers', async () => {
    const inner = SqliteStore.open({ path: ':memory:' });
    const store = new Proxy(inner, {
      get: (target, key) => {
        if (key === 'budgets') return undefined;
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    try {
      await expect(
        Baton.open({ store, worker: false, guard: { budgets: { tenant: { usd: 5 } } } }),
      ).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringContaining("the store capability 'budgets'"),
      });
    } finally {
      await inner.close();
    }
  });
});
