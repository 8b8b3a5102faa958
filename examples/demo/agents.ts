// The demo's agents. Offline, each follows a script (a real AI SDK model that answers from what it
// is actually sent: tool results, the task); with BATON_MODEL set, all of them use that model.
import { z } from 'zod';
import { agent, type ToolDefinition } from 'baton';
import { scriptedModel, type ScriptedRequest, type ScriptedTurn } from 'baton/testing';
import type { createTools } from './tools.ts';

type Tools = Awaited<ReturnType<typeof createTools>>;

/** The model every agent uses: BATON_MODEL (e.g. `openai:gpt-4.1-mini`), or its script. */
function modelFor(name: string, script: readonly ScriptedTurn[]) {
  return (
    process.env.BATON_MODEL || scriptedModel(script, { modelId: `scripted-${name}`, provider: 'offline' })
  );
}

/** A tool result as the model was sent it: the value, or its JSON text parsed back. */
function resultOf(request: ScriptedRequest, index: number): any {
  const output = request.toolResults[index]?.output;
  if (typeof output !== 'string') return output;
  try {
    return JSON.parse(output);
  } catch {
    return output;
  }
}

/** Numbers quoted in tool results, for scripts that answer from what they were given. */
function passages(request: ScriptedRequest): { source: string; passage: string }[] {
  const found: { source: string; passage: string }[] = [];
  for (const [index] of request.toolResults.entries()) {
    const output = resultOf(request, index) as unknown;
    const list = Array.isArray(output) ? output : (output as { value?: unknown })?.value;
    for (const hit of Array.isArray(list) ? list : []) {
      if (hit && typeof hit === 'object' && 'passage' in hit)
        found.push(hit as { source: string; passage: string });
    }
  }
  return found;
}

function firstSentence(text: string): string {
  return text.split(/(?<=\.)\s/)[0] ?? text;
}

export function createAgents(tools: Tools, dataOrigin: string) {
  const triage = agent({
    name: 'triage',
    description: 'Decides whether a request needs research or has a quick answer.',
    instructions:
      'Classify the request. "research" when it needs facts, numbers and a written brief; "quick" for a one-line answer.',
    model: modelFor('triage', [
      {
        output: {
          route: 'research',
          reason: 'A fleet decision needs costs, risks and a written brief, not a one-liner.',
        },
      },
    ]),
    output: z.object({ route: z.enum(['research', 'quick']), reason: z.string() }),
  });

  const costResearcher = agent({
    name: 'cost-researcher',
    description: 'Finds purchase, energy and maintenance costs in the briefing documents.',
    instructions:
      'Search the documents for costs of electric and diesel buses. Quote figures with their source.',
    model: modelFor('cost-researcher', [
      {
        reasoning: 'Two searches at once: vehicle and energy costs, then maintenance.',
        toolCalls: [
          { name: 'docs.search', args: { query: 'battery electric bus cost per km energy', limit: 2 } },
          { name: 'docs.search', args: { query: 'diesel fuel maintenance cost per km', limit: 2 } },
        ],
      },
      (request) =>
        `Costs found:\n${passages(request)
          .map((hit) => `- ${firstSentence(hit.passage)} (${hit.source})`)
          .join('\n')}`,
    ]),
    tools: [tools.search],
  });

  const analyst = agent({
    name: 'fleet-analyst',
    description: 'Works out yearly savings from the fleet data with a calculator.',
    instructions: `Fetch the fleet data from ${dataOrigin}/fleet.json, then compute the yearly running-cost saving.`,
    model: modelFor('fleet-analyst', [
      { toolCalls: [{ name: 'web.fetch', args: { url: `${dataOrigin}/fleet.json` } }] },
      (request) => {
        const body = JSON.parse((resultOf(request, 0) as { body: string }).body) as FleetData;
        const expression = `(${body.dieselFuelPerKm}+${body.dieselMaintenancePerKm}-${body.electricEnergyPerKm}-${body.electricMaintenancePerKm})*${body.kmPerBusPerYear}*${body.buses}`;
        return {
          reasoning: 'Saving per km times km per year times buses.',
          toolCalls: [{ name: 'calc', args: { expression } }],
        };
      },
      (request) => {
        const value = (resultOf(request, 0) as { value: number }).value;
        return `Switching the ${FLEET.buses} buses saves about ${Math.round(value).toLocaleString('en')} EUR a year in energy and maintenance.`;
      },
    ]),
    tools: [tools.fetchTool, tools.calculator],
  });

  const riskReviewer = agent({
    name: 'risk-reviewer',
    description: 'Lists the risks and lead times from the documents.',
    instructions: 'Search the documents for risks, grid lead times and winter performance.',
    model: modelFor('risk-reviewer', [
      { toolCalls: [{ name: 'docs.search', args: { query: 'risks grid winter availability', limit: 3 } }] },
      (request) =>
        `Risks:\n${passages(request)
          .map((hit) => `- ${firstSentence(hit.passage)} (${hit.source})`)
          .join('\n')}`,
    ]),
    tools: [tools.search],
  });

  const writer = agent({
    name: 'writer',
    description: 'Writes a short decision brief from research findings.',
    instructions:
      'Write a decision brief of at most 200 words: recommendation, costs, savings, risks, next step.',
    model: modelFor('writer', [
      (request) => {
        const findings = JSON.parse(request.lastUserText.split('Context:')[1] ?? '{}') as Record<
          string,
          string
        >;
        const bullets = (text = '') => text.split('\n').filter((line) => line.startsWith('- '));
        return [
          'Recommendation: electrify the fleet in phases, starting with the 40 buses of the north depot.',
          '',
          `Savings: ${findings.savings ?? 'not computed'}`,
          'Costs:',
          ...bullets(findings.costs).slice(0, 3),
          'Risks:',
          ...bullets(findings.risks).slice(0, 3),
          '',
          'Next step: apply to the clean transport fund and order the grid upgrade now (18 months lead time).',
        ].join('\n');
      },
    ]),
  });

  const publisher = agent({
    name: 'publisher',
    description: 'Publishes an approved brief to the outbox.',
    instructions: 'Publish the brief you are given with outbox.publish, then confirm.',
    model: modelFor('publisher', [
      (request) => ({
        toolCalls: [
          {
            name: 'outbox.publish',
            args: {
              title: 'Electrifying the city bus fleet',
              body: JSON.parse(request.lastUserText.split('Context:')[1] ?? '""') as string,
            },
          },
        ],
      }),
      'Published the brief to the outbox.',
    ]),
    tools: [tools.publish as ToolDefinition],
  });

  return { triage, costResearcher, analyst, riskReviewer, writer, publisher };
}

export interface FleetData {
  buses: number;
  kmPerBusPerYear: number;
  dieselFuelPerKm: number;
  dieselMaintenancePerKm: number;
  electricEnergyPerKm: number;
  electricMaintenancePerKm: number;
}

/** What the demo's local data server answers at /fleet.json. */
export const FLEET: FleetData = {
  buses: 40,
  kmPerBusPerYear: 60_000,
  dieselFuelPerKm: 0.61,
  dieselMaintenancePerKm: 0.3,
  electricEnergyPerKm: 0.24,
  electricMaintenancePerKm: 0.18,
};
