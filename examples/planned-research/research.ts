// The planned-research example's parts: a planner agent that turns the request into a plan, the
// workers the plan's tasks run on, and a review loop. Offline, every agent follows a script that
// answers from what it is actually sent (the request, tool results, the inputs of its task); with
// BATON_MODEL set (e.g. openai:gpt-4.1-mini), all of them use that model.
import { z } from 'zod';
import { agent, machine, plan, planSchema, tool, workflow, type AgentContext } from 'baton';
import type { PlanSpec } from 'baton/patterns';
import { scriptedModel, type ScriptedRequest, type ScriptedTurn } from 'baton/testing';

/** A small library: what the `library` agent's search tool reads. */
const LIBRARY: Record<string, string> = {
  costs: 'A battery bus costs about 750k USD against 500k for diesel; fuel and upkeep save 40k a year.',
  emissions: 'A battery bus avoids about 90 tonnes of CO2 a year on the city grid mix.',
  risks: 'Winter range drops by up to 30%; depot charging needs a grid upgrade first.',
  funding: 'The federal Low-No programme pays up to 80% of the price difference.',
  maintenance: 'Battery buses need fewer brake jobs and no oil changes; batteries last 8–12 years.',
};

const FLEET = 'The city runs 120 diesel buses.';

function modelFor(name: string, turn: ScriptedTurn) {
  return (
    process.env.BATON_MODEL ||
    scriptedModel(
      Array.from({ length: 50 }, () => turn),
      { modelId: `scripted-${name}`, provider: 'offline' },
    )
  );
}

/** The text of the context a task was given (its goal and its inputs), as the model was sent it. */
function sent(request: ScriptedRequest): string {
  return JSON.stringify(request.prompt);
}

/** The offline planner reads the request for the aspects it asks about, and plans one task per aspect. */
function offlinePlan(request: ScriptedRequest): PlanSpec {
  const text = request.lastUserText.toLowerCase();
  const goal = /Plan how to reach this goal: (.*)/.exec(request.lastUserText)?.[1]?.toLowerCase() ?? text;
  const aspects = Object.keys(LIBRARY).filter((aspect) => goal.includes(aspect.slice(0, 4)));
  const statisticsDown = text.includes("task 'fleet' failed");
  const research = aspects.map((aspect) => ({
    id: aspect,
    description: `Find what the documents say about ${aspect}`,
    capability: `read the library documents about ${aspect}`,
  }));
  const fleet = statisticsDown
    ? { id: 'fleet-archive', description: 'Find the fleet size in the documents', worker: 'library' }
    : { id: 'fleet', description: 'Get the fleet size from the statistics service', worker: 'statistics' };
  return {
    tasks: [
      ...research,
      fleet,
      {
        id: 'brief',
        description: 'Write the brief',
        worker: 'writer',
        deps: [...research.map((task) => task.id), fleet.id],
      },
    ],
  };
}

export function createResearch(options: { statisticsUrl: string }) {
  const search = tool({
    name: 'library.search',
    description: 'Search the library for a topic; returns the passage found.',
    input: z.object({ topic: z.string() }),
    effect: 'read',
    execute: async ({ topic }) => {
      const key = Object.keys(LIBRARY).find((aspect) => topic.toLowerCase().includes(aspect.slice(0, 4)));
      return key ? { source: `${key}.md`, passage: LIBRARY[key] } : { source: 'fleet.md', passage: FLEET };
    },
  });
  const planner = agent({
    name: 'planner',
    description: 'Plans research as a graph of tasks',
    instructions:
      'Break the request into research tasks that can run at the same time, one per aspect it asks about, ' +
      'then one task that writes the brief from them. Route research by capability; name the writer.',
    model: modelFor('planner', (request) => ({ output: offlinePlan(request) })),
    output: planSchema,
  });
  const library = agent({
    name: 'library',
    description: 'Reads the library documents about a topic and reports what they say',
    instructions: 'Search the library for the topic of your task and report the passage with its source.',
    model: modelFor('library', (request) =>
      request.toolResults.length === 0
        ? { toolCalls: [{ name: 'library.search', args: { topic: request.lastUserText.split('\n')[0]! } }] }
        : `${String((request.toolResults[0]!.output as { passage?: string }).passage ?? request.toolResults[0]!.output)}`,
    ),
    tools: [search],
  });
  const writer = agent({
    name: 'writer',
    description: 'Writes a short brief from research notes',
    instructions: 'Write a brief from the notes you are given, one line per finding.',
    model: modelFor('writer', (request) => {
      const text = sent(request);
      const revising = request.lastUserText.includes('Revise');
      const found = Object.entries({ ...LIBRARY, fleet: FLEET }).filter(([, passage]) =>
        text.includes(passage),
      );
      const lines = found.map(([topic, passage]) => `- ${passage}${revising ? ` (${topic}.md)` : ''}`);
      return `Brief${revising ? ' (revised: sources cited)' : ''}\n${lines.join('\n')}`;
    }),
  });
  const reviewer = agent({
    name: 'reviewer',
    description: 'Reviews a brief',
    instructions: 'Approve the brief only when every finding names its source.',
    model: modelFor('reviewer', (request) => ({
      output: sent(request).includes('sources cited')
        ? { approved: true, comments: 'Every finding is sourced.' }
        : { approved: false, comments: 'Cite the source of each finding.' },
    })),
    output: z.object({ approved: z.boolean(), comments: z.string() }),
  });

  const research = plan<AgentContext>('research', {
    description: 'Plans the research from the request, then runs it',
    planner,
    workers: {
      library,
      writer,
      statistics: {
        description: 'Queries the live statistics service for fleet figures',
        run: (ctx) =>
          ctx.step(
            'statistics',
            async () => {
              const response = await fetch(options.statisticsUrl);
              if (!response.ok) throw new Error(`the statistics service answered ${response.status}`);
              return response.json();
            },
            { retry: { maxAttempts: 1 } },
          ),
      },
    },
    routing: { costBias: 0.3 },
    maxRevisions: 2,
  });

  const review = machine<{ brief: string }, AgentContext>('review', {
    initial: 'review',
    states: {
      review: {
        run: (ctx, { input, outputs }) =>
          ctx.runAgent(reviewer, { task: 'Review this brief.', context: outputs.revise ?? input.brief }),
        next: [
          { to: 'publish', when: (verdict: { approved: boolean }) => verdict.approved },
          { to: 'revise', max: 2 },
          'escalate',
        ],
      },
      revise: {
        run: (ctx, { previous, input }) =>
          ctx.runAgent(writer, {
            task: 'Revise the brief as the reviewer asks.',
            context: { brief: input.brief, review: previous },
          }),
        next: 'review',
      },
      publish: { run: (_ctx, { outputs }) => outputs.revise ?? outputs.review },
      escalate: {},
    },
  });

  return workflow('planned-research', async (ctx, input: { request: string }) => {
    const planned = await research.run(ctx, input.request);
    const brief = String(planned.outputs.brief);
    const reviewed = await review.run(ctx, { brief });
    return {
      brief: reviewed.final === 'publish' ? reviewed.output : brief,
      revision: planned.revision,
      review: reviewed.edges,
    };
  });
}
