import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { tool } from '../../src/agents/tool.ts';
import { workflow } from '../../src/context-layers.ts';
import { graph, graphWorkflow } from '../../src/patterns/graph.ts';
import { machine } from '../../src/patterns/machine.ts';
import { plan } from '../../src/planning/plan.ts';
import { scriptedModel } from '../../src/testing/index.ts';
import { docsLookup } from './docs-tools.ts';

/** Workflows the HTTP server's tests (and the UI's) run: a waiter, an agent that asks for a refund, a graph, a plan. */

/** Waits for a signal `go` after one step, then returns the signal's payload. */
export const waiter = workflow('waiter', async (ctx, input: { name: string }) => {
  const greeting = await ctx.step('greet', () => `Hello, ${input.name}`);
  const answer = await ctx.waitFor<{ reply: string }>('go');
  return { greeting, reply: answer?.reply };
});

export const refunded: { chargeId: string; cents: number }[] = [];

const lookup = docsLookup((word) => `the meaning of ${word}`);

const refund = tool({
  name: 'payments.refund',
  description: 'Refunds a charge',
  input: z.object({ chargeId: z.string(), cents: z.number().int().positive() }),
  effect: 'irreversible',
  execute: async (args) => {
    refunded.push(args);
    return { refunded: args.cents, chargeId: args.chargeId };
  },
});

/**
 * An agent that looks two words up (in parallel), asks for a refund (parked for approval), and
 * answers. Each call of `supportWorkflow` makes a fresh scripted model, so each test has its own script.
 */
export function supportWorkflow(name = 'support') {
  const model = scriptedModel(
    [
      {
        toolCalls: [
          { name: 'docs.lookup', args: { word: 'refund' } },
          { name: 'docs.lookup', args: { word: 'charge' } },
        ],
        usage: { inputTokens: 120, outputTokens: 20 },
      },
      {
        toolCalls: [{ name: 'payments.refund', args: { chargeId: 'ch_42', cents: 1250 } }],
        usage: { inputTokens: 180, outputTokens: 15 },
      },
      (request) => `Refunded: ${JSON.stringify(request.toolResults[0]?.output)}`,
    ],
    { modelId: 'scripted-support' },
  );
  const billing = agent({
    name: 'billing',
    description: 'Refunds',
    instructions: 'You resolve billing tickets.',
    model,
    tools: [lookup, refund],
  });
  return workflow(name, async (ctx, input: { ticket: string }) => {
    const account = await ctx.step('load-account', () => ({ ticket: input.ticket, plan: 'pro' }));
    return ctx.runAgent(billing, `Ticket ${account.ticket}: refund charge ch_42`);
  });
}

/** A diamond graph: plan, then research and draft at once, then merge. */
export const diamond = graphWorkflow(
  graph('diamond', {
    nodes: {
      plan: { run: (ctx) => ctx.step('plan', () => ['a', 'b']) },
      research: { deps: ['plan'], run: (ctx) => ctx.step('research', () => 'facts') },
      draft: { deps: ['plan'], run: (ctx) => ctx.step('draft', () => 'text') },
      merge: { deps: ['research', 'draft'], run: (_ctx, inputs) => `${inputs.research} + ${inputs.draft}` },
    },
  }),
);

/** A plan that fails at one task and is re-planned keeping what finished, then a bounded review loop. */
export const replanned = workflow('replanned', async (ctx, input: { goal: string }) => {
  const step = (id: string, fail = false) => ({
    description: id,
    run: (taskCtx: typeof ctx) =>
      taskCtx.step(
        id,
        () => {
          if (fail) throw new Error(`${id} is down`);
          return id;
        },
        { retry: { maxAttempts: 1 } },
      ),
  });
  const planned = await plan('replanned', {
    planner: (request) =>
      request.revision === 0
        ? {
            tasks: [
              { id: 'sources', description: 'Sources', worker: 'ok' },
              { id: 'figures', description: 'Figures', worker: 'down' },
              { id: 'report', description: 'Report', worker: 'ok', deps: ['sources', 'figures'] },
            ],
          }
        : {
            tasks: [
              { id: 'archive', description: 'Archive', worker: 'ok' },
              { id: 'report', description: 'Report', worker: 'ok', deps: ['sources', 'archive'] },
            ],
          },
    workers: { ok: step('ok'), down: step('down', true) },
  }).run(ctx, input.goal);
  const review = await machine('review', {
    initial: 'review',
    states: {
      review: {
        run: (_ctx, { visit }) => visit,
        next: [
          { to: 'publish', when: (visit: number) => visit >= 3 },
          { to: 'revise', max: 3 },
        ],
      },
      revise: { next: 'review' },
      publish: {},
    },
  }).run(ctx, null);
  return { revision: planned.revision, final: review.final };
});
