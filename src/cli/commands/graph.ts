import { InvalidArgumentError, UnknownWorkflowError } from '../../errors.ts';
import { formatGraph, formatMachine } from '../../patterns/graph-format.ts';
import { graphOf } from '../../patterns/graph.ts';
import { machineOf } from '../../patterns/machine.ts';
import { patternGraphs, type GraphState } from '../../journal/run-model/run-graphs.ts';
import { formatPatternGraphs } from '../../patterns/pattern-graph-format.ts';
import { formatPlans, plansOf, type PlanHistory } from '../../planning/plan-format.ts';
import { defineCommand } from '../command.ts';

export const graph = defineCommand({
  name: 'graph',
  summary: "Print a graph or state machine workflow's structure, or the plans and loops a run took",
  args: [
    {
      name: 'workflow',
      required: true,
      description:
        'A workflow made with graphWorkflow or machineWorkflow, named in baton.config.ts; or a run id',
    },
  ],
  details: [
    'Nodes on one level can run at once: each node sits one level below its deepest dependency. A node',
    'marked ? runs only when its condition holds; an edge drawn --> does not skip its dependent when the',
    'dependency is skipped. --json prints { name, nodes, edges, levels }.',
    'A state machine prints its edges with their bounds, and its cycles.',
    'Given a run id, prints the plans the run made at run time (each revision: its levels, whom each',
    'task ran on and how it ended, what it replaced and why), the edges its state machines took, and its',
    'route, parallel and sequential patterns: each router with its candidates (the chosen one marked →,',
    'the reason and scores as conditions), each fork with its branches and how they joined, each',
    "sequence's stages. --json adds them as `patterns` (the graphs GET /api/runs/{id}/graph sends).",
    '',
    'Examples:',
    '  baton graph research --json',
    '  baton graph run_01k…',
  ].join('\n'),
  async run(context) {
    const { args, out, json } = context;
    if (args.workflow!.startsWith('run_')) {
      const baton = await context.openBaton();
      const run = await context.findRun(baton, args.workflow!);
      const events = await baton.store.readEvents(run.runId, 1);
      const history = plansOf(events);
      const patterns = patternGraphs(events);
      if (json) out.json({ ...history, patterns });
      else for (const line of formatRun(history, patterns).split('\n')) out.line(line);
      return;
    }
    const { config } = await context.loadConfig({ required: true });
    const workflows = config?.workflows ?? [];
    const name = args.workflow!;
    const definition = workflows.find((candidate) => candidate.name === name);
    if (!definition)
      throw new UnknownWorkflowError({ name, known: workflows.map((candidate) => candidate.name) });
    const machine = machineOf(definition);
    if (machine) {
      if (json) out.json(machine.describe());
      else out.line(formatMachine(machine.describe()));
      return;
    }
    const found = graphOf(definition);
    if (!found) {
      const graphs = workflows.filter((candidate) => graphOf(candidate)).map((candidate) => candidate.name);
      throw new InvalidArgumentError(
        `Workflow '${name}' is not a graph workflow (made with graphWorkflow(graph)), so it has no DAG to print.` +
          (graphs.length > 0 ? ` Graph workflows: ${graphs.join(', ')}.` : ''),
      );
    }
    const description = found.describe();
    if (json) out.json(description);
    else out.line(formatGraph(description));
  },
});

/** A run's plans and machines, then its patterns; only the patterns when it has no plan or machine. */
function formatRun(history: PlanHistory, patterns: readonly GraphState[]): string {
  const planned = history.plans.length > 0 || history.machines.length > 0;
  if (patterns.length === 0) return formatPlans(history);
  return planned
    ? `${formatPlans(history)}\n${formatPatternGraphs(patterns)}`
    : formatPatternGraphs(patterns);
}
