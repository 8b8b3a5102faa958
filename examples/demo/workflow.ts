// The flagship workflow: route the request, research it with three agents in parallel, draft a brief,
// and publish it — the publish tool is irreversible, so a person approves it first.
import { agent, parallel, route, workflow, type AgentContext } from 'baton';
import { scriptedModel } from 'baton/testing';
import type { createAgents } from './agents.ts';

type Agents = ReturnType<typeof createAgents>;

export interface BriefInput {
  request: string;
}

export function createBriefWorkflow(agents: Agents) {
  const quick = agent({
    name: 'quick-answer',
    description: 'Answers simple questions in one line.',
    instructions: 'Answer in one line.',
    model: process.env.BATON_MODEL || scriptedModel(['Yes.']),
  });

  async function research(ctx: AgentContext, request: string) {
    const { values } = await parallel(
      ctx,
      { costs: agents.costResearcher, savings: agents.analyst, risks: agents.riskReviewer },
      { name: 'research', input: request },
    );
    const draft = await ctx.runAgent(agents.writer, {
      task: `Write the decision brief for: ${request}`,
      context: values,
    });
    const receipt = await ctx.runAgent(agents.publisher, { task: 'Publish this brief.', context: draft });
    return { draft, receipt };
  }

  return workflow('research-brief', async (ctx, input: BriefInput) =>
    route(ctx, {
      name: 'triage',
      input: input.request,
      classify: agents.triage,
      routes: {
        research: { description: 'Needs facts, numbers and a written brief.', run: research },
        quick: {
          description: 'A one-line answer is enough.',
          run: async (ctx: AgentContext, request: string) => ({
            draft: await ctx.runAgent(quick, request),
            receipt: 'none',
          }),
        },
      },
    }),
  );
}
