import { describe, expect, it } from 'vitest';
import { agent } from '../../src/agents/agent.ts';
import type { AgentContext } from '../../src/context-layers.ts';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import { capabilityOf } from '../../src/agents/agent-capabilities.ts';
import { CapabilityRegistry } from '../../src/routing/capability-registry.ts';
import { costReport } from '../../src/journal/run-model/cost-report.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { LongTermMemory } from '../../src/routing/memory.ts';
import { routingLayer, type RoutingContext } from '../../src/routing/routing-context.ts';
import { startOpenAICompatibleServer } from '../../src/testing/index.ts';
import { harness, tempStore } from '../support/harness.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';

const cleanup = cleanupsAfterEach();

describe('routing with the agents layer', () => {
  it('routes a task to the cheaper capable agent by its model price, runs it, remembers, and reports cost by agent and model', async () => {
    const server = await startOpenAICompatibleServer((request) => ({
      text: `${request.model} handled it`,
      usage: { promptTokens: 1000, completionTokens: 100 },
    }));
    cleanup.push(() => server.close());
    const prices = { 'large-model': { input: 10, output: 30 }, 'small-model': { input: 0.5, output: 1.5 } };
    const careful = agent({
      name: 'billing-careful',
      description: 'Refunds duplicate charges on card invoices and resolves invoice disputes',
      instructions: 'Resolve billing tickets.',
      model: `openai-compatible:${server.url}#large-model`,
    });
    const quick = agent({
      name: 'billing-quick',
      description: 'Refunds charges',
      instructions: 'Resolve billing tickets.',
      model: `openai-compatible:${server.url}#small-model`,
    });
    const shipping = agent({
      name: 'shipping',
      description: 'Tracks parcels and delivery delays',
      instructions: 'Answer shipping questions.',
      model: `openai-compatible:${server.url}#small-model`,
    });
    const team = { [careful.name]: careful, [quick.name]: quick, [shipping.name]: shipping };
    expect(capabilityOf(careful, { prices }).cost).toBe(40);
    expect(capabilityOf(quick, { prices }).cost).toBe(2);

    const temp = await tempStore();
    cleanup.push(() => temp.dispose());
    const embedder = new LexicalEmbedder();
    const registry = await CapabilityRegistry.open({
      embedder,
      records: temp.store.vectorRecords,
      capabilities: Object.values(team).map((member) => capabilityOf(member, { prices })),
      log: () => {},
    });
    const memory = new LongTermMemory({ records: temp.store.vectorRecords, embedder });
    const support = defineWorkflow<
      { ticket: string; costBias: number },
      unknown,
      AgentContext & RoutingContext
    >('support', async (ctx, input) => {
      const decision = await ctx.route(input.ticket, { minScore: 0.1, costBias: input.costBias });
      const answer = await ctx.runAgent(team[decision.chosen!]!, input.ticket);
      await ctx.memory.remember(`Ticket '${input.ticket}' went to ${decision.chosen}`, {
        agent: `agent:${decision.chosen!}`,
      });
      return { chosen: decision.chosen, answer };
    });
    const h = await harness({
      workflows: [support],
      store: temp.store,
      agents: { prices },
      layers: [routingLayer({ registry, memory })],
    });
    cleanup.push(() => h.close());

    const ticket = 'Please refund the duplicate charge on my card invoice';
    const thrifty = await h.baton.start(support, { ticket, costBias: 1 });
    expect(await thrifty.result()).toEqual({ chosen: 'billing-quick', answer: 'small-model handled it' });
    const best = await h.baton.start(support, { ticket, costBias: 0 });
    expect(await best.result()).toEqual({ chosen: 'billing-careful', answer: 'large-model handled it' });

    const thriftyEvents = await thrifty.history();
    const decided = thriftyEvents.find((event) => event.type === 'route.decided')!.payload;
    expect(decided.candidates.find((c) => c.name === 'billing-careful')).toMatchObject({
      cost: 40,
      eligible: true,
    });
    const report = costReport([...thriftyEvents, ...(await best.history())]);
    expect(report.byAgent.find((line) => line.agent === 'billing-quick')).toEqual({
      agent: 'billing-quick',
      calls: 1,
      inputTokens: 1000,
      outputTokens: 100,
      usd: 0.00065,
      unpriced: 0,
    });
    expect(report.byAgent.find((line) => line.agent === 'billing-careful')).toEqual({
      agent: 'billing-careful',
      calls: 1,
      inputTokens: 1000,
      outputTokens: 100,
      usd: 0.013,
      unpriced: 0,
    });
    expect(report.byModel.find((line) => line.model === 'openai-compatible:small-model')!.calls).toBe(1);
    expect(report.byRun.find((line) => line.runId === thrifty.runId)!.usd).toBe(0.00065);
    expect(
      await memory.search('default', 'agent:billing-quick', 'duplicate charge refund', { tokens: 100 }),
    ).toHaveLength(1);
  });
});
