import { agent, tool, workflow } from 'baton';
import { scriptedModel } from 'baton/testing';
import { z } from 'zod';

// A read-only tool the agent may call. Its calls and results are journaled.
const lookupPlan = tool({
  name: 'plans.lookup',
  description: 'Looks up what a subscription plan includes',
  input: z.object({ plan: z.string() }),
  effect: 'read',
  execute: async ({ plan }) => ({
    plan,
    includes: plan === 'team' ? ['5 seats', 'shared runs', 'audit export'] : ['1 seat'],
  }),
});

// With OPENAI_API_KEY set the agent uses a real model; without it, a scripted one that works offline:
// first it asks for the tool, then it answers from the tool's result.
const model = process.env.OPENAI_API_KEY
  ? 'openai:gpt-4.1-mini'
  : scriptedModel([
      { toolCalls: [{ name: 'plans.lookup', args: { plan: 'team' } }] },
      (request) => {
        const { includes } = request.toolResults[0]?.output as { includes: string[] };
        return `Welcome aboard! Your team plan includes ${includes.join(', ')}.`;
      },
    ]);

const concierge = agent({
  name: 'concierge',
  description: 'Welcomes new customers',
  instructions: 'Look up the customer’s plan, then welcome them in one sentence that says what it includes.',
  model,
  tools: [lookupPlan],
  maxTurns: 4,
});

/** Loads the customer (a durable step), then has the concierge agent write the welcome. */
export const welcome = workflow('welcome', async (ctx, input: { customer: string }) => {
  const customer = await ctx.step('load-customer', async () => ({ name: input.customer, plan: 'team' }));
  return ctx.runAgent(concierge, `Welcome ${customer.name}, who is on the ${customer.plan} plan.`);
});
