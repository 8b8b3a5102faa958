import { describe, expect, it } from 'vitest';
import { agent, InvalidArgumentError, RunFailedError, workflow } from '../../src/index.ts';
import { route } from '../../src/patterns/route.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { harnessesClosedAfterEach, parked } from '../support/harness.ts';
import { ofType } from '../support/journal-events.ts';

const { openBaton } = harnessesClosedAfterEach();

const routes = {
  billing: async (_ctx: unknown, ticket: string) => `billing handled "${ticket}"`,
  tech: async (_ctx: unknown, ticket: string) => `tech handled "${ticket}"`,
};

describe('route', () => {
  it('classifies, runs the chosen route and journals the decision with its candidates and reason', async () => {
    const triage = workflow('triage', async (ctx, ticket: string) =>
      route(ctx, {
        name: 'triage',
        input: ticket,
        classify: (text) => ({
          route: text.includes('refund') ? 'billing' : 'tech',
          reason: 'it mentions a refund',
          scores: { billing: 0.9, tech: 0.1 },
        }),
        routes,
      }),
    );
    const baton = await openBaton({ workflows: [triage] });
    const run = await baton.start(triage, 'please refund my order');
    expect(await run.result()).toBe('billing handled "please refund my order"');
    const [decided, ...more] = ofType(await run.history(), 'route.decided');
    expect(more).toHaveLength(0);
    expect(decided!.payload).toEqual({
      op: 1,
      name: 'triage',
      chosen: 'billing',
      candidates: [
        { name: 'billing', score: 0.9 },
        { name: 'tech', score: 0.1 },
      ],
      reason: 'it mentions a refund',
      decidedBy: 'function',
      answer: { route: 'billing', reason: 'it mentions a refund', scores: { billing: 0.9, tech: 0.1 } },
    });
  });

  it('takes the fallback when the answer names no route, and says why', async () => {
    const triage = workflow('fallback', async (ctx, ticket: string) =>
      route(ctx, { input: ticket, classify: () => 'sales', routes, fallback: 'tech' }),
    );
    const baton = await openBaton({ workflows: [triage] });
    const run = await baton.start(triage, 'I want to buy');
    expect(await run.result()).toBe('tech handled "I want to buy"');
    const [decided] = ofType(await run.history(), 'route.decided');
    expect(decided!.payload).toMatchObject({
      chosen: 'tech',
      fallback: true,
      answer: 'sales',
      reason: `the classifier answered "sales", which names no route; took the fallback 'tech'`,
    });
  });

  it('fails with RouteNotFoundError, journaled, when no route fits and there is no fallback', async () => {
    const triage = workflow('nowhere', async (ctx, ticket: string) =>
      route(ctx, { input: ticket, classify: () => 'sales', routes }),
    );
    const baton = await openBaton({ workflows: [triage] });
    const run = await baton.start(triage, 'I want to buy');
    const error = await run.result().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).error).toMatchObject({
      name: 'RouteNotFoundError',
      code: 'ROUTE_NOT_FOUND',
    });
    const [failed] = ofType(await run.history(), 'route.failed');
    expect(failed!.payload).toMatchObject({
      reason: 'the classifier answered "sales", which names no route',
      answer: 'sales',
    });
  });

  it('runs a step classifier as a journaled step', async () => {
    let calls = 0;
    const triage = workflow('by-step', async (ctx, ticket: string) =>
      route(ctx, {
        input: ticket,
        classify: { step: 'classify', run: (text) => (calls++, text.includes('error') ? 'tech' : 'billing') },
        routes,
      }),
    );
    const baton = await openBaton({ workflows: [triage] });
    const run = await baton.start(triage, 'error 500 on login');
    expect(await run.result()).toBe('tech handled "error 500 on login"');
    const history = await run.history();
    expect(ofType(history, 'step.completed').map((event) => event.payload)).toEqual([
      { op: 2, name: 'classify', attempt: 1, result: 'tech' },
    ]);
    expect(ofType(history, 'route.decided')[0]!.payload).toMatchObject({
      chosen: 'tech',
      decidedBy: 'step:classify',
      reason: "the classifier chose 'tech'",
    });
    expect(calls).toBe(1);
  });

  it('on replay takes the journaled decision and does not classify again', async () => {
    let calls = 0;
    let mood = 'billing';
    const ran: string[] = [];
    const triage = workflow('replayed', async (ctx, ticket: string) => {
      const answer = await route(ctx, {
        input: ticket,
        classify: () => (calls++, mood),
        routes: {
          billing: async (inner, text: string) =>
            inner.step('bill', () => (ran.push('billing'), `billed ${text}`)),
          tech: async (inner, text: string) => inner.step('fix', () => (ran.push('tech'), `fixed ${text}`)),
        },
      });
      const extra = await ctx.waitFor<string>('more');
      return `${answer} + ${extra}`;
    });
    const baton = await openBaton({ workflows: [triage] });
    const run = await baton.start(triage, 'T-1');
    await parked(baton, run.runId);
    mood = 'tech'; // Were the classifier asked again, it would now choose another route.
    await baton.signal(run.runId, 'more', 'thanks');
    expect(await run.result()).toBe('billed T-1 + thanks');
    expect(calls).toBe(1);
    expect(ran).toEqual(['billing']);
    expect(ofType(await run.history(), 'route.decided')).toHaveLength(1);
  });

  it('asks an agent classifier to choose among the routes described, then runs the route agent', async () => {
    const classifierModel = scriptedModel(['I would send this to billing.']);
    const triageAgent = agent({
      name: 'triage',
      description: 'Sorts tickets',
      instructions: 'Pick a route.',
      model: classifierModel,
    });
    const billingModel = scriptedModel([(request) => `Refunded: ${request.lastUserText}`]);
    const billing = agent({
      name: 'billing',
      description: 'Refunds, invoices and charges',
      instructions: 'Resolve it.',
      model: billingModel,
    });
    const support = workflow('support', async (ctx, ticket: string) => {
      const answer = await route(ctx, {
        input: ticket,
        classify: triageAgent,
        routes: { billing, tech: { description: 'Bugs and outages', run: async () => 'tech' } },
      });
      const more = await ctx.waitFor<string>('more');
      return `${answer} / ${more}`;
    });
    const baton = await openBaton({ workflows: [support] });
    const run = await baton.start(support, 'refund order 7');
    await parked(baton, run.runId);
    await baton.signal(run.runId, 'more', 'done');
    expect(await run.result()).toBe('Refunded: refund order 7 / done');
    // Replay took the journaled answers: each model was asked once.
    expect(classifierModel.calls).toHaveLength(1);
    expect(billingModel.calls).toHaveLength(1);
    const asked = classifierModel.calls[0]!.lastUserText;
    expect(asked).toContain('- billing: Refunds, invoices and charges');
    expect(asked).toContain('- tech: Bugs and outages');
    expect(ofType(await run.history(), 'route.decided')[0]!.payload).toMatchObject({
      chosen: 'billing',
      decidedBy: 'agent:triage',
      reason: 'the classifier answered "I would send this to billing."',
    });
  });

  it('checks its options at the door', async () => {
    const checks = workflow('door', async (ctx) => {
      const problems: string[] = [];
      for (const options of [
        { input: 1, classify: () => 'x', routes: {} },
        { input: 1, classify: () => 'x', routes, fallback: 'nowhere' },
        { input: 1, classify: 42, routes },
      ]) {
        await route(ctx, options as never).catch((error: unknown) => {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          problems.push((error as Error).message);
        });
      }
      return problems;
    });
    const baton = await openBaton({ workflows: [checks] });
    const run = await baton.start(checks, null);
    expect(await run.result()).toEqual([
      "Route 'route' needs at least one route.",
      "Route 'route' falls back to 'nowhere', which is not one of its routes (billing, tech).",
      "Route 'route' needs a classifier: a function, an agent or { step, run }.",
    ]);
    // Nothing was journaled for the rejected calls.
    expect(ofType(await run.history(), 'route.decided', 'route.failed')).toHaveLength(0);
  });
});
